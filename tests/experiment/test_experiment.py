"""Experiments: the TOML grid is checked before training, a grid's rows equal independent
backtests, a second run trains nothing, failed configurations are rows (and exit 1), the
judge finds planted skill and no skill in noise, and the CLI writes and records the grid."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_run import run

import forecast as fc
from forecast.errors import ConfigError
from forecast.experiment import EXAMPLE, ExperimentSpec, run_experiment
from forecast.experiment.judge import judge
from forecast.portfolio.universe import bundled_universe
from forecast.stats import sharpe_se

START = "2014-01-01"
# The CLI's walk-forward defaults, written out (not read from the spec under test).
WF = {"window": 20, "seed": 0, "retrain_every": 63, "label": "open", "test_days": None}
BASE = {"tickers": ["AAPL"], "models": [{"name": "logreg"}]}
ROW_FIELDS = {"ticker", "model", "seed", "strategy", "params", "commission", "slippage", "start", "end",
              "total_return", "sharpe", "sharpe_se", "psr", "max_drawdown", "benchmark_sharpe", "accuracy",
              "n_trades", "status"}




def equity_returns(equity: pd.Series) -> np.ndarray:
    values = np.asarray(equity, dtype=float)
    return values[1:] / values[:-1] - 1.0


def np_sharpe(r) -> float:
    r = np.asarray(r, dtype=float)
    return float(r.mean() / r.std(ddof=1) * math.sqrt(252))


# --- 1. the spec -----------------------------------------------------------------------------


def test_the_example_grid_is_the_product_of_its_axes(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(EXAMPLE)
    spec = ExperimentSpec.from_toml(path)
    assert spec.name == "small" and spec.tickers == ("AAPL", "MSFT", "KO")
    assert [m.name for m in spec.models] == ["logreg", "mlp"] and spec.models[1].params == {"epochs": 5}
    assert spec.start == "2012-01-01" and spec.end == "2017-11-10"
    # long-only x 1 + long-short x upper[2] = 3 strategy settings; 2 commissions, 1 slippage.
    assert len(spec.tasks()) == 3 * 2 * 1
    assert len(spec.configurations()) == 3 * 2 * 1 * 3 * 2 * 1


def test_grid_size_is_the_product_of_every_axis():
    spec = ExperimentSpec.from_dict({
        "tickers": ["AAPL", "MSFT", "KO"],
        "models": [{"name": "logreg"}, {"name": "gbm", "params": {"max_depth": 2}}],
        "seeds": [0, 1],
        "strategies": [
            {"name": "long-short", "params": {"upper": [0.52, 0.55, 0.6], "lower": [0.4, 0.45]}},
            {"name": "long-only", "params": {"threshold": [0.5, 0.51]}},
            {"name": "buy-and-hold"},
        ],
        "costs": {"commission": [0.0, 0.001, 0.002], "slippage": [0.0, 0.0005]},
    })
    strategy_combos = 3 * 2 + 2 + 1
    assert len(spec.tasks()) == 3 * 2 * 2
    configs = spec.configurations()
    assert len(configs) == 3 * 2 * 2 * strategy_combos * 3 * 2
    # Every combination occurs exactly once.
    keys = {(c.task.ticker, c.task.model.name, c.task.seed, c.strategy.name,
             tuple(sorted(c.strategy.params.items())), c.commission, c.slippage) for c in configs}
    assert len(keys) == len(configs)
    assert {c.strategy.params.get("upper") for c in configs if c.strategy.name == "long-short"} == {
        0.52, 0.55, 0.6}


@pytest.mark.parametrize("change, drop, message", [
    ({"colour": "red"}, None, r"unknown key\(s\) in the experiment spec: colour"),
    ({"universe": "dow30"}, None, "either tickers .* or universe"),
    ({}, "tickers", "either tickers .* or universe"),
    ({"models": []}, None, "models"),
    ({}, "models", "models"),
    ({"strategies": [{"name": "no-such-strategy"}]}, None, "unknown strategy 'no-such-strategy'"),
    ({"strategies": [{"name": "long-only", "params": {"upper": [0.5]}}]}, None,
     "has no parameter 'upper'"),
    ({"models": [{"name": "logreg", "params": {"depth": 3}}]}, None,
     r"model logreg has no parameter\(s\) depth"),
    ({"costs": {"commission": [0.001, -0.001]}}, None, "costs.commission must be numbers >= 0"),
    ({"costs": {"slippage": -1}}, None, "costs.slippage must be numbers >= 0"),
    ({"start": "2014-13-45"}, None, "start must be a date YYYY-MM-DD"),
    ({"end": "soon"}, None, "end must be a date YYYY-MM-DD"),
    ({"universe": "dow31"}, "tickers", "unknown universe 'dow31'"),
])
def test_bad_spec_is_one_config_error(change, drop, message, folds):
    data = {**BASE, **change}
    if drop:
        data.pop(drop)
    with pytest.raises(ConfigError, match=message) as exc:
        ExperimentSpec.from_dict(data)
    assert "\n" not in str(exc.value) and folds == []


@pytest.mark.parametrize("models", [None, []])
def test_no_models_names_the_models_table(models):
    data = {"tickers": ["AAPL"]} if models is None else {"tickers": ["AAPL"], "models": models}
    with pytest.raises(ConfigError, match=r"at least one \[\[models\]\] entry"):
        ExperimentSpec.from_dict(data)


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('tickers = ["AAPL"\n[[models]]\nname = "logreg"\n')
    with pytest.raises(ConfigError, match="is not valid TOML"):
        ExperimentSpec.from_toml(bad)
    with pytest.raises(ConfigError, match="cannot read experiment spec .*nowhere.toml"):
        ExperimentSpec.from_toml(tmp_path / "nowhere.toml")


def test_dow30_is_thirty_stocks_without_etfs():
    tickers = bundled_universe("dow30")
    assert len(tickers) == 30 == len(set(tickers))
    assert not {"SPY", "DIA", "QQQ", "IWM", "^GSPC", "^IXIC"} & set(tickers)
    assert {"AAPL", "MSFT", "KO", "XOM"} <= set(tickers)
    spec = ExperimentSpec.from_dict({"universe": "dow30", "models": ["logreg"]})
    assert spec.tickers == tuple(tickers)


# --- 2. a real grid, offline --------------------------------------------------------------

GRID = {
    "name": "grid", "tickers": ["AAPL", "MSFT"], "start": START,
    "models": [{"name": "logreg"}, {"name": "gbm"}],
    "strategies": [{"name": "long-only"}, {"name": "long-short"}],
    "costs": {"commission": [0.0, 0.002], "slippage": [0.0005]},
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The grid run once into its own home, and the same configurations made independently."""
    home = tmp_path_factory.mktemp("experiment_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("FCAST_OFFLINE", "1")
    try:
        spec = ExperimentSpec.from_dict(GRID)
        result = run_experiment(spec, home=home, source="bundled", spa_reps=200)
        bars = {t: fc.load(t, source="bundled", start=START, home=home) for t in GRID["tickers"]}
        predictions = {(t, m): fc.predict(bars[t], m, cache=False, **WF)
                       for t in GRID["tickers"] for m in ("logreg", "gbm")}
    finally:
        mp.undo()
    return home, spec, result, bars, predictions


def independent(bars, predictions, row):
    return fc.run_backtest(bars[row["ticker"]], predictions[(row["ticker"], row["model"])],
                           strategy=row["strategy"], params=row["params"] or None, cash=100_000.0,
                           commission=row["commission"], slippage=row["slippage"])


@pytest.mark.slow
def test_grid_rows_equal_independent_backtests(grid):
    _, spec, result, bars, predictions = grid
    assert len(result.rows) == 2 * 2 * 2 * 2
    assert [r["status"] for r in result.rows] == ["ok"] * 16
    assert result.cache["trained"] == 4 and result.cache["hits"] == 0
    seen = set()
    for row in result.rows:
        seen.add((row["ticker"], row["model"], row["strategy"], row["commission"]))
        bt = independent(bars, predictions, row)
        strat = bt.metrics["strategy"]
        assert row["sharpe"] == pytest.approx(strat["sharpe"], abs=1e-12, rel=0)
        assert row["total_return"] == pytest.approx(strat["total_return"], abs=1e-12, rel=0)
        assert row["max_drawdown"] == pytest.approx(strat["max_drawdown"], abs=1e-12, rel=0)
        assert row["n_trades"] == strat["n_trades"]
        assert row["benchmark_sharpe"] == pytest.approx(bt.metrics["benchmark"]["sharpe"], abs=1e-12, rel=0)
        r = equity_returns(bt.equity["strategy"])
        # By hand: total return from the equity curve, Sharpe and its SE from the daily returns.
        equity = np.asarray(bt.equity["strategy"], dtype=float)
        assert row["total_return"] == pytest.approx(equity[-1] / equity[0] - 1, abs=1e-9)
        assert row["sharpe"] == pytest.approx(np_sharpe(r), abs=1e-9)
        assert row["sharpe_se"] == pytest.approx(sharpe_se(r), abs=1e-12, rel=0)
        assert row["start"] == str(bt.start.date()) and row["end"] == str(bt.end.date())
    assert len(seen) == 16
    # Costs cost: the same predictions and strategy earn less with the higher commission.
    by = {(r["ticker"], r["model"], r["strategy"], r["commission"]): r for r in result.rows}
    for (t, m, s, c), row in by.items():
        if c == 0.0 and row["n_trades"]:
            assert by[(t, m, s, 0.002)]["total_return"] < row["total_return"]


def test_grid_best_and_trials(grid):
    _, _, result, _, _ = grid
    tests = result.tests
    assert tests["n_trials"] == 16 == result.n_trials
    frame = pd.concat(result.returns, axis=1, join="inner").dropna()
    assert tests["n_days"] == len(frame)
    sharpes = {i: np_sharpe(frame[i]) for i in frame.columns}
    best = max(sharpes, key=sharpes.get)
    assert tests["best"]["row"] == best and tests["best"]["sharpe"] == pytest.approx(sharpes[best])
    assert 0.0 <= tests["dsr"] <= 1.0 and tests["verdict"].startswith(f"best: {result.rows[best]['label']}")
    assert tests["pbo"]["value"] is not None and set(tests["pbo"]["by_ticker"]) == {"AAPL", "MSFT"}
    assert 0.0 <= tests["spa"]["pvalue"] <= 1.0


@pytest.mark.slow
def test_second_run_trains_nothing_and_rescoring_trains_nothing(grid, folds):
    home, spec, first, bars, predictions = grid
    second = run_experiment(spec, home=home, source="bundled", spa_reps=200)
    assert second.cache["trained"] == 0 and second.cache["hits"] == len(spec.tasks()) == 4
    assert folds == []
    strip = [{k: v for k, v in r.items() if k != "cache"} for r in first.rows]
    assert [{k: v for k, v in r.items() if k != "cache"} for r in second.rows] == strip
    assert {r["cache"] for r in second.rows} == {"hit"} and {r["cache"] for r in first.rows} == {"trained"}
    assert second.tests == first.tests

    costs = {"commission": [0.0005, 0.004], "slippage": [0.001]}
    rescored = run_experiment(ExperimentSpec.from_dict({**GRID, "costs": costs}), home=home,
                              source="bundled", spa_reps=200)
    assert rescored.cache["trained"] == 0 and rescored.cache["hits"] == 4 and folds == []
    assert len(rescored.rows) == 16 and {r["status"] for r in rescored.rows} == {"ok"}
    for row in rescored.rows:
        assert row["commission"] in (0.0005, 0.004) and row["slippage"] == 0.001
        bt = independent(bars, predictions, row)
        assert row["sharpe"] == pytest.approx(bt.metrics["strategy"]["sharpe"], abs=1e-12, rel=0)


# --- 3. failures are rows ---------------------------------------------------------------------


def stock_store(home: Path):
    """AAPL in full and SHRT (MSFT's last 150 bars) in the store of `home`."""
    from forecast.data.loader import load_bars
    from forecast.data.store import Store

    store = Store(home)
    store.write(load_bars("AAPL", source="bundled"), "AAPL", source="test")
    store.write(load_bars("MSFT", source="bundled").iloc[-150:], "SHRT", source="test")


@pytest.mark.slow
@pytest.mark.parametrize("cache", [False, True])
def test_a_short_or_unknown_ticker_fails_its_rows_only(isolated_home, cache):
    stock_store(isolated_home)
    spec = ExperimentSpec.from_dict({
        "tickers": ["AAPL", "SHRT", "ZZZZ"], "start": START, "models": ["logreg"],
        "strategies": ["long-only", "long-short"]})
    result = run_experiment(spec, home=isolated_home, source="store", cache=cache, spa_reps=100)
    with pytest.raises(ConfigError) as short:
        fc.predict(fc.load("SHRT", source="store", start=START, home=isolated_home), "logreg", **WF)
    with pytest.raises(Exception) as unknown:
        fc.load("ZZZZ", source="store", start=START, home=isolated_home)
    status = {r["ticker"]: {x["status"] for x in result.rows if x["ticker"] == r["ticker"]}
              for r in result.rows}
    assert status == {"AAPL": {"ok"}, "SHRT": {str(short.value)}, "ZZZZ": {str(unknown.value)}}
    assert "too few" in str(short.value) and "ZZZZ" in str(unknown.value)
    assert len(result.failed) == 4 and result.n_trials == 2
    assert result.cache["trained"] == 1


def test_a_span_too_short_for_every_ticker_fails_every_row(isolated_home):
    spec = ExperimentSpec.from_dict({**BASE, "start": "2017-06-01",
                                     "strategies": ["long-only", "long-short"]})
    result = run_experiment(spec, home=isolated_home, source="bundled")
    with pytest.raises(ConfigError) as exc:
        fc.predict(fc.load("AAPL", source="bundled", start="2017-06-01"), "logreg", **WF)
    assert [r["status"] for r in result.rows] == [str(exc.value)] * 2
    assert result.n_trials == 0 and result.tests["best"] is None
    assert result.tests["verdict"] == "no configuration finished: nothing to judge"


def test_cli_exits_1_with_the_table_and_an_error_line_per_failed_row(isolated_home, tmp_path, capsys):
    stock_store(isolated_home)
    path = tmp_path / "failing.toml"
    path.write_text(f'tickers = ["AAPL", "SHRT", "ZZZZ"]\nstart = "{START}"\n'
                    '[[models]]\nname = "logreg"\n[[strategies]]\nname = "long-only"\n'
                    '[[strategies]]\nname = "long-short"\n')
    code, out, err = run(capsys, "experiment", "run", path, "--source", "store")
    assert code == 1
    assert "Traceback" not in out + err
    assert "Experiment failing" in out and "AAPL" in out and "failed" in out
    # one line per distinct failure, naming its rows (issue 20: not one line per failed row)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert sum("SHRT" in e and "too few" in e and "2 configurations" in e for e in errors) == 1
    assert sum("ZZZZ" in e and "2 configurations" in e for e in errors) == 1
    # the unknown ticker is named before any training, and the table keeps one line per row
    warned = [line for line in err.splitlines() if line.startswith("warning: ZZZZ cannot be loaded")]
    assert len(warned) == 1 and "2 configurations will fail" in warned[0]
    assert err.index(warned[0]) < err.index("to train")
    assert out.count("failed (see below)") == 4


# --- 4. the judge on synthetic returns --------------------------------------------------------


def synthetic(n: int, tickers: list[str], *, planted: int | None = None, seed: int = 0, days: int = 2000):
    """Rows, returns and benchmarks for `n` configurations of iid N(0, 1%) returns, each
    ticker's buy-and-hold N(0, 1%) noise too; `planted` earns 0.2% a day more (Sharpe ~3)."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2010-01-04", periods=days)
    bench = {t: pd.Series(rng.normal(0.0, 0.01, days), idx) for t in tickers}
    rows, returns, benchmarks = [], {}, {}
    for i in range(n):
        ticker = tickers[i % len(tickers)]
        r = rng.normal(0.0, 0.01, days) + (0.002 if i == planted else 0.0)
        rows.append({"label": f"{ticker} config {i}", "ticker": ticker, "status": "ok"})
        returns[i], benchmarks[i] = pd.Series(r, idx), bench[ticker]
    return rows, returns, benchmarks


def best_by_numpy(returns: dict) -> int:
    sharpes = {i: np_sharpe(r.to_numpy()) for i, r in returns.items()}
    return max(sharpes, key=sharpes.get)


def test_planted_skill_is_found():
    rows, returns, benchmarks = synthetic(12, ["A", "B"], planted=5)
    assert np_sharpe(returns[5]) > 2.5
    tests = judge(rows, returns, benchmarks, spa_reps=300)
    assert best_by_numpy(returns) == 5 == tests["best"]["row"]
    assert tests["best"]["sharpe"] == pytest.approx(np_sharpe(returns[5]), abs=1e-12)
    assert tests["n_trials"] == 12 and tests["n_days"] == 2000
    assert tests["dsr"] > 0.95 and tests["spa"]["pvalue"] < 0.05
    assert tests["pbo"]["value"] is not None and tests["pbo"]["value"] < 0.5
    assert tests["verdict"].startswith("best: B config 5 Sharpe")
    assert tests["verdict"].endswith(": evidence of skill beyond buy-and-hold after costs")


def test_pure_noise_is_no_evidence():
    rows, returns, benchmarks = synthetic(20, ["A"])
    tests = judge(rows, returns, benchmarks, spa_reps=300)
    best = best_by_numpy(returns)
    assert tests["best"]["row"] == best
    assert tests["best"]["sharpe"] == pytest.approx(np_sharpe(returns[best]), abs=1e-12)
    assert tests["best"]["sharpe_se"] == pytest.approx(sharpe_se(returns[best].to_numpy()), abs=1e-12)
    assert tests["dsr"] < 0.95 and tests["spa"]["pvalue"] > 0.05
    assert "no evidence of skill" in tests["verdict"]


def test_pbo_needs_four_configurations_per_ticker():
    rows, returns, benchmarks = synthetic(7, ["A", "B"])  # A has 4, B has 3
    tests = judge(rows, returns, benchmarks, spa_reps=100)
    assert tests["pbo"]["value"] is None and tests["pbo"]["by_ticker"] == {}
    note = tests["pbo"]["note"]
    assert "at least 4 configurations per ticker" in note and "fewest: 3" in note
    assert "PBO n/a" in tests["verdict"]


def test_failed_rows_and_shared_days():
    rows, returns, benchmarks = synthetic(6, ["A"], planted=2)
    rows[2]["status"] = "boom"  # a failed row is no trial, even with returns
    returns[4] = returns[4].iloc[100:]  # judged on the days all share
    tests = judge(rows, returns, benchmarks, spa_reps=100)
    assert tests["n_trials"] == 5 and tests["n_days"] == 1900
    common = {i: returns[i].iloc[100:] for i in (0, 1, 3, 4, 5)}
    assert tests["best"]["row"] == best_by_numpy(common)


# --- 5. fcast experiment run ------------------------------------------------------------------

SPEC_TOML = f"""\
name = "cli"
tickers = ["AAPL"]
start = "{START}"

[[models]]
name = "logreg"

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"

[costs]
commission = [0.0, 0.001]
"""


@pytest.mark.slow
def test_cli_writes_records_and_refuses_a_non_empty_output(tmp_path, capsys, folds):
    from forecast.runs import list_runs

    spec = tmp_path / "cli.toml"
    spec.write_text(SPEC_TOML)
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", out_dir,
                         "--json")
    assert code == 0, err
    doc = json.loads((out_dir / "experiment.json").read_text())
    assert json.loads(out) == doc
    assert doc["name"] == "cli" and doc["id"] and doc["n_trials"] == 4
    assert doc["cache"]["hits"] == 0 and doc["cache"]["trained"] == 1 and "tests" in doc
    assert len(doc["rows"]) == 4
    for row in doc["rows"]:
        assert ROW_FIELDS <= set(row) and row["status"] == "ok"
    assert {(r["strategy"], r["commission"]) for r in doc["rows"]} == {
        (s, c) for s in ("long-only", "long-short") for c in (0.0, 0.001)}
    csv = pd.read_csv(out_dir / "results.csv")
    assert len(csv) == 4 and list(csv["ticker"]) == ["AAPL"] * 4
    assert np.allclose(csv["sharpe"], [r["sharpe"] for r in doc["rows"]], rtol=1e-12)
    runs = sorted((out_dir / "runs").iterdir())
    assert len(runs) == 4
    for row in doc["rows"]:
        metrics = json.loads((out_dir / row["run"] / "metrics.json").read_text())
        assert metrics["strategy"]["sharpe"] == pytest.approx(row["sharpe"], abs=1e-12)
        assert metrics["strategy"]["name"] == row["strategy"] and metrics["ticker"] == "AAPL"
    assert len(folds) > 0
    trained = len(folds)

    code, out, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", out_dir)
    assert code != 0 and out == ""
    assert err.startswith("error: --output") and "not empty" in err and err.count("\n") == 1

    code, out, err = run(capsys, "experiment", "run", spec, "--source", "bundled")
    assert code == 0, err
    assert len(folds) == trained  # the second run came from the prediction cache
    assert "Experiment cli" in out and "1 from the prediction cache, 0 to train" in err
    assert "walk-forward runs: 0 trained, 1 from the prediction cache" in out

    runs = list_runs()
    assert [r["kind"] for r in runs] == ["experiment", "experiment"] and runs[0]["id"] == doc["id"]
    code, out, err = run(capsys, "runs", "list")
    assert code == 0, err
    assert all(r["id"] in out for r in runs) and out.count("experiment cli") == 2


def test_experiment_run_help_shows_the_example(capsys):
    code, out, err = run(capsys, "experiment", "run", "--help")
    assert code == 0
    text = out + err
    assert "A complete SPEC.toml" in text and 'name = "long-short"' in text
    assert "commission = [0.0, 0.001]" in text and "retrain_every = 63" in text


def test_experiment_run_help_shows_the_example_tables(capsys):
    code, out, err = run(capsys, "experiment", "run", "--help")
    text = out + err
    assert code == 0
    assert "[[strategies]]" in text and "[[models]]" in text
    assert "[walk_forward]" in text and "[costs]" in text


# --- 6. fcast backtest with lists -------------------------------------------------------------


@pytest.mark.slow
def test_backtest_with_lists_runs_the_grid(capsys):
    from strategies import load_strategy, strategy_params

    code, out, err = run(capsys, "backtest", "AAPL", "MSFT", "--source", "bundled", "--model", "logreg,gbm",
                         "--strategy", "long-only,long-short", "-p", "upper=0.52,0.55", "--start", START,
                         "--json")
    assert code == 0, err
    doc = json.loads(out)
    per_strategy = {s: (2 if "upper" in strategy_params(load_strategy(s)) else 1)
                    for s in ("long-only", "long-short")}
    assert per_strategy == {"long-only": 1, "long-short": 2}
    assert len(doc["rows"]) == 2 * 2 * sum(per_strategy.values()) == 12
    assert {r["status"] for r in doc["rows"]} == {"ok"}
    assert {json.dumps(r["params"]) for r in doc["rows"] if r["strategy"] == "long-only"} == {"{}"}
    assert sorted(r["params"]["upper"] for r in doc["rows"] if r["strategy"] == "long-short") == [
        0.52] * 4 + [0.55] * 4
    assert doc["cache"]["trained"] == 4


def test_backtest_param_no_listed_strategy_has_is_one_line(capsys, folds):
    code, out, err = run(capsys, "backtest", "AAPL", "--source", "bundled", "--model", "logreg,gbm",
                         "--strategy", "long-only,buy-and-hold", "-p", "upper=0.52,0.55", "--start", START)
    assert code != 0 and out == "" and folds == []
    assert err.startswith("error:") and "upper" in err and err.count("\n") == 1


def test_an_interrupted_run_resumes_from_the_cache():
    """Ctrl-C after the first walk-forward: a rerun reads it from the cache and trains the rest."""
    from forecast.experiment.runner import Events

    class StopAfterFirst(Events):
        def task_done(self, task, error, cached):
            raise KeyboardInterrupt

    spec = ExperimentSpec.from_dict({"tickers": ["KO", "MSFT"], "start": "2014-01-01",
                                     "models": [{"name": "logreg"}]})
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, source="bundled", events=StopAfterFirst())
    again = run_experiment(spec, source="bundled")
    assert again.cache["hits"] == 1 and again.cache["trained"] == 1
    assert [row["status"] for row in again.rows] == ["ok", "ok"]


# --- found by an adversarial review --------------------------------------------------------

TYPED_MODEL = """
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class M(ClassifierMixin, BaseEstimator):
    '''Says up (0.9) when k is text, down (0.1) when k is a number.'''

    def __init__(self, k=0):
        self.k = k

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = 0.9 if isinstance(self.k, str) else 0.1
        return np.column_stack([np.full(len(X), 1 - p), np.full(len(X), p)])
"""


def test_tasks_whose_labels_print_alike_keep_their_own_predictions(tmp_path):
    path = tmp_path / "typed_model.py"
    path.write_text(TYPED_MODEL)
    spec = ExperimentSpec.from_dict({
        "tickers": ["KO"], "start": "2015-01-01", "walk_forward": {"folds": 3},
        "models": [{"name": f"{path}:M", "params": {"k": 1}}, {"name": f"{path}:M", "params": {"k": "1"}}],
    })
    for _ in range(2):  # cold, then from the cache
        result = run_experiment(spec, source="bundled", spa_reps=50)
        number, text = result.rows
        assert number["model_params"] == {"k": 1} and text["model_params"] == {"k": "1"}
        assert number["n_trades"] == 0 and text["n_trades"] > 0  # long-only: 0.1 never buys, 0.9 does


def test_repeated_settings_are_one_trial():
    spec = ExperimentSpec.from_dict({
        "tickers": ["KO"],
        "models": [{"name": "logreg"}, {"name": "logreg", "params": {"C": 1.0}}],  # C=1.0 is the default
        "strategies": [{"name": "long-only"}, {"name": "long-only"},
                       {"name": "long-short", "params": {"upper": [0.55, 0.55]}}],
    })
    assert len(spec.models) == 1
    assert [(s.name, s.params) for s in spec.expanded_strategies()] == [
        ("long-only", {}), ("long-short", {"upper": 0.55})]
    assert len(spec.configurations()) == 2


@pytest.mark.parametrize("params, words", [
    ({"upper": [{"a": 1}]}, "not a single value"),
    ({"upper": [0.55, True]}, "takes float"),
    ({"upper": ["0.55"]}, "takes float"),
])
def test_strategy_values_of_the_wrong_type_fail_before_anything_runs(params, words):
    with pytest.raises(ConfigError, match=words):
        ExperimentSpec.from_dict({"tickers": ["KO"], "models": [{"name": "logreg"}],
                                  "strategies": [{"name": "long-short", "params": params}]})


@pytest.mark.parametrize("walk_forward, words", [
    ({"window": "abc"}, "window must be a whole number"),
    ({"window": 2.5}, "window must be a whole number"),
    ({"retrain_every": True}, "retrain_every must be a whole number"),
    ({"folds": 0}, "folds must be a whole number"),
    ({"label": "high"}, "label must be one of"),
    ({"features": "no-such-spec.toml"}, "cannot read feature spec"),
])
def test_walk_forward_settings_are_checked_up_front(walk_forward, words):
    with pytest.raises(ConfigError, match=words):
        ExperimentSpec.from_dict({"tickers": ["KO"], "models": [{"name": "logreg"}],
                                  "walk_forward": walk_forward})


def test_start_after_end_and_out_of_range_seeds_are_refused():
    base = {"tickers": ["KO"], "models": [{"name": "logreg"}]}
    with pytest.raises(ConfigError, match="is not before end"):
        ExperimentSpec.from_dict({**base, "start": "2016-01-01", "end": "2015-01-01"})
    with pytest.raises(ConfigError, match="seeds must lie in"):
        ExperimentSpec.from_dict({**base, "seeds": [-1]})


def test_rows_without_a_sharpe_rank_last():
    from forecast.experiment.result import ExperimentResult

    rows = [{"status": "ok", "sharpe": s} for s in (-1.27, float("nan"), 2.81, None, 0.5)]
    result = ExperimentResult(id="x", spec=None, rows=rows, tests={}, cache={}, executor={}, seconds=0.0,
                              tickers={})
    ranked = [r["sharpe"] for r in result.ranked()]
    assert ranked[:3] == [2.81, 0.5, -1.27] and all(s is None or math.isnan(s) for s in ranked[3:])


def test_forecast_metrics_are_remembered_only_for_the_same_bars():
    """Re-scoring one Predictions for many strategies computes its metrics once, per bars object."""
    from forecast.evaluate.metrics import direction_metrics

    bars = fc.load("KO", source="bundled", start="2015-01-01")
    preds = fc.predict(bars, "logreg")
    first, again = preds.metrics(bars), preds.metrics(bars)
    assert first == again and first is not again  # a copy: a caller editing it changes nothing
    again["accuracy"] = -1.0
    assert preds.metrics(bars)["accuracy"] == first["accuracy"]
    shorter = bars.iloc[:-60]
    frame = preds.frame
    expected = direction_metrics(frame["prob_up"], frame["actual_up"], preds.label_returns(shorter))
    assert preds.metrics(shorter) == expected != first
