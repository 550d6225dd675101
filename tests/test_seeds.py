"""Seeds as an axis (`--seeds N`, `fc.over_seeds`): N independent runs, each figure's mean and
spread checked against figures computed by hand from separate single-seed runs."""

from __future__ import annotations

import json
import statistics

import pytest
from cli_run import run

import forecast as fc
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.seeds import seed_list, seed_summary

FAST = ["--test-days", "126", "--retrain-every", "63", "--model", "lgbm"]


@pytest.fixture
def stored():
    Store().write(random_walk_bars(700, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")


def _by_hand(values):
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values), "min": min(values),
            "max": max(values)}


def _check(summary, name, values):
    got = summary[name]
    for key, expected in _by_hand(values).items():
        assert got[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), (name, key)
    assert got["n"] == len(values)


@pytest.mark.slow
def test_evaluate_seeds_equal_three_single_seed_runs(capsys, stored):
    code, out, err = run(capsys, "evaluate", "SYN", *FAST, "--seed", "4", "--seeds", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    singles = []
    for seed in (4, 5, 6):
        code, one, err = run(capsys, "evaluate", "SYN", *FAST, "--seed", str(seed), "--json")
        assert code == 0, err
        singles.append(json.loads(one))
    assert doc["seeds"] == [4, 5, 6] and doc["per_seed"] == singles
    for name in ("accuracy", "roc_auc", "log_loss", "brier"):
        _check(doc["summary"], name, [s[name] for s in singles])
    assert len({s["accuracy"] for s in singles} | {s["log_loss"] for s in singles}) > 2  # the seeds differ


@pytest.mark.slow
def test_backtest_seeds_equal_three_single_seed_runs_each_its_own_cache_entry(capsys, stored, tmp_path):
    home = Store().home
    code, out, err = run(capsys, "backtest", "SYN", *FAST, "--seeds", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert len(list((home / "cache" / "predictions").glob("*.parquet"))) == 3  # independent runs
    singles = []
    for seed in (0, 1, 2):
        code, one, err = run(capsys, "backtest", "SYN", *FAST, "--seed", str(seed), "--json")
        assert code == 0, err
        singles.append(json.loads(one))
    for name in ("sharpe", "total_return", "max_drawdown"):
        _check(doc["summary"], f"strategy.{name}", [s["strategy"][name] for s in singles])
    _check(doc["summary"], "forecast.accuracy", [s["forecast"]["accuracy"] for s in singles])


@pytest.mark.slow
def test_one_seed_output_is_unchanged(capsys, stored):
    code, plain, _ = run(capsys, "evaluate", "SYN", *FAST, "--json")
    code2, one, _ = run(capsys, "evaluate", "SYN", *FAST, "--json", "--seeds", "1")
    assert code == code2 == 0 and one == plain and "per_seed" not in json.loads(plain)


@pytest.mark.parametrize("command", ["evaluate", "backtest", "portfolio"])
@pytest.mark.parametrize("n", ["0", "-2"])
def test_a_bad_seed_count_is_one_line(capsys, command, n):
    tickers = ["SYN", "OTHER"] if command == "portfolio" else ["SYN"]
    code, _, err = run(capsys, command, *tickers, "--seeds", n)
    assert code != 0 and f"--seeds must be a whole number of runs, 1 or more, got {n}" in err, err
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_backtest_seeds_refuse_other_axes_in_one_line(capsys):
    code, _, err = run(capsys, "backtest", "SYN", "OTHER", "--seeds", "2")
    assert code != 0 and "without several tickers" in err and err.strip().count("\n") == 0


def test_the_summary_is_mean_sample_std_and_range():
    summary = seed_summary([{"a": 1.0, "b": 2.0}, {"a": 2.0}, {"a": 6.0, "b": float("nan")}])
    _check(summary, "a", [1.0, 2.0, 6.0])
    assert summary["b"] == {"mean": 2.0, "std": None, "min": 2.0, "max": 2.0, "n": 1}
    assert seed_list(3, 2) == [3, 4]
    with pytest.raises(ConfigError):
        seed_list(0, True)


@pytest.mark.slow
def test_the_api_runs_independent_seeds():
    bars = random_walk_bars(500, seed=2)
    kw = dict(window=5, test_days=100, retrain_every=50, model_params={"n_estimators": 20})
    doc = fc.over_seeds(lambda s: fc.evaluate_model(bars, "lgbm", seed=s, **kw), seeds=2, seed=7)
    singles = [fc.evaluate_model(bars, "lgbm", seed=s, **kw).to_dict() for s in (7, 8)]
    assert doc["seeds"] == [7, 8] and doc["per_seed"] == singles
    _check(doc["summary"], "accuracy", [s["accuracy"] for s in singles])


@pytest.mark.slow
def test_portfolio_seeds_equal_single_seed_runs(capsys):
    args = ["portfolio", "KO", "MSFT", "AAPL", "--source", "bundled", "--start", "2016-01-01",
            "--param", "k=1", "--test-days", "63", "--model", "lgbm", "--json"]
    code, out, err = run(capsys, *args, "--seeds", "2")
    assert code == 0, err
    doc = json.loads(out)
    singles = []
    for seed in (0, 1):
        code, one, err = run(capsys, *args, "--seed", str(seed))
        assert code == 0, err
        singles.append(json.loads(one))
    for section, name in (("strategy", "sharpe"), ("strategy", "total_return"), ("ic", "mean_ic")):
        _check(doc["summary"], f"{section}.{name}", [s[section][name] for s in singles])
