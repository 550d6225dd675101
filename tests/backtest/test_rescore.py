"""`rescore`: many configurations of one forecast in one call, each row equal to the
one-at-a-time `simulate(engine="vector")` metrics to 1e-12 (fees, minimum fees, per-share
fees, orders skipped for costs, ruin), and its metrics checked against hand computations."""

from __future__ import annotations

import math
import statistics

import backtrader as bt
import numpy as np
import pandas as pd
import pytest
from test_ruin import short_squeeze
from test_vector_engine import uniform_predictions

import forecast as fc
from forecast.backtest import kernel, rescore, rescoring, simulate
from forecast.backtest.rescoring import COST_KEYS, batch_metrics, expand_grid
from forecast.data.bundled import load_bundled
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from strategies import LongOnly, LongShort, ProbabilitySized, VolTargeted

TOL = 1e-12
COSTS = [
    {},
    {"commission": 0.0, "slippage": 0.0},
    {"commission": 0.002, "min_commission": 5.0},
    {"commission": 0.0, "commission_per_share": 0.01, "min_commission": 1.0},
    {"commission": 0.005, "slippage": 0.03},
]


def assert_rows_match(table, bars, preds, cls, grid_keys, **kwargs) -> None:
    """Every row of `table` equals simulate's metrics["strategy"] of its configuration:
    floats to 1e-12 (relative above 1), everything else exactly, same keys and types."""
    for _, row in table.iterrows():
        params = {k: row[k] for k in grid_keys}
        costs = {k: row[k] for k in COST_KEYS}
        want = simulate(bars, preds, cls, params, engine="vector", **costs, **kwargs).metrics["strategy"]
        assert list(table.columns[-len(want):]) == list(want)
        for key, value in want.items():
            got = row[key]
            if isinstance(value, float):
                close = abs(got - value) <= TOL * max(1.0, abs(value))
                same = (math.isnan(value) and math.isnan(got)) or close
                assert same, f"{cls.__name__} {params} {costs} {key}: {got!r} != {value!r}"
            else:
                assert type(got) is type(value) or isinstance(value, int), (key, got, value)
                assert got == value, f"{cls.__name__} {params} {costs} {key}: {got!r} != {value!r}"


@pytest.fixture(scope="module")
def walk():
    bars = random_walk_bars(900, seed=17)
    return bars, uniform_predictions(bars, 300, 880, seed=2)


@pytest.mark.slow
@pytest.mark.parametrize("cls, grid", [
    (LongOnly, {"threshold": [0.4, 0.5, 0.6], "rebalance_band": [0.0, 0.05]}),
    (LongShort, {"upper": [0.5, 0.6], "lower": [0.4, 0.5]}),
    (ProbabilitySized, {"gain": [1.5, 3.0], "cap": [0.8, 1.0], "allow_short": [True, False],
                        "rebalance_band": [0.0, 0.2]}),
    (VolTargeted, {"vol_window": [10, 30], "allow_short": [True, False]}),  # warm-ups differ
], ids=lambda v: getattr(v, "__name__", ""))
def test_grids_on_a_random_walk_equal_one_at_a_time(walk, cls, grid):
    bars, preds = walk
    table = rescore(bars, preds, cls, grid, COSTS)
    assert len(table) == math.prod(len(v) for v in grid.values()) * len(COSTS)
    assert table["n_trades"].gt(0).all()
    assert_rows_match(table, bars, preds, cls, grid)


@pytest.mark.slow
def test_dust_orders_skipped_for_costs_on_a_bundled_ticker_equal_one_at_a_time():
    # $1,000 and a $5 minimum fee: probability-sized top-ups of a few dollars are not sent.
    bars = load_bundled("KO").loc["2004":"2007"]
    rng = np.random.default_rng(0)
    preds = pd.DataFrame({"prob_up": rng.uniform(0.4, 0.8, len(bars) - 101)}, index=bars.index[100:-1])
    grid = {"rebalance_band": [0.0, 0.05], "gain": [2.0, 4.0]}
    costs = {"commission": [0.0, 0.001], "min_commission": [0.0, 5.0]}
    table = rescore(bars, preds, ProbabilitySized, grid, costs, cash=1000.0)
    assert table["orders_skipped_costs"].gt(0).any() and table["orders_skipped_costs"].eq(0).any()
    assert_rows_match(table, bars, preds, ProbabilitySized, grid, cash=1000.0)


@pytest.mark.slow
def test_ruin_on_a_bundled_ticker_equals_one_at_a_time():
    bars = load_bundled("AAPL").iloc[-1500:]
    momentum = bars["close"].pct_change(5).fillna(0.0)
    rng = np.random.default_rng(7)
    prob = (1 / (1 + np.exp(-20 * momentum)) * 0.6 + rng.uniform(0, 0.4, len(bars))).clip(0, 1)
    preds = pd.DataFrame({"prob_up": prob}, index=bars.index).iloc[20:-1]
    grid = {"upper": [0.52, 0.6], "lower": [0.4, 0.48]}
    costs = {"commission": [0.0, 0.004], "slippage": [0.002], "min_commission": [5.0]}
    table = rescore(bars, preds, LongShort, grid, costs, risk_free=0.02)
    assert table["ruined"].any() and not table["ruined"].all()
    assert_rows_match(table, bars, preds, LongShort, grid, risk_free=0.02)


def test_a_ruined_short_squeeze_equals_one_at_a_time():
    bars, preds = short_squeeze()
    table = rescore(bars, preds, LongShort, None, {"commission": [0.0, 0.001], "slippage": [0.0, 0.01]},
                    cash=1000.0)
    assert table["ruined"].all()
    assert (table["ruined_on"] == bars.index[1]).all()
    assert_rows_match(table, bars, preds, LongShort, [], cash=1000.0)


def test_a_run_that_never_ruins_says_none():
    bars, preds = short_squeeze()
    table = rescore(bars, preds, LongOnly, {"threshold": [0.5]}, [{}], cash=1000.0)
    assert not table.at[0, "ruined"]
    assert table.at[0, "ruined_on"] is None


def test_metrics_of_hand_made_curves():
    # Row 0: 100 -> 110 -> 99, held on bars 1 and 2. Row 1: ruined on bar 2 (value -10), which
    # floors it at 0 from there; its returns stop at that bar's -100%.
    value = np.array([[100.0, 110.0, 99.0, 99.0], [100.0, 50.0, -10.0, 20.0]])
    position = np.array([[0.0, 1.0, 1.0, 0.0], [0.0, 2.0, 2.0, 2.0]])
    m = batch_metrics(value, position, np.array([300.0, 0.0]))
    r0 = [0.1, 99 / 110 - 1, 0.0]
    assert m["total_return"][0] == pytest.approx(-0.01, abs=1e-15)
    assert m["volatility"][0] == pytest.approx(statistics.stdev(r0) * math.sqrt(252), rel=1e-12)
    sharpe = statistics.mean(r0) / statistics.stdev(r0) * math.sqrt(252)
    assert m["sharpe"][0] == pytest.approx(sharpe, rel=1e-12)
    down = math.sqrt(sum(min(r, 0) ** 2 for r in r0) / 3)
    assert m["sortino"][0] == pytest.approx(statistics.mean(r0) / down * math.sqrt(252), rel=1e-12)
    assert m["max_drawdown"][0] == pytest.approx(-0.1, rel=1e-12)
    assert m["max_drawdown_bars"][0] == 2
    assert m["exposure"][0] == 0.5
    assert m["turnover"][0] == pytest.approx(300 / np.mean([100, 110, 99, 99]) / (3 / 252), rel=1e-12)
    assert m["cagr"][0] == pytest.approx(0.99 ** (252 / 3) - 1, rel=1e-12)
    assert m["_ruin_bar"].tolist() == [-1, 2]
    assert m["total_return"][1] == -1.0 and m["cagr"][1] == -1.0
    assert m["volatility"][1] == pytest.approx(statistics.stdev([-0.5, -1.0]) * math.sqrt(252), rel=1e-12)
    assert m["exposure"][1] == 0.5  # held on bars 1 and 2, nothing after the ruin
    assert m["max_drawdown"][1] == -1.0 and m["max_drawdown_bars"][1] == 3


def test_the_comparison_catches_a_look_ahead(walk, monkeypatch):
    # Trading each decision one bar early (on the bar it predicts) must not pass as equal.
    bars, preds = walk
    preds = preds.assign(prob_up=preds["actual_up"])  # a perfect forecast: look-ahead pays
    honest = rescore(bars, preds, LongOnly, None, [{}])
    run = kernel.run_kernel

    def early(open_, close, target, *args):
        return run(open_, close, np.append(target[1:], np.nan), *args)

    monkeypatch.setattr(rescoring.kernel, "run_kernel", early)
    peeking = rescore(bars, preds, LongOnly, None, [{}])
    monkeypatch.undo()
    assert peeking.at[0, "total_return"] > honest.at[0, "total_return"] + 0.1
    assert_rows_match(honest, bars, preds, LongOnly, [])
    with pytest.raises(AssertionError):
        assert_rows_match(peeking, bars, preds, LongOnly, [])


def test_rows_in_grid_order_and_full_results_on_request(walk):
    bars, preds = walk
    table = rescore(bars, preds, LongOnly, {"threshold": [0.45, 0.55]},
                    {"commission": [0.0, 0.001], "slippage": 0.0}, results=True)
    assert table[["threshold", "commission"]].values.tolist() == [[0.45, 0.0], [0.45, 0.001],
                                                                 [0.55, 0.0], [0.55, 0.001]]
    assert (table["min_commission"] == 0.0).all() and table["commission_per_share"].isna().all()
    for _, row in table.iterrows():
        result = row["result"]
        assert result.params["threshold"] == row["threshold"]
        assert result.settings["commission"] == row["commission"]
        assert result.metrics["strategy"]["total_return"] == pytest.approx(row["total_return"], abs=TOL)


def test_the_public_api_resolves_names(walk):
    bars, preds = walk
    table = fc.rescore(bars, preds, strategy="long-short", param_grid={"upper": [0.55, 0.6]})
    assert table["upper"].tolist() == [0.55, 0.6] and len(table) == 2


def test_expand_grid():
    assert expand_grid(None) == [{}]
    assert expand_grid({"a": [1, 2], "b": 3}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert expand_grid([{"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]


class Plain(bt.Strategy):
    pass


@pytest.mark.parametrize("args, message", [
    ((Plain, None, None), "vector engine cannot run"),
    ((LongOnly, {"nope": [1]}, None), "no parameter 'nope'"),
    ((LongOnly, None, {"fee": [0.1]}), "unknown cost 'fee'"),
    ((LongOnly, {"threshold": []}, None), "at least one value"),
    ((LongOnly, None, []), "at least one configuration"),
    ((LongShort, {"upper": [0.4], "lower": [0.6]}, None), "lower <= upper"),
    ((LongOnly, None, {"commission": [-0.1]}), "commission"),
])
def test_bad_input_is_one_clear_error(walk, args, message):
    bars, preds = walk
    with pytest.raises(ConfigError, match=message):
        rescore(bars, preds, *args)
