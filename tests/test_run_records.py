"""One record protocol: a backtest, a portfolio and an experiment result are each a `RunResult`,
recorded by the one `forecast.runs.record` (and the one CLI helper) into the folders and
run.json layouts they always had, and listed by `fcast runs`."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from cli_run import run

from forecast.run_result import RunRecord, RunResult
from forecast.runs import list_runs, new_run_id, record

# What each kind's record holds: its files, and its run.json's keys in order ("cache" and
# "output" are the CLI's extras), as records were written before the protocol.
RECORDED_FILES = {
    "backtest": ["equity.csv", "ledger.csv", "metrics.json", "predictions.csv", "run.json", "trades.csv"],
    "portfolio": ["equity.csv", "ic.csv", "legs.csv", "metrics.json", "predictions.csv", "run.json",
                  "trades.csv", "weights.csv"],
    "experiment": ["experiment.json", "results.csv", "run.json"],
}
RUN_JSON_KEYS = {
    "backtest": ["id", "kind", "created", "command", "ticker", "model", "strategy", "seed", "data",
                 "versions", "files", "metrics", "cache", "output"],
    "portfolio": ["id", "kind", "created", "command", "universe", "model", "strategy", "seed",
                  "versions", "files", "metrics", "output"],
    "experiment": ["id", "kind", "created", "command", "name", "n_trials", "n_configurations", "n_failed",
                   "cache", "tickers", "seeds", "best", "tests", "verdict", "versions", "files", "output"],
}


def _backtest(rng):
    from forecast.api import load, run_backtest

    bars = load("KO", source="bundled", start="2016-01-01")
    preds = pd.DataFrame({"prob_up": rng.uniform(size=120)}, index=bars.index[-120:])
    preds.attrs.update(model="hand", seed=3)
    return run_backtest(bars, preds, strategy="long-only", engine="backtrader")


def _portfolio(rng):
    from forecast.portfolio.run import score_portfolio
    from forecast.portfolio.universe import load_universe
    from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

    universe = load_universe(["KO", "MSFT"], source="bundled", start="2016-01-01")
    index = pd.MultiIndex.from_product([universe.bars["KO"].index[-120:], list(universe.tickers)],
                                       names=["date", "ticker"])
    preds = pd.DataFrame({"prob_up": rng.uniform(size=len(index)),
                          "realized": rng.normal(0, 0.01, size=len(index))}, index=index)
    preds.attrs.update(seed=4)
    cls = load_portfolio_strategy("long-short")
    return score_portfolio(universe, preds, cls, parse_portfolio_params(cls, {"k": 1}), model="hand",
                           pooled=True, target="direction", strategy="long-short", market=None)


def _experiment():
    from forecast.experiment import ExperimentSpec
    from forecast.experiment.result import ExperimentResult

    spec = ExperimentSpec.from_dict({"name": "hand", "tickers": ["KO", "MSFT"], "seeds": [0],
                                     "models": [{"name": "logreg"}], "strategies": [{"name": "long-only"}]})
    rows = [{"ticker": t, "model": "logreg", "strategy": "long-only", "label": f"{t} logreg long-only",
             "status": "ok", "sharpe": s, "total_return": s / 10} for t, s in (("KO", 0.5), ("MSFT", 1.5))]
    tests = {"n_trials": 2, "best": {"row": 1, "label": rows[1]["label"], "sharpe": 1.5},
             "verdict": "by hand"}
    return ExperimentResult(id=new_run_id(), spec=spec, rows=rows, tests=tests, cache={"hits": 0},
                            executor={"name": "serial"}, seconds=1.0,
                            tickers={"KO": {}, "MSFT": {}})


@pytest.fixture(scope="module")
def results():
    """One result of each kind, from hand-made forecasts (no training)."""
    rng = np.random.default_rng(0)
    return {"backtest": _backtest(rng), "portfolio": _portfolio(rng), "experiment": _experiment()}


def test_every_result_kind_is_a_run_result(results):
    for kind, result in results.items():
        assert isinstance(result, RunResult) and result.kind == kind
        own = result.run_record()
        assert isinstance(own, RunRecord) and own.summary
        assert json.dumps(result.to_dict(), allow_nan=False)
    assert not isinstance(object(), RunResult)
    assert results["backtest"].title == "KO: the run"
    assert results["experiment"].title == "experiment hand"


def test_records_keep_the_files_and_run_json_layout_of_each_kind(results, isolated_home):
    for kind, result in results.items():
        extra = {"cache": "miss", "output": None} if kind == "backtest" else {"output": None}
        folder = record(result, home=isolated_home, command=["fcast", kind], extra=extra)
        assert sorted(p.name for p in folder.iterdir()) == RECORDED_FILES[kind]
        doc = json.loads((folder / "run.json").read_text())
        assert list(doc) == RUN_JSON_KEYS[kind]
        assert doc["kind"] == kind and doc["command"] == ["fcast", kind] and doc["id"] == folder.name
        assert doc["files"] == [f for f in RECORDED_FILES[kind] if f != "run.json"]
        if "metrics" in doc:
            assert doc["metrics"] == json.loads((folder / "metrics.json").read_text())


def test_each_kind_s_summary(results, isolated_home):
    docs = {kind: json.loads((record(r, home=isolated_home) / "run.json").read_text())
            for kind, r in results.items()}
    bt, pf, ex = docs["backtest"], docs["portfolio"], docs["experiment"]
    assert (bt["ticker"], bt["model"], bt["strategy"], bt["seed"]) == ("KO", "hand", "long-only", 3)
    assert bt["data"] == {**results["backtest"].data, "start": bt["metrics"]["start"],
                          "end": bt["metrics"]["end"]}
    assert len(bt["data"]["fingerprint"]) == 64 and bt["data"]["source"] == "bundled"
    assert (pf["universe"], pf["model"], pf["strategy"], pf["seed"]) == (["KO", "MSFT"], "hand",
                                                                         "long-short", 4)
    experiment = results["experiment"]
    assert ex["id"] == experiment.id and ex["created"] == experiment.created  # its own, not new ones
    assert ex["best"] == experiment.rows[1] and ex["seeds"] == [0] and ex["verdict"] == "by hand"
    assert "metrics" not in ex


def test_records_of_every_kind_round_trip_through_fcast_runs(results, isolated_home, capsys):
    ids = {kind: record(r, home=isolated_home).name for kind, r in results.items()}
    listed = {r["id"]: r for r in list_runs(isolated_home)}
    assert {k: listed[i]["kind"] for k, i in ids.items()} == {k: k for k in ids}
    assert all("error" not in r for r in listed.values())

    code, out, err = run(capsys, "runs", "list")
    assert code == 0, err
    assert all(i in out for i in ids.values())
    assert "portfolio long-short" in out and "experiment hand: best of 2" in out
    for run_id in ids.values():
        code, out, err = run(capsys, "runs", "show", run_id)
        assert code == 0 and run_id in out, err


def test_the_cli_helper_records_with_its_extras_or_warns(results, isolated_home, tmp_path, warnings):
    from forecast.cli.recording import record as cli_record

    ctx = SimpleNamespace(obj={"store": SimpleNamespace(home=isolated_home)})
    folder = cli_record(ctx, results["backtest"], cache="hit", output=tmp_path)
    doc = json.loads((folder / "run.json").read_text())
    assert list(doc)[-2:] == ["cache", "output"] and doc["cache"] == "hit"
    assert doc["output"] == str(tmp_path.resolve())

    blocked = tmp_path / "a-file"
    blocked.write_text("")  # no runs folder can be made under a file
    ctx = SimpleNamespace(obj={"store": SimpleNamespace(home=blocked)})
    for kind, message in (("backtest", "KO: the run"), ("portfolio", "the portfolio run"),
                          ("experiment", "experiment hand")):
        assert cli_record(ctx, results[kind]) is None
        assert warnings[-1].startswith(f"{message} was not recorded: ")
