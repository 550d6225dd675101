"""The vector (numba) engine against backtrader: the same BacktestResult for every built-in
strategy, cost scheme and edge case, and backtrader wherever the vector engine cannot
reproduce a strategy."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from backtest_inputs import hand_bars

from forecast.backtest import simulate, vector
from forecast.backtest.vector import vector_applies
from forecast.data.bundled import load_bundled
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from strategies import BuyAndHold, LongOnly, LongShort, PredictionStrategy, ProbabilitySized, VolTargeted

TOL = {"rtol": 1e-9, "atol": 1e-12}

STRATEGIES = [
    (LongOnly, {}),
    (LongOnly, {"threshold": 0.6}),
    (LongOnly, {"threshold": 0.4, "rebalance_band": 0.0}),
    (LongShort, {}),
    (LongShort, {"upper": 0.6, "lower": 0.4}),
    (LongShort, {"upper": 0.5, "lower": 0.5, "rebalance_band": 0.2}),  # flips on every change
    (ProbabilitySized, {}),
    (ProbabilitySized, {"allow_short": True, "gain": 1.5, "rebalance_band": 0.0}),
    (ProbabilitySized, {"allow_short": True, "cap": 0.8, "rebalance_band": 0.2}),
    (ProbabilitySized, {"gain": 3.0, "rebalance_band": 0.05}),
    (BuyAndHold, {}),
    (VolTargeted, {"vol_window": 10, "allow_short": True}),
    (VolTargeted, {"target_vol": 0.2, "rebalance_band": 0.0}),
]
GARCH = (VolTargeted, {"method": "garch", "garch_window": 150, "refit_every": 10, "allow_short": True})
COSTS = {
    "default": {},
    "free": {"commission": 0.0, "slippage": 0.0},
    "min-fee": {"commission": 0.002, "min_commission": 5.0},
    "per-share": {"commission": 0.0, "commission_per_share": 0.01, "min_commission": 1.0},
    "high-slippage": {"commission": 0.005, "slippage": 0.03},
}


def assert_same(got, want) -> None:
    """Every table and figure of two results equal to 1e-9 (relative); raises AssertionError."""
    for name in ("equity", "ledger", "fills", "trades", "predictions"):
        a, b = getattr(got, name), getattr(want, name)
        pd.testing.assert_frame_equal(a, b, check_exact=False, obj=name, **TOL)
    assert got.metrics.keys() == want.metrics.keys()
    for side in want.metrics:
        assert list(got.metrics[side]) == list(want.metrics[side]), side
        for key, value in want.metrics[side].items():
            mine = got.metrics[side][key]
            assert type(mine) is type(value), (side, key)
            if not isinstance(value, int | float) or isinstance(value, bool):  # ruined, ruined_on
                assert mine == value, f"metric {side}.{key}: {mine!r} != {value!r}"
                continue
            same = (math.isnan(value) and math.isnan(mine)) or math.isclose(
                mine, value, rel_tol=TOL["rtol"], abs_tol=TOL["atol"])
            assert same, f"metric {side}.{key}: {mine!r} != {value!r}"
    for name in ("ticker", "strategy", "params", "start", "end", "benchmark_entry", "first_trade",
                 "settings", "model", "forecast_metrics", "walk_forward"):
        assert getattr(got, name) == getattr(want, name), name


def both(bars, preds, cls, params=None, **costs):
    vec = simulate(bars, preds, cls, params, engine="vector", **costs)
    ref = simulate(bars, preds, cls, params, engine="backtrader", **costs)
    assert (vec.engine, ref.engine) == ("vector", "backtrader")
    return vec, ref


def uniform_predictions(bars, start, stop, seed=0, every=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = bars.index[start:stop:every]
    up = (bars["close"].shift(-1) > bars["close"]).astype(float).loc[index]
    return pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "actual_up": up}, index=index)


@pytest.fixture(scope="module")
def walk():
    bars = random_walk_bars(900, seed=17)
    return bars, uniform_predictions(bars, 300, 880, seed=2)


@pytest.mark.slow
@pytest.mark.parametrize("costs", list(COSTS), ids=list(COSTS))
@pytest.mark.parametrize("strategy, params", STRATEGIES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_builtin_matches_backtrader_on_a_random_walk(walk, strategy, params, costs):
    bars, preds = walk
    vec, ref = both(bars, preds, strategy, params, **COSTS[costs])
    assert len(ref.fills) > 0
    assert_same(vec, ref)


@pytest.mark.slow
@pytest.mark.parametrize("costs", ["default", "per-share"])
def test_garch_vol_targeting_matches_backtrader(costs):
    bars = random_walk_bars(600, seed=5)
    preds = uniform_predictions(bars, 250, 590, seed=3, every=2)  # gaps: the GARCH state rolls 2 bars
    vec, ref = both(bars, preds, *GARCH, **COSTS[costs])
    assert ref.predictions["target"].abs().gt(0).any()
    assert_same(vec, ref)


@pytest.mark.slow
@pytest.mark.parametrize("ticker", ["AAPL", "KO"])
@pytest.mark.parametrize(
    "strategy, params, costs",
    [
        (LongOnly, {}, "default"),
        (LongShort, {"upper": 0.52, "lower": 0.48}, "min-fee"),
        (ProbabilitySized, {"allow_short": True, "rebalance_band": 0.0}, "per-share"),
        (VolTargeted, {"allow_short": True}, "high-slippage"),
        (BuyAndHold, {}, "min-fee"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_bundled_history_matches_backtrader(ticker, strategy, params, costs):
    bars = load_bundled(ticker).loc["2004":"2009"]
    # A noisy momentum signal: trades often, in both directions.
    momentum = bars["close"].pct_change(5).fillna(0.0)
    rng = np.random.default_rng(7)
    prob = 1 / (1 + np.exp(-20 * momentum)) * 0.6 + rng.uniform(0, 0.4, len(bars))
    preds = pd.DataFrame({"prob_up": prob.clip(0, 1)}, index=bars.index).iloc[300:-1]
    vec, ref = both(bars, preds, strategy, params, **COSTS[costs])
    assert len(ref.fills) > 0
    assert_same(vec, ref)


@pytest.mark.slow
def test_default_runs_are_identical_to_the_last_bit(walk):
    """`auto` picks the vector engine for built-ins; what it writes is the same bytes."""
    bars, preds = walk
    for strategy, params in STRATEGIES[::3]:
        auto = simulate(bars, preds, strategy, params, min_commission=1.0)
        ref = simulate(bars, preds, strategy, params, min_commission=1.0, engine="backtrader")
        assert auto.engine == "vector"
        mine, theirs = auto.to_dict(), ref.to_dict()
        assert (mine.pop("engine"), theirs.pop("engine")) == ("vector", "backtrader")
        assert json.dumps(mine) == json.dumps(theirs)
        for name in ("equity", "trades", "predictions"):
            assert getattr(auto, name).to_csv() == getattr(ref, name).to_csv(), name


def test_cash_trimmed_full_long_entry():
    bars = random_walk_bars(80, seed=1)
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[10:60])
    costs = {"cash": 50_000.0, "commission": 0.01, "min_commission": 3.0, "slippage": 0.001}
    vec, ref = both(bars, preds, LongOnly, **costs)
    assert_same(vec, ref)
    fill = bars["open"].iloc[11] * 1.001
    # All the cash but the closing order's minimum fee (3), which stays in cash.
    assert vec.fills["size"].iloc[0] == pytest.approx((50_000 - 3) / (fill * 1.01) * (1 - 1e-12), rel=1e-12)
    assert vec.ledger["cash"].iloc[-1] == pytest.approx(3.0, abs=1e-6)


def test_orders_skipped_for_costs_are_counted_as_backtrader_counts_them():
    # A minimum fee of 700 on 1,000: the long cannot keep the exit's fee in cash, the short
    # fills once, then covering it is more than the cash pays for with the fees (issue 20:
    # these were orders refused for cash, and a partial cover, before orders were sized to
    # keep the closing fee and skipped when their fee exceeds their value).
    bars = random_walk_bars(60, seed=4)
    preds = pd.DataFrame({"prob_up": np.resize([0.9, 0.9, 0.1, 0.1], 40)}, index=bars.index[10:50])
    vec, ref = both(bars, preds, LongShort, {"upper": 0.5, "lower": 0.5}, cash=1_000.0,
                    commission=0.0, min_commission=700.0)
    assert_same(vec, ref)
    assert ref.metrics["strategy"]["orders_skipped_costs"] == 39
    assert ref.fills["size"].tolist() == [pytest.approx(-9.936846850796393)]  # the one short
    only_short = pd.DataFrame({"prob_up": 0.1}, index=bars.index[10:50])
    vec, ref = both(bars, only_short, LongShort, cash=100.0, commission=0.0, min_commission=250.0)
    assert_same(vec, ref)
    assert ref.metrics["strategy"]["orders_skipped_costs"] == 40 and ref.fills.empty


def test_nan_predictions_hold_and_never_trading_is_the_same_empty_result():
    bars = random_walk_bars(120, seed=9)
    preds = uniform_predictions(bars, 20, 100, seed=4)
    preds.iloc[5:30, 0] = np.nan  # no decision: hold
    vec, ref = both(bars, preds, ProbabilitySized, {"allow_short": True})
    assert_same(vec, ref)
    assert vec.predictions["target"].isna().sum() == 25
    flat = preds.assign(prob_up=0.3)
    vec, ref = both(bars, flat, LongOnly)
    assert_same(vec, ref)
    assert vec.fills.empty and vec.trades.empty and vec.first_trade is None
    assert vec.ledger["position"].dtype == ref.ledger["position"].dtype


def test_last_bar_open_trade_and_a_decision_without_a_fill_bar():
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.8, 0.9, 0.1]}, index=bars.index[:3])
    vec, ref = both(bars, preds, LongShort, slippage=0.01)
    assert_same(vec, ref)
    assert vec.trades["open"].tolist() == [False, True]
    last = pd.DataFrame({"prob_up": [0.8, 0.9, 0.1, 0.9, 0.2]}, index=bars.index)
    vec, ref = both(bars, last, LongShort)  # the last decision has no bar to fill on
    assert_same(vec, ref)


def test_long_short_band_error_is_raised_by_both_engines(walk):
    bars, preds = walk
    for engine in ("vector", "backtrader"):
        with pytest.raises(ConfigError, match="lower <= upper"):
            simulate(bars, preds, LongShort, {"upper": 0.4, "lower": 0.6}, engine=engine)


class Contrarian(LongOnly):
    """A user's subclass with its own targets: only backtrader knows them."""

    def target_exposure(self) -> float:
        return 1.0 if self.prob_up[0] < 0.5 else 0.0


class Cautious(LongOnly):
    """Only a parameter default changes: the vector engine still applies."""

    params = (("threshold", 0.7),)


class OwnOrders(LongOnly):
    def order_exposure(self, target, price):
        return super().order_exposure(target / 2, price)


class HalfIn(PredictionStrategy):
    def target_exposure(self) -> float:
        return 0.5


def test_which_classes_the_vector_engine_runs(walk):
    assert all(vector_applies(cls) for cls, _ in STRATEGIES)
    assert vector_applies(Cautious)
    for cls in (Contrarian, OwnOrders, HalfIn, PredictionStrategy, int, "long-only"):
        assert not vector_applies(cls), cls
    bars, preds = walk
    auto = simulate(bars, preds, Contrarian)
    assert auto.engine == "backtrader" and auto.to_dict()["engine"] == "backtrader"
    expected = np.where(preds["prob_up"] < 0.5, 1.0, 0.0)
    assert (auto.predictions["target"].to_numpy() == expected).all()
    with pytest.raises(ConfigError, match="vector engine cannot run 'Contrarian'") as info:
        simulate(bars, preds, Contrarian, engine="vector")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="engine must be"):
        simulate(bars, preds, LongOnly, engine="numba")
    vec, ref = both(bars, preds, Cautious)
    assert_same(vec, ref)


class StrictFees(PredictionStrategy):
    """Targets the vector engine knows, but its own rule for orders not worth their fee."""

    params = (("threshold", 0.5),)

    def target_exposure(self) -> float:
        return 1.0 if self.prob_up[0] > self.p.threshold else 0.0

    @classmethod
    def vector_targets(cls, frame, params):
        p = frame["prob_up"].to_numpy(dtype="float64")
        return cls.decided(p, np.where(p > params["threshold"], 1.0, 0.0))

    def _fee_exceeds_value(self, order, price):
        return abs(order) * price < 200.0  # no order under 200 is worth its fee


def test_a_strategy_with_its_own_fee_rule_runs_on_backtrader():
    # The fee rule decides which orders are sent: the kernel only knows the base class's.
    bars = random_walk_bars(60, seed=4)
    preds = pd.DataFrame({"prob_up": np.resize([0.9, 0.1], 40)}, index=bars.index[10:50])
    assert not vector_applies(StrictFees)
    auto = simulate(bars, preds, StrictFees, cash=100.0, commission=0.0, min_commission=1.0)
    assert auto.engine == "backtrader"
    assert auto.fills.empty and auto.metrics["strategy"]["orders_skipped_costs"] == 20


def test_the_comparison_detects_a_wrong_fill(walk, monkeypatch):
    bars, preds = walk
    vec, ref = both(bars, preds, LongShort)
    assert_same(vec, ref)
    vec.fills.loc[3, "price"] *= 1 + 1e-8
    with pytest.raises(AssertionError, match="fills"):
        assert_same(vec, ref)
    # A kernel that slips a little more: every table moves, and the comparison says so.
    real = vector.kernel.run_kernel

    def more_slippage(*args):
        *head, slippage, band = args
        return real(*head, slippage * (1 + 1e-6), band)

    monkeypatch.setattr(vector.kernel, "run_kernel", more_slippage)
    off = simulate(bars, preds, LongShort, engine="vector")
    with pytest.raises(AssertionError):
        assert_same(off, ref)
