"""`fcast backtest` options that used to fail late or silently: --output, --json with several
tickers, --common-span, --model-path on another ticker, repeated options, --label."""

from __future__ import annotations

import json

import pytest
from cli_run import run

import forecast.api
from forecast.backtest.result import BacktestResult
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars

FAST = ["--model", "logreg", "--test-days", "126", "--retrain-every", "63", "--no-plot"]




@pytest.fixture
def two_tickers():
    """SYN over 2012-2015, LATE over a later, overlapping span."""
    Store().write(random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")
    Store().write(random_walk_bars(800, seed=6, start="2013-01-01", ticker="LATE"), "LATE", source="test")


def test_unwritable_output_fails_before_any_training(capsys, two_tickers, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    calls = []
    monkeypatch.setattr(forecast.api, "run_backtest", lambda *a, **k: calls.append(1))
    code, out, err = run(capsys, "backtest", "SYN", *FAST, "--output", blocker / "out")
    assert code == 1 and calls == []
    assert err.startswith("error: cannot write to --output") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""


def test_report_is_printed_even_when_writing_files_fails(capsys, two_tickers, tmp_path, monkeypatch):
    def disk_full(self, folder, plot=True):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BacktestResult, "write", disk_full)
    code, out, err = run(capsys, "backtest", "SYN", *FAST, "--output", tmp_path / "out")
    assert code == 1 and "No space left on device" in err
    assert "Buy & hold" in out and "Forecasts: logreg, out of sample" in out  # the run is not lost


@pytest.mark.slow
def test_json_with_several_tickers_is_one_document(capsys, two_tickers):
    code, out, err = run(capsys, "backtest", "SYN", "LATE", *FAST, "--json")
    assert code == 0, err
    docs = json.loads(out)  # one parseable document, not objects back to back
    assert isinstance(docs, list) and [d["ticker"] for d in docs] == ["SYN", "LATE"]
    code, out, _ = run(capsys, "backtest", "SYN", *FAST, "--json")
    assert isinstance(json.loads(out), dict)  # one ticker: one object, as before


@pytest.mark.slow
def test_common_span_runs_every_ticker_over_the_shared_dates(capsys, two_tickers):
    code, out, err = run(capsys, "backtest", "SYN", "LATE", *FAST, "--json")
    spans = [(d["start"], d["end"]) for d in json.loads(out)]
    assert spans[0] != spans[1]  # without the flag each ticker keeps its own span
    code, out, err = run(capsys, "backtest", "SYN", "LATE", *FAST, "--json", "--common-span")
    assert code == 0, err
    docs = json.loads(out)
    assert docs[0]["start"] == docs[1]["start"] and docs[0]["end"] == docs[1]["end"]
    shared_first = max(Store().read(t).index[0] for t in ("SYN", "LATE"))
    shared_last = min(Store().read(t).index[-1] for t in ("SYN", "LATE"))
    assert f"common span: {shared_first.date()} to {shared_last.date()}" in err
    assert docs[0]["end"] <= shared_last.date().isoformat()


@pytest.mark.slow
def test_model_trained_on_another_ticker_warns(capsys, two_tickers, tmp_path):
    model = tmp_path / "m"
    code, _, err = run(capsys, "train", "SYN", "--model", "logreg", "--end", "2014-06-30", "--output", model)
    assert code == 0, err
    code, out, err = run(capsys, "backtest", "LATE", "--model-path", model, "--start", "2014-07-01",
                         "--no-plot")
    assert code == 0, err
    assert "LATE: the model at" in err and "was trained on SYN, not LATE" in err
    code, _, err = run(capsys, "backtest", "SYN", "--model-path", model, "--start", "2014-07-01",
                       "--no-plot")
    assert code == 0 and "was trained on" not in err


@pytest.mark.parametrize(
    "args, named",
    [
        (["backtest", "SYN", "--model", "logreg", "--model", "gbm"], "--model given twice"),
        (["backtest", "SYN", "-m", "logreg", "--model=gbm"], "-m and --model both given"),
        (["evaluate", "SYN", "--test-days", "10", "--test-days", "20"], "--test-days given twice"),
        (["data", "show", "SYN", "--tail", "3", "--tail", "4"], "--tail given twice"),
        (["backtest", "SYN", "--plot", "--no-plot"], "--plot and --no-plot both given"),
    ],
)
def test_repeated_single_valued_option_is_refused(capsys, args, named):
    code, out, err = run(capsys, *args)
    assert code == 2 and named in err and err.count("\n") == 1 and out == ""


def test_repeatable_options_may_repeat(capsys, two_tickers):
    code, _, err = run(capsys, "backtest", "SYN", *FAST, "--strategy", "long-short",
                       "--param", "upper=0.55", "--param", "lower=0.45")
    assert code == 0, err


@pytest.mark.slow
def test_label_option_reaches_metrics_and_is_checked(capsys, two_tickers, tmp_path):
    code, _, err = run(capsys, "backtest", "SYN", *FAST, "--label", "close", "--output", tmp_path / "c")
    assert code == 0, err
    made = json.loads((tmp_path / "c" / "metrics.json").read_text())["walk_forward"]
    assert made["label"] == "close" and made["label_definition"] == "up if close[t+1] / close[t] - 1 > 0"
    code, _, err = run(capsys, "backtest", "SYN", *FAST, "--label", "vwap")
    assert code == 2 and "--label must be one of open, close" in err


@pytest.mark.slow
def test_summary_shows_each_span_and_warns_when_they_differ(capsys, two_tickers):
    code, out, err = run(capsys, "backtest", "SYN", "LATE", *FAST)
    assert code == 0, err
    summary = out[out.index("Backtest summary"):]
    assert summary.count(" to 20") == 2 and "cover different periods" in summary
    code, out, err = run(capsys, "backtest", "SYN", "LATE", *FAST, "--common-span")
    summary = out[out.index("Backtest summary"):]
    assert code == 0 and "cover different periods" not in summary


def test_nonsensical_costs_are_refused_before_any_training(capsys, two_tickers, monkeypatch):
    calls = []
    monkeypatch.setattr(forecast.api, "run_backtest", lambda *a, **k: calls.append(1))
    code, _, err = run(capsys, "backtest", "SYN", *FAST, "--commission", "1.0")
    assert code == 1 and calls == [] and "commission is a fraction" in err and err.count("\n") == 1
