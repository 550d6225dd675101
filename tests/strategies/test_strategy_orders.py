"""How `PredictionStrategy` turns targets into orders: the rebalance band, a NaN target,
short and flipped trades, and the risk-free rate, against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from reference_backtest import simulate

from forecast.backtest import simulate as run_backtest  # the engine; `simulate` here is the reference
from forecast.data.synthetic import random_walk_bars
from strategies import LongShort, PredictionStrategy

APPROX = {"rel": 1e-10, "abs": 1e-8}


class HalfIn(PredictionStrategy):
    """Half the portfolio long on every prediction: only price drift moves the exposure."""

    def target_exposure(self) -> float:
        return 0.5


class HoldOnHalf(PredictionStrategy):
    """Long above 0.5, flat below, and no decision (NaN) at exactly 0.5."""

    def target_exposure(self) -> float:
        p = self.prob_up[0]
        return math.nan if p == 0.5 else (1.0 if p > 0.5 else 0.0)


def bars_and_preds(n=300, first=100, last=280, seed=21):
    bars = random_walk_bars(n, seed=seed)
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[first:last])
    return bars, preds


def resimulate(bars, preds, target, **costs):
    span = bars.loc[preds.index[0] :].iloc[: len(preds) + 1]
    targets = np.append(np.full(len(preds), target), np.nan)  # the fill-only bar decides nothing
    return span.index, simulate(span["open"].to_numpy(), span["close"].to_numpy(), targets, **costs)


@pytest.mark.parametrize("band", [0.0, 0.02, 0.05])
def test_rebalance_band_resizes_only_beyond_the_band(band):
    bars, preds = bars_and_preds()
    costs = {"cash": 50_000.0, "commission": 0.001, "slippage": 0.0005}
    r = run_backtest(bars, preds, HalfIn, {"rebalance_band": band}, **costs)
    dates, sim = resimulate(bars, preds, 0.5, band=band, **costs)
    bar, size, price, _ = (np.array(col) for col in zip(*sim.fills, strict=True))
    assert r.fills["date"].tolist() == list(dates[bar])
    # A resize is a difference of nearly equal sizes: compared to 1e-9 shares (of ~240).
    np.testing.assert_allclose(r.fills["size"], size, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(r.fills["price"], price, rtol=1e-12)
    np.testing.assert_allclose(r.equity["strategy"], sim.value, rtol=1e-12)
    # Every bar after the entry re-measures the exposure at the open: count the resizes.
    opens = bars["open"].reindex(dates).to_numpy()
    ledger = r.ledger
    before = ledger["position"].shift(1).to_numpy()[2:] * opens[2:]
    exposure = before / (ledger["cash"].shift(1).to_numpy()[2:] + before)
    assert len(r.fills) - 1 == int((np.abs(0.5 - exposure) > band).sum())
    if band == 0.0:
        assert len(r.fills) == len(preds)  # no band: resized on every bar
    else:
        assert 1 < len(r.fills) < len(preds) / 2  # drift crosses the band now and then


def test_a_nan_target_keeps_the_position_and_sends_no_order():
    index = pd.bdate_range("2021-01-04", periods=6, name="date")
    bars = pd.DataFrame(
        {"open": [100.0, 102, 104, 103, 110, 108], "high": [106.0, 106, 107, 108, 112, 111],
         "low": [99.0, 101, 102, 100, 105, 104], "close": [101.0, 104, 105, 101, 108, 109],
         "volume": 1e6},
        index=index,
    )
    preds = pd.DataFrame({"prob_up": [0.9, 0.5, 0.5, 0.1]}, index=index[:4])
    r = run_backtest(bars, preds, HoldOnHalf, cash=10_000.0, commission=0.0, slippage=0.0)
    assert r.fills["date"].tolist() == [index[1], index[4]]  # bought, held over the NaNs, sold
    size = 10_000.0 / 102.0 * (1 - 1e-12)
    assert r.ledger["position"].tolist() == pytest.approx([0.0, size, size, size, 0.0], **APPROX)
    assert r.fills["size"].tolist() == pytest.approx([size, -size], **APPROX)
    target = r.predictions["target"]
    assert target.iloc[0] == 1.0 and target.iloc[1:3].isna().all() and target.iloc[3] == 0.0


def test_short_and_flipped_trades_pnl_by_hand():
    """Short at day 1, flip long at day 3, flip short at day 4 (open at the end)."""
    index = pd.bdate_range("2021-01-04", periods=6, name="date")
    o = [100.0, 102.0, 104.0, 98.0, 110.0, 108.0]
    c = [101.0, 103.0, 99.0, 101.0, 109.0, 107.0]
    bars = pd.DataFrame({"open": o, "high": np.maximum(o, c) + 1, "low": np.minimum(o, c) - 1,
                         "close": c, "volume": 1e6}, index=index)
    preds = pd.DataFrame({"prob_up": [0.2, 0.2, 0.8, 0.2]}, index=index[:4])
    cash, comm, slip = 10_000.0, 0.001, 0.002
    # A band of 1 never resizes a held position: only the entry and the two flips trade.
    r = run_backtest(bars, preds, LongShort, {"rebalance_band": 1.0}, cash=cash, commission=comm,
                     slippage=slip)

    short_px = o[1] * (1 - slip)  # day 1: sell all of the portfolio's value short
    q = cash / o[1]
    cash1 = cash + q * short_px - q * short_px * comm
    buy_px = o[3] * (1 + slip)  # day 3: one buy closes the short and goes long, trimmed to cash
    bought = cash1 / (buy_px * (1 + comm)) * (1 - 1e-12)
    long_size = bought - q
    cash3 = cash1 - bought * buy_px - bought * buy_px * comm
    sell_px = o[4] * (1 - slip)  # day 4: one sell closes the long and goes short
    value4 = cash3 + long_size * o[4]
    short2 = value4 / o[4]
    sold = long_size + short2
    cash4 = cash3 + sold * sell_px - sold * sell_px * comm

    assert r.fills["date"].tolist() == [index[1], index[3], index[4]]
    assert r.fills["size"].tolist() == pytest.approx([-q, bought, -sold], **APPROX)
    assert r.fills["commission"].tolist() == pytest.approx(
        [q * short_px * comm, bought * buy_px * comm, sold * sell_px * comm], **APPROX)
    t = r.trades
    assert t["direction"].tolist() == ["short", "long", "short"]
    assert t["entry_date"].tolist() == [index[1], index[3], index[4]]
    assert t["exit_date"].tolist() == [index[3], index[4], index[4]]
    assert t["open"].tolist() == [False, False, True]
    assert t["size"].tolist() == pytest.approx([q, long_size, short2], **APPROX)
    assert t["entry_price"].tolist() == pytest.approx([short_px, buy_px, sell_px], **APPROX)
    assert t["exit_price"].tolist() == pytest.approx([buy_px, sell_px, c[4]], **APPROX)
    # Each leg of a flip pays its share of the order's one fee.
    pnl = [q * (short_px - buy_px), long_size * (sell_px - buy_px), short2 * (sell_px - c[4])]
    fees = [q * (short_px + buy_px) * comm, long_size * (buy_px + sell_px) * comm, short2 * sell_px * comm]
    assert t["pnl"].tolist() == pytest.approx(pnl, **APPROX)
    assert t["pnl_net"].tolist() == pytest.approx([p - f for p, f in zip(pnl, fees, strict=True)], **APPROX)
    assert r.equity["strategy"].iloc[-1] == pytest.approx(cash4 - short2 * c[4], **APPROX)
    assert t["pnl_net"].sum() == pytest.approx(cash4 - short2 * c[4] - cash, **APPROX)


def test_risk_free_rate_reaches_both_sides_sharpe_and_sortino():
    bars, preds = bars_and_preds(seed=5)
    preds["prob_up"] = np.random.default_rng(3).uniform(0, 1, len(preds))
    rf = 0.04
    r = run_backtest(bars, preds, LongShort, risk_free=rf)
    plain = run_backtest(bars, preds, LongShort)
    daily = (1 + rf) ** (1 / 252) - 1
    for side in ("strategy", "benchmark"):
        values = r.equity[side].to_numpy()
        excess = np.diff(values) / values[:-1] - daily
        downside = math.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
        m = r.metrics[side]
        assert m["sharpe"] == pytest.approx(excess.mean() / excess.std(ddof=1) * math.sqrt(252), rel=1e-12)
        assert m["sortino"] == pytest.approx(excess.mean() / downside * math.sqrt(252), rel=1e-12)
        assert m["sharpe"] < plain.metrics[side]["sharpe"]  # the rate is subtracted, not ignored
        assert m["total_return"] == plain.metrics[side]["total_return"]
    assert r.settings["risk_free"] == rf and r.to_dict()["settings"]["risk_free"] == rf
