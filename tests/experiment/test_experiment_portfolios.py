"""Portfolios as an axis of an experiment: `[[portfolios]]` entries in the spec, one
universe-wide walk-forward per (model, seed, target, pooled), re-scored for every ranking
strategy, parameter and cost; rows equal to independent `run_portfolio_backtest` runs."""

from __future__ import annotations

import functools
import json

import pytest

from forecast.errors import ConfigError
from forecast.experiment import ExperimentSpec, run_experiment

TICKERS = ["KO", "MSFT", "AAPL"]
START = "2014-01-01"
TEST_DAYS = 126


def spec_dict(**extra) -> dict:
    base = {
        "name": "pf",
        "tickers": TICKERS,
        "start": START,
        "walk_forward": {"test_days": TEST_DAYS},
        "models": [{"name": "logreg"}],
        "portfolios": [{"name": "long-short", "params": {"k": [1]}},
                       {"name": "top-k", "params": {"k": 1}, "target": "beats-median"}],
        "costs": {"commission": [0.0, 0.001]},
    }
    base.update(extra)
    return base


# --- the spec ---------------------------------------------------------------------------------

def test_portfolio_entries_expand_into_tasks_and_configurations():
    spec = ExperimentSpec.from_dict(spec_dict(seeds=[0, 1]))
    assert spec.tasks() == []  # portfolios only: no per-ticker model is trained
    tasks = spec.portfolio_tasks()
    assert [(t.seed, t.target, t.pooled) for t in tasks] == [
        (0, "direction", True), (0, "beats-median", True), (1, "direction", True), (1, "beats-median", True)]
    configs = spec.portfolio_configurations()
    assert len(configs) == 2 * 2 * 2  # seeds x portfolio settings x commissions
    assert all((c.strategy.target, c.strategy.pooled) == (c.task.target, c.task.pooled) for c in configs)
    labels = {c.label for c in configs}
    assert labels == {"portfolio logreg long-short(k=1)", "portfolio logreg top-k(k=1) beats-median"}


def test_repeated_portfolio_settings_are_one_trial():
    # Ten names, so that the default k = 5 of long-short (2k names) is a setting that can run.
    ten = ["KO", "MSFT", "AAPL", "IBM", "XOM", "GE", "JNJ", "PG", "WMT", "MRK"]
    spec = ExperimentSpec.from_dict(spec_dict(tickers=ten, portfolios=[
        {"name": "long-short", "params": {"k": [1, 1]}},
        {"name": "long-short"},                       # k's default is 5: another setting
        {"name": "long-short", "params": {"k": 5}},   # ... the same one again
        {"name": "long-short", "params": {"k": 1}, "pooled": False},
    ]))
    assert [(p.params, p.pooled) for p in spec.expanded_portfolios()] == [
        ({"k": 1}, True), ({}, True), ({"k": 1}, False)]


def test_a_spec_with_strategies_and_portfolios_runs_both():
    spec = ExperimentSpec.from_dict(spec_dict(strategies=[{"name": "long-only"}]))
    assert len(spec.tasks()) == len(TICKERS)
    assert len(spec.configurations()) == len(TICKERS) * 2 and len(spec.portfolio_configurations()) == 4


@pytest.mark.parametrize("change, message", [
    ({"portfolios": [{"name": "nope"}]}, "unknown portfolio strategy 'nope'"),
    ({"portfolios": [{"name": "long-short", "params": {"k": "x"}}]}, "parameter 'k' of LongShort takes int"),
    ({"portfolios": [{"name": "long-short", "target": "up"}]}, "target must be one of direction"),
    ({"portfolios": [{"name": "long-short", "pooled": 1}]}, "pooled must be true or false"),
    ({"portfolios": [{"name": "long-short", "k": 3}]}, "unknown key(s) in portfolio long-short: k"),
    ({"portfolios": [{"params": {"k": 3}}]}, "each [[portfolios]] entry needs a name"),
    ({"tickers": ["KO"]}, "[[portfolios]] need at least 2 tickers"),
    ({"walk_forward": {"label": "close"}}, "[walk_forward] label must be \"open\""),
    ({"costs": {"commission_per_share": 0.005}}, "costs.commission_per_share is not supported"),
    ({"portfolios": [], "strategies": []}, "needs at least one [[strategies]] or [[portfolios]] entry"),
])
def test_bad_portfolio_entries_fail_in_one_line_before_anything_loads(change, message):
    with pytest.raises(ConfigError) as info:
        ExperimentSpec.from_dict(spec_dict(**change))
    assert message in str(info.value) and "\n" not in str(info.value)


# --- running it -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The spec run once, with a count of universe-wide walk-forwards."""
    from forecast.evaluate import pooled

    root = tmp_path_factory.mktemp("experiment_portfolios")
    calls = []
    real = pooled.portfolio_walk_forward
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        # wraps: the portfolio cache binds arguments to this function's signature, and may be
        # imported only after the patch (run alone, this module imports it first)
        mp.setattr(pooled, "portfolio_walk_forward",
                   functools.wraps(real)(lambda *a, **k: calls.append(k) or real(*a, **k)))
        spec = ExperimentSpec.from_dict(spec_dict(strategies=[{"name": "long-only"}]))
        result = run_experiment(spec, home=root / "home", source="bundled", output=root / "out", spa_reps=200)
    return spec, result, calls, root / "out", root / "home"


@pytest.mark.slow
def test_each_universe_walk_forward_trains_once_for_all_its_rows(ran):
    spec, result, calls, _, _ = ran
    assert [(k["target"], k["pooled"]) for k in calls] == [("direction", True), ("beats-median", True)]
    rows = [r for r in result.rows if r["ticker"] == "portfolio"]
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    assert result.n_trials == len(result.rows) == len(TICKERS) * 2 + 4  # every row is a trial


@pytest.mark.slow
@pytest.mark.parametrize("which", range(4))
def test_portfolio_rows_equal_independent_portfolio_runs(ran, which):
    """Each portfolio row's figures are those of `run_portfolio_backtest`, which loads the
    universe and forecasts it again by itself, with the same settings."""
    from forecast.backtest.metrics import daily_returns
    from forecast.portfolio.run import run_portfolio_backtest
    from forecast.stats import sharpe_se

    spec, result, _, _, _ = ran
    row = [r for r in result.rows if r["ticker"] == "portfolio"][which]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        alone = run_portfolio_backtest(
            TICKERS, model="logreg", strategy=row["strategy"], params=row["params"],
            target=row["portfolio"]["target"], pooled=row["portfolio"]["pooled"], source="bundled",
            start=START, commission=row["commission"], slippage=row["slippage"],
            walk_forward={"test_days": TEST_DAYS, "seed": row["seed"]})
    m, b = alone.backtest.metrics["strategy"], alone.backtest.metrics["benchmark"]
    for key, value in (("total_return", m["total_return"]), ("sharpe", m["sharpe"]),
                       ("max_drawdown", m["max_drawdown"]), ("benchmark_return", b["total_return"]),
                       ("benchmark_sharpe", b["sharpe"]), ("n_trades", m["n_fills"])):
        assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    strat = daily_returns(alone.backtest.equity["strategy"])
    assert row["sharpe_se"] == pytest.approx(sharpe_se(strat), rel=1e-12)
    assert row["start"] == str(alone.backtest.equity.index[0].date())
    known = alone.predictions.dropna(subset=["actual_up"])
    accuracy = ((known["prob_up"] > 0.5) == (known["actual_up"] > 0.5)).mean()
    assert row["accuracy"] == pytest.approx(accuracy, rel=1e-12)


def test_portfolio_rows_write_portfolio_runs_with_their_pages(ran):
    from forecast.report import report_kind

    _, result, _, out, _ = ran
    for row in (r for r in result.rows if r["ticker"] == "portfolio"):
        folder = out / row["run"]
        doc = json.loads((folder / "metrics.json").read_text())
        assert report_kind(folder) == "portfolio" and doc["universe"] == TICKERS
        assert doc["strategy"]["total_return"] == pytest.approx(row["total_return"], rel=1e-12)
        assert doc["settings"]["commission"] == row["commission"]
        assert {"weights.csv", "ic.csv", "legs.csv"} <= {p.name for p in folder.iterdir()}


def test_the_judge_counts_portfolio_rows_against_their_own_benchmark(ran):
    """SPA and PBO see the portfolio rows, each against the equal-weight buy-and-hold."""
    _, result, _, _, _ = ran
    tests = result.tests
    assert tests["n_trials"] == len(result.rows)
    assert "portfolio" in tests["pbo"]["by_ticker"] or tests["pbo"]["note"]
    portfolio_rows = [i for i, r in enumerate(result.rows) if r["ticker"] == "portfolio"]
    for i in portfolio_rows:  # the benchmark the judge used is the row's equal-weight buy-and-hold
        assert result.rows[i]["benchmark_return"] != result.rows[0]["benchmark_return"]


@pytest.mark.slow
def test_a_second_run_reads_the_universe_forecasts_from_the_cache(ran, monkeypatch):
    """Trained once, across runs too: the same spec on the same data trains nothing and gives
    the same rows; the cache key covers every ticker's bars (tests/portfolio/test_portfolio_cache.py)."""
    from forecast.evaluate import pooled

    spec, first, _, _, home = ran
    monkeypatch.setattr(pooled, "portfolio_walk_forward",
                        lambda *a, **k: pytest.fail("a cached portfolio walk-forward ran again"))
    again = run_experiment(spec, home=home, source="bundled", spa_reps=200)
    assert again.cache["trained"] == 0 and again.cache["hits"] == len(TICKERS) + 2
    portfolio = [r for r in again.rows if r["ticker"] == "portfolio"]
    assert {r["cache"] for r in portfolio} == {"hit"}
    for before, after in zip(first.rows, again.rows, strict=True):
        for key in ("total_return", "sharpe", "sharpe_se", "max_drawdown", "accuracy", "n_trades"):
            assert after[key] == before[key], (after["label"], key)


def test_portfolio_settings_that_type_alike_are_one_trial():
    """k = "1" reaches the strategy as 1: the two are one setting, one trial (review)."""
    spec = ExperimentSpec.from_dict(spec_dict(portfolios=[
        {"name": "long-short", "params": {"k": [1, "1"]}},
        {"name": "long-short", "params": {"k": "1"}},
    ]))
    assert [p.params for p in spec.expanded_portfolios()] == [{"k": 1}]
    assert len(spec.portfolio_configurations()) == 2  # the two commissions


@pytest.mark.parametrize("strategies", [{"name": "long-only"}, "long-only", [{"name": "long-only"}]])
def test_a_single_strategies_entry_is_still_accepted(strategies):
    spec = ExperimentSpec.from_dict(spec_dict(strategies=strategies, portfolios=[]))
    assert spec.strategies == (("long-only", {}),)


def test_a_portfolio_never_runs_on_fewer_names_than_the_spec_lists(tmp_path, monkeypatch):
    """A ticker that cannot be loaded fails the portfolio rows, with the reason (review):
    the same portfolio over the names that did load would be another universe."""
    monkeypatch.setenv("FCAST_OFFLINE", "1")
    spec = ExperimentSpec.from_dict(spec_dict(tickers=[*TICKERS, "ZZZZ"]))
    result = run_experiment(spec, home=tmp_path / "home", source="bundled", spa_reps=200)
    assert {r["ticker"] for r in result.rows} == {"portfolio"}
    for row in result.rows:
        assert row["status"].startswith("the universe is incomplete: ") and "ZZZZ" in row["status"]
    assert result.n_trials == 0 and result.cache["trained"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("target", ["return", "rank"])
def test_a_regression_target_portfolio_row_equals_an_independent_run(tmp_path, target):
    """A `target = "return"` or `"rank"` portfolio entry trains the model's regression twin
    and ranks by its score: its row is what `run_portfolio_backtest` gives alone."""
    from forecast.portfolio.run import run_portfolio_backtest

    data = spec_dict(portfolios=[{"name": "long-short", "params": {"k": 1}, "target": target}],
                     costs={"commission": [0.001]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        result = run_experiment(ExperimentSpec.from_dict(data), home=tmp_path / "home", source="bundled",
                                output=tmp_path / "out", spa_reps=50)
        alone = run_portfolio_backtest(TICKERS, model="logreg", strategy="long-short", params={"k": 1},
                                       target=target, source="bundled", start=START, commission=0.001,
                                       walk_forward={"test_days": TEST_DAYS, "seed": 0})
    (row,) = [r for r in result.rows if r["ticker"] == "portfolio"]
    assert row["status"] == "ok" and row["portfolio"]["target"] == target
    assert "score" in alone.predictions.columns and alone.ic_summary["n_days"] > 100
    assert row["total_return"] == pytest.approx(alone.backtest.metrics["strategy"]["total_return"], rel=1e-12)
