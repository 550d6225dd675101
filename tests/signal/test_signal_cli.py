"""`fcast signal` from the command line: offline on the bundled data, its document, its
CSV, the refresh of stored bars, and one line for each kind of bad input."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from cli_run import run

import forecast as fc
from forecast.data.store import Store
from forecast.signal.refresh import refresh_stored

FAST = ("--model", "logreg", "--start", "2014-01-01", "--retrain-every", "63")


def test_it_works_offline_on_the_bundled_data_and_says_the_data_is_old(capsys):
    code, out, err = run(capsys, "signal", "AAPL", *FAST)
    assert code == 0, err
    assert "AAPL" in out and "2017-11-10" in out and "2017-11-13" in out  # as of, and the next open
    assert "bundled history" in err  # which data it used
    assert "the newest bar is 2017-11-10" in err and "sessions before the last completed one" in err


@pytest.mark.slow
def test_the_json_document_holds_the_call_its_configuration_and_its_hash(capsys, tmp_path):
    positions = tmp_path / "held.csv"
    positions.write_text("ticker,shares\nAAPL,10\n")
    code, out, err = run(capsys, "signal", "AAPL", *FAST, "--json", "--positions", positions,
                         "--cash", "10000", "--output", tmp_path / "signal.csv")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "signal" and doc["as_of"] == "2017-11-10" and doc["next_session"] == "2017-11-13"
    assert doc["stale"] is True and doc["sessions_behind"] > 2000
    canonical = json.dumps(doc["config"], sort_keys=True, separators=(",", ":"))
    assert doc["config_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert doc["config"]["model"]["name"] == "logreg" and doc["config"]["start"] == "2014-01-01"
    (row,) = doc["signals"]
    bars = fc.load("AAPL", source="bundled")
    assert row["close"] == bars["close"].iloc[-1] and 0 <= row["prob_up"] <= 1
    if row["target"] == 1.0:  # long-only, fully in: (10 x close + 10,000) / close shares, less the 10 held
        (order,) = doc["orders"]
        assert order["shares"] <= int((10 * row["close"] + 10_000) / row["close"]) - 10
    written = pd.read_csv(tmp_path / "signal.csv")
    assert written.loc[0, "ticker"] == "AAPL" and written.loc[0, "prob_up"] == row["prob_up"]


@pytest.mark.parametrize(("args", "says"), [
    (("AAPL", "--universe", "dow30"), "not both or neither"),
    ((), "not both or neither"),
    (("AAPL", "--test-start", "2017-01-02", "--test-days", "100"), "not both"),
    (("AAPL", "--target", "rank"), "--target is ignored without --universe"),
    (("AAPL", "--model-path", "somewhere", "--window", "30"), "is ignored with --model-path"),
    (("--universe", "dow30", "--label", "close"), "--label is ignored with a portfolio"),
    (("AAPL", "--as-of", "yesterday-ish"), "invalid"),
    (("AAPL", "--param", "nope=1"), "no parameter"),
    (("AAPL", "--positions", "/no/such/file.csv"), "cannot read"),
])
def test_bad_input_gets_one_line_and_a_non_zero_exit(capsys, args, says):
    code, out, err = run(capsys, "signal", *args, "--model", "logreg")
    assert code != 0
    assert says in err and "Traceback" not in err + out
    assert len([line for line in err.splitlines() if line.strip()]) <= 2  # usage errors add a hint line


def test_a_stored_ticker_behind_the_calendar_is_refreshed_when_yahoo_answers():
    bars = fc.load("AAPL", source="bundled").loc["2017-01-01":]
    store = Store()
    store.write(bars.iloc[:-5], "AAPL", source="yahoo")
    asked = []

    def download(ticker, start, end):
        asked.append((ticker, start))
        return bars.loc[pd.Timestamp(start):] if start is not None else bars

    lines = []
    done = refresh_stored(["AAPL"], store, say=lines.append, reachable=lambda: True, download=download)
    assert done == ["AAPL"] and asked and lines == []
    assert store.read("AAPL").index[-1] == bars.index[-1]


def test_an_unreachable_yahoo_leaves_the_stored_bars_and_says_so():
    bars = fc.load("AAPL", source="bundled").loc["2017-01-01":]
    store = Store()
    store.write(bars, "AAPL", source="yahoo")
    before = store.path("AAPL").read_bytes()
    lines = []
    assert refresh_stored(["AAPL"], store, say=lines.append, reachable=lambda: False) == []
    assert lines == ["Yahoo Finance is unreachable: using the stored bars of AAPL as they are"]
    assert store.path("AAPL").read_bytes() == before


@pytest.mark.slow
def test_a_signal_from_a_recorded_run_is_that_runs_last_row(capsys):
    from forecast.runs import list_runs, runs_dir

    code, _, err = run(capsys, "backtest", "AAPL", *FAST, "--test-days", "150", "--param", "threshold=0.55")
    assert code == 0, err
    (record,) = list_runs()
    last = pd.read_csv(runs_dir() / record["id"] / "predictions.csv").iloc[-1]
    code, out, err = run(capsys, "signal", "--run", record["id"], "--json")
    assert code == 0, err
    doc = json.loads(out)
    (row,) = doc["signals"]
    assert row["as_of"] == last["date"]
    assert row["prob_up"] == last["prob_up"] and row["target"] == last["target"]
    # the run's folds, pinned: its first out-of-sample day, its strategy parameter kept
    assert doc["config"]["walk_forward"]["test_start"] == record["data"]["start"]
    assert doc["config"]["params"]["threshold"] == 0.55
    code, _, err = run(capsys, "signal", "--run", record["id"], "--model", "gbm")
    assert code == 1 and "cannot change it" in err


def test_a_grid_run_or_a_saved_model_run_is_refused_in_one_line():
    from forecast.errors import ConfigError
    from forecast.signal.from_run import signal_args

    grid = {"id": "x", "kind": "backtest", "command": ["fcast", "backtest", "AAPL", "--model", "logreg,gbm"]}
    with pytest.raises(ConfigError, match="was a grid"):
        signal_args(grid)
    command = ["fcast", "backtest", "AAPL", "--model", "ens:logreg,gbm", "--output", "o",
               "--end", "2017-01-03", "--folds", "4"]
    ens = {"id": "x", "kind": "backtest", "command": command, "data": {"start": "2016-08-01"}}
    assert signal_args(ens) == ["AAPL", "--model", "ens:logreg,gbm", "--test-start", "2016-08-01"]
    with pytest.raises(ConfigError, match="saved model"):
        signal_args({"id": "x", "kind": "backtest",
                     "command": ["fcast", "backtest", "A", "--model-path", "x"]})
    with pytest.raises(ConfigError, match="experiment run"):
        signal_args({"id": "x", "kind": "experiment", "command": []})


def test_a_failing_ticker_does_not_hide_the_others_signals(capsys):
    code, out, err = run(capsys, "signal", "AAPL", "ZZZZQ", *FAST)
    assert code == 1
    assert "AAPL" in out and "ZZZZQ" in err and "Traceback" not in err


def test_data_older_than_asked_is_said_in_one_line(capsys):
    history = fc.load("AAPL", source="bundled").loc["2014-01-01":]
    Store().write(history, "AAPL", source="test")
    Store().write(fc.load("MSFT", source="bundled").loc["2014-01-01":"2017-09-01"], "MSFT", source="test")
    code, _, err = run(capsys, "signal", "AAPL", "MSFT", *FAST, "--no-refresh")
    assert code == 0, err
    assert "MSFT: its newest bar is 2017-09-01, before the others' 2017-11-10" in err
    code, _, err = run(capsys, "signal", "AAPL", *FAST, "--as-of", "2030-01-02", "--no-refresh")
    assert code == 0 and "no bar on 2030-01-02" in err and "2017-11-10" in err
    code, _, err = run(capsys, "signal", "AAPL", *FAST, "--as-of", "2017-07-21", "--no-refresh")
    assert code == 0 and "sessions before" not in err  # a past day asked for is not stale data
