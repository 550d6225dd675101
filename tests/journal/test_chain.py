"""The journal's hash chain: every kind of tampering is named at its first bad line, and
the refusals that keep a journal honest."""

from __future__ import annotations

import json
import multiprocessing

import pandas as pd
import pytest
from cli_run import run

from forecast.errors import ConfigError, DataError
from forecast.journal import store
from forecast.journal.chain import read_chain
from forecast.settings import ModelOptions, WalkForwardOptions
from forecast.signal.config import SignalConfig

CONFIG = SignalConfig(tickers=("AAA",), model=ModelOptions("logreg"),
                      walk_forward=WalkForwardOptions(test_start="2020-01-02"))


def doc(day: str, prob: float = 0.6, config: SignalConfig = CONFIG) -> dict:
    return {"kind": "signal", "version": 1, "created": "2026-12-05T00:00:00Z", "config": config.to_dict(),
            "config_hash": config.config_hash(), "as_of": day,
            "signals": [{"ticker": "AAA", "as_of": day, "prob_up": prob, "target": 1.0}], "orders": []}


def never(ticker, day) -> bool:
    return False


def journal(n: int = 5, name: str = "j") -> list[str]:
    days = [str(d.date()) for d in pd.bdate_range("2020-03-02", periods=n)]
    for day in days:
        store.append(name, doc(day), known_after=never)
    return store.journal_path(name).read_text().splitlines(keepends=True)


def tampered(lines: list[str]) -> str:
    store.journal_path("j").write_text("".join(lines))
    _, broken = store.read("j")
    return broken


def test_an_intact_journal_reads_back_whole():
    journal()
    lines, broken = store.read("j")
    assert broken is None and [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert [e["as_of"] for e in store.entries("j")] == [str(d.date()) for d in pd.bdate_range("2020-03-02",
                                                                                                periods=5)]


def test_an_edited_entry_is_named():
    lines = journal()
    line = json.loads(lines[2])
    line["entry"]["signals"][0]["prob_up"] = 0.9
    lines[2] = json.dumps(line) + "\n"
    broken = tampered(lines)
    assert broken.line == 3 and "changed after it was written" in broken.why


def test_a_rehashed_edit_breaks_the_next_link():
    """Whoever edits an entry and recomputes its hash breaks the link of the entry after it."""
    from forecast.journal.chain import make_line

    lines = journal()
    line = json.loads(lines[1])
    line["entry"]["signals"][0]["prob_up"] = 0.1
    lines[1] = make_line(2, line["prev"], line["entry"]) + "\n"
    broken = tampered(lines)
    assert broken.line == 3 and "does not follow entry 2" in broken.why


def test_a_deleted_entry_is_named():
    lines = journal()
    del lines[1]
    assert tampered(lines).line == 2


def test_reordered_entries_are_named():
    lines = journal()
    lines[1], lines[2] = lines[2], lines[1]
    assert tampered(lines).line == 2


def test_a_duplicated_entry_is_named():
    lines = journal()
    lines.insert(4, lines[3])
    assert tampered(lines).line == 5


def test_a_line_cut_short_is_named_and_nothing_is_added_after_it():
    lines = journal()
    lines[-1] = lines[-1][:40]
    broken = tampered(lines)
    assert broken.line == 5
    with pytest.raises(DataError, match="line 5"):
        store.append("j", doc("2020-04-01"), known_after=never)


def test_a_cut_last_newline_is_named_too():
    lines = journal()
    lines[-1] = lines[-1].rstrip("\n")
    assert "cut short" in tampered(lines).why
    assert read_chain("")[1] is None


def test_verify_names_the_line_and_exits_1(capsys):
    lines = journal()
    del lines[2]
    store.journal_path("j").write_text("".join(lines))
    code, _, err = run(capsys, "journal", "verify", "j")
    assert code == 1 and "BROKEN at line 3" in err


@pytest.mark.parametrize(("made", "says"), [
    (lambda: doc("2020-03-02"), "entries go forward in time"),  # not after the last (2020-03-06)
    (lambda: doc("2020-04-01", config=SignalConfig(tickers=("AAA",), model=ModelOptions("gbm"),
                                                   walk_forward=WalkForwardOptions(test_start="2020-01-02"))),
     "follows one configuration"),
    (lambda: {"kind": "other"}, "not a signal document"),
])
def test_entries_that_would_make_the_record_dishonest_are_refused(made, says):
    journal()
    with pytest.raises(ConfigError, match=says):
        store.append("j", made(), known_after=never)
    assert len(store.entries("j")) == 5


def test_folds_that_are_not_pinned_are_refused():
    loose = SignalConfig(tickers=("AAA",), model=ModelOptions("logreg"))
    with pytest.raises(ConfigError, match="fixed folds"):
        store.append("new", doc("2020-03-02", config=loose), known_after=never)


def test_an_outcome_already_in_the_data_is_refused():
    with pytest.raises(ConfigError, match="no back-filling"):
        store.append("j", doc("2020-03-02"), known_after=lambda ticker, day: True)
    assert not store.journal_path("j").exists()


def _append_one(home: str, day: str) -> str:
    import os

    os.environ["FCAST_HOME"] = home
    try:
        store.append("race", doc(day), known_after=never)
        return "added"
    except ConfigError:
        return "refused"


def test_concurrent_appends_lose_nothing_and_keep_the_chain(isolated_home):
    days = [str(d.date()) for d in pd.bdate_range("2020-03-02", periods=8)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        outcomes = pool.starmap(_append_one, [(str(isolated_home), day) for day in days])
    lines, broken = store.read("race")
    assert broken is None
    assert len(lines) == outcomes.count("added") >= 1
    kept = [line["entry"]["as_of"] for line in lines]
    assert kept == sorted(kept)  # a late writer for an earlier day was refused, never interleaved
