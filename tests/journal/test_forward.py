"""A simulated forward test: the bundled history played out day by day as the market.

The store holds AAPL's bars up to day d; `fcast signal AAPL --journal fwd` is called after
the close of d; then the store gains day d + 1, and so on for 60 days. The journal must then
verify, and its score must equal the backtest's over the same days: the journaled P(up) are
each that day's row of one backtest run through the last day (run here separately, never
cut), its accuracy is computed here by hand from those rows, and the strategy traded on those
rows by the backtest engine gives the live figures exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_run import run

import forecast as fc
from forecast.data.store import Store

pytestmark = pytest.mark.slow

OPTIONS = ("--model", "logreg", "--start", "2014-06-01", "--retrain-every", "21", "--no-refresh")
DAYS = 60


@pytest.fixture
def history():
    return fc.load("AAPL", source="bundled").loc["2014-06-01":]


def play(capsys, history, first: int, days: int, name: str = "fwd") -> list[pd.Timestamp]:
    """Signal after each close from history.index[first] for `days` days, journaling each."""
    store, made = Store(), []
    for i in range(first, first + days):
        store.write(history.iloc[: i + 1], "AAPL", source="test")
        code, out, err = run(capsys, "signal", "AAPL", *OPTIONS, "--journal", name, "--json")
        assert code == 0, err
        made.append(pd.Timestamp(json.loads(out)["as_of"]))
    store.write(history.iloc[: first + days + 2], "AAPL", source="test")  # the last outcomes arrive
    return made


def test_a_60_day_forward_test_verifies_and_scores_as_the_backtest(capsys, history, tmp_path):
    first = len(history) - DAYS - 5
    days = play(capsys, history, first, DAYS)
    assert days == list(history.index[first:first + DAYS])

    code, out, err = run(capsys, "journal", "verify", "fwd")
    assert code == 0 and f"{DAYS} entries, chain intact" in out, err
    code, out, err = run(capsys, "journal", "show", "fwd", "--json")
    entries = json.loads(out)
    test_start = entries[0]["config"]["walk_forward"]["test_start"]  # pinned by the first signal
    assert {e["config_hash"] for e in entries} == {entries[0]["config_hash"]}

    # One backtest through the last outcome, with the journal's pinned folds: never cut.
    whole = fc.run_backtest(fc.load("AAPL"), model="logreg",
                            walk_forward_kwargs={"retrain_every": 21, "test_start": test_start, "seed": 0})
    rows = whole.predictions.set_index("date").loc[days]
    journaled = pd.DataFrame([e["signals"][0] for e in entries]).set_index("as_of")
    np.testing.assert_array_equal(journaled["prob_up"].to_numpy(), rows["prob_up"].to_numpy())
    np.testing.assert_array_equal(journaled["target"].to_numpy(), rows["target"].to_numpy())

    code, out, err = run(capsys, "journal", "score", "fwd", "--json")
    assert code == 0, err
    (score,) = json.loads(out)["tickers"]
    assert score["days"] == DAYS and score["pending"] == 0 and score["differing_days"] == 0
    hits = ((rows["prob_up"] > 0.5) == (rows["actual_up"] > 0.5)).mean()  # by hand
    assert score["live"]["accuracy"] == pytest.approx(hits, abs=1e-15)
    assert score["live"] == score["backtest"]
    traded = fc.run_backtest(fc.load("AAPL").loc[:days[-1] + pd.Timedelta(days=5)], rows[["prob_up"]],
                             strategy="long-only")
    equity = traded.equity["strategy"]
    growth = equity.iloc[-1] / equity.loc[days[0]] - 1
    assert score["live"]["total_return"] == pytest.approx(growth, rel=1e-12)
    # the verdict: live daily returns against the backtest's before the journal, Welch's z by hand
    live = equity.pct_change().dropna()
    live = live[live.index > days[0]]
    before = whole.equity["strategy"].pct_change().dropna()
    before = before[before.index < days[0]]
    z = (live.mean() - before.mean()) / np.sqrt(live.var() / len(live) + before.var() / len(before))
    assert score["verdict"]["z"] == pytest.approx(z, rel=1e-9)

    code, out, err = run(capsys, "journal", "list")
    assert code == 0 and "fwd" in out and "intact" in out
    page = tmp_path / "journal.html"
    code, _, err = run(capsys, "journal", "show", "fwd", "--html", page)
    assert code == 0, err
    text = page.read_text()
    assert "Journal fwd" in text and 'data-chart="journal-AAPL"' in text and "verdict" in text


def test_back_filling_a_past_day_is_refused(capsys, history):
    Store().write(history, "AAPL", source="test")
    code, _, err = run(capsys, "signal", "AAPL", *OPTIONS, "--as-of", str(history.index[-30].date()),
                       "--journal", "late")
    assert code == 1 and "no back-filling" in err
    assert run(capsys, "journal", "verify", "late")[0] == 1  # nothing was written: no journal


def test_journal_add_takes_a_document_from_a_file_and_refuses_junk(capsys, history, tmp_path):
    Store().write(history, "AAPL", source="test")
    code, out, err = run(capsys, "signal", "AAPL", *OPTIONS, "--test-start", "2017-06-01", "--json")
    assert code == 0, err
    saved = tmp_path / "signal.json"
    saved.write_text(out)
    code, out, err = run(capsys, "journal", "add", "mine", saved)
    assert code == 0 and "entry 1 added (as of 2017-11-10)" in out, err
    saved.write_text("{not json")
    code, _, err = run(capsys, "journal", "add", "mine", saved)
    assert code == 1 and "not JSON" in err and "Traceback" not in err
    code, _, err = run(capsys, "journal", "show", "nobody")
    assert code == 1 and "no journal 'nobody'" in err


def test_a_portfolio_journal_scores_as_its_backtest_on_the_same_days():
    """The same forward test for a pooled 5-ticker portfolio, through the Python API."""
    from forecast.journal.score import score_journal
    from forecast.journal.store import append, entries
    from forecast.settings import ModelOptions, WalkForwardOptions
    from forecast.signal import SignalConfig, portfolio_signal, signal_document

    tickers = ("AAPL", "MSFT", "JPM", "XOM", "KO")
    full = {t: fc.load(t, source="bundled").loc["2015-06-01":] for t in tickers}
    config = SignalConfig(kind="portfolio", tickers=tickers, model=ModelOptions("logreg"),
                          strategy="long-short", params={"k": 1}, portfolio={"pooled": True},
                          walk_forward=WalkForwardOptions(retrain_every=21, test_start="2017-08-01"))
    store, days = Store(), full["AAPL"].index[-16:-2]
    for day in days:
        for t, bars in full.items():
            store.write(bars.loc[:day], t, source="test")
        made = portfolio_signal(config, cache=False)
        append("book", signal_document(config, made.rows(), as_of=made.as_of,
                                       weights=made.weights.dropna().to_dict()))
    for t, bars in full.items():
        store.write(bars, t, source="test")  # the outcomes arrive
    (score,) = score_journal("book")
    assert score.days == len(days) and score.pending == 0 and score.differing_days == 0
    assert score.live == score.backtest
    # the journaled weights were each day's row of one uncut portfolio run
    whole = portfolio_signal(config, cache=False).result.backtest.targets
    journaled = pd.DataFrame({pd.Timestamp(e["as_of"]): e["weights"] for e in entries("book")}).T
    np.testing.assert_array_equal(journaled.reindex(columns=whole.columns).fillna(0.0).to_numpy(),
                                  whole.loc[days].fillna(0.0).to_numpy())
