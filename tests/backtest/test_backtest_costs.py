"""Costs at the edges: one minimum fee per order (flips included), large commissions,
orders the broker refuses, costs that cannot be meant."""

from __future__ import annotations

import json

import backtrader as bt
import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from forecast.backtest import simulate
from forecast.backtest.report import render_report
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from strategies import LongOnly, LongShort, ProbabilitySized


def resimulate(bars, targets, *, cash, commission, per_share, min_fee, slippage, band=0.05):
    """Plain-python ledger of the documented rules, for one target per decision date.

    A target decided at bar t's close trades at bar t+1's open; one order per decision,
    one fee per order: max(rate x |size|, min_fee). A buy takes no more than the cash
    pays for with its fee and the closing order's minimum fee; an order whose fee exceeds
    its value is skipped; a flip always trades, a same-side target only outside `band`.
    Returns the equity at each close from the first decision on.
    """
    dates = bars.loc[targets.index[0] :].index[: len(targets) + 1]
    opens, closes = bars.loc[dates, "open"].to_numpy(), bars.loc[dates, "close"].to_numpy()
    pos, equity, pending = 0.0, [], None
    for i, day in enumerate(dates):
        if pending is not None:
            price = opens[i]
            value = cash + pos * price
            order = 0.0
            if pending == 0.0:
                order = -pos
            elif pos == 0 or (pos > 0) != (pending > 0) or abs(pending - pos * price / value) > band:
                order = pending * value / price - pos
            if order:
                fill = price * (1 + slippage) if order > 0 else price * (1 - slippage)
                rate = per_share if per_share is not None else fill * commission
                if order > 0:
                    # The s that spends all the cash but the closing order's minimum fee:
                    # s * fill + max(s * rate, min_fee) = cash - min_fee.
                    spare = cash - min_fee
                    spend_all = (spare - min_fee) / fill
                    if spend_all * rate > min_fee:
                        spend_all = spare / (fill + rate)
                    order = min(order, spend_all * (1 - 1e-12))
                fee = max(abs(order) * rate, min_fee)
                if fee <= abs(order) * fill:  # a fee above the order's value: skipped
                    cash -= order * fill + fee
                    pos += order
        equity.append(cash + pos * closes[i])
        pending = targets.get(day)
    return pd.Series(equity, index=dates)


def alternating(bars, start, n, pattern):
    index = bars.index[start : start + n]
    return pd.DataFrame({"prob_up": np.resize(pattern, n)}, index=index)


@pytest.mark.parametrize(
    "commission, per_share, min_fee",
    [
        (0.0, None, 20.0),  # the minimum is every fee
        (0.001, None, 15.0),  # binding on entries (~10), not on flips (~20)
        (0.0, 0.01, 5.0),  # per share, binding throughout
    ],
)
@pytest.mark.parametrize("pattern", [[0.9, 0.1], [0.1, 0.9], [0.9, 0.9, 0.1, 0.1, 0.1]])
def test_flips_with_a_minimum_fee_match_a_plain_resimulation(commission, per_share, min_fee, pattern):
    bars = random_walk_bars(120, seed=7)
    preds = alternating(bars, 20, 80, pattern)
    cash, slip = 10_000.0, 0.0005
    r = simulate(
        bars, preds, LongShort, {"upper": 0.5, "lower": 0.5}, cash=cash, commission=commission,
        commission_per_share=per_share, min_commission=min_fee, slippage=slip,
    )
    targets = np.where(preds["prob_up"] > 0.5, 1.0, -1.0)
    expected = resimulate(
        bars, pd.Series(targets, index=preds.index), cash=cash, commission=commission,
        per_share=per_share, min_fee=min_fee, slippage=slip,
    )
    np.testing.assert_allclose(r.equity["strategy"], expected, rtol=1e-9)
    # Every flip fills, in both directions, and lands on the side the target asked for.
    pos = r.ledger["position"]
    changes = int((np.diff(targets) != 0).sum())
    held = pos.loc[preds.index[1:]].to_numpy()
    assert (np.sign(held) == targets[:-1]).all()
    assert r.metrics["strategy"]["orders_rejected_cash"] == 0
    assert (r.fills["size"] > 0).any() and (r.fills["size"] < 0).any()
    assert len(r.fills) >= changes + 1
    # One fee per order: a flip pays the minimum once, not once per leg.
    rate = per_share if per_share is not None else r.fills["price"] * commission
    fee = np.maximum(r.fills["size"].abs() * rate, min_fee)
    np.testing.assert_allclose(r.fills["commission"], fee, rtol=1e-12)


def test_rebalancing_with_a_minimum_fee_matches_a_plain_resimulation():
    # Sized targets flip and resize; backtrader's closed + opened legs of a flip can miss
    # the order's size by ~1e-13 shares, which must not become a fill (and a fee) of its own.
    bars = random_walk_bars(500, seed=12)
    rng = np.random.default_rng(5)
    preds = pd.DataFrame({"prob_up": rng.uniform(0, 1, 300)}, index=bars.index[150:450])
    cash, slip, comm, min_fee = 100_000.0, 0.001, 0.002, 2.0
    r = simulate(bars, preds, ProbabilitySized, {"allow_short": True, "gain": 1.5},
                     cash=cash, commission=comm, min_commission=min_fee, slippage=slip)
    targets = np.clip(1.5 * (2 * preds["prob_up"] - 1), -1.0, 1.0)
    expected = resimulate(bars, targets, cash=cash, commission=comm, per_share=None,
                          min_fee=min_fee, slippage=slip)
    np.testing.assert_allclose(r.equity["strategy"], expected, rtol=1e-9)
    decided = bars.index[bars.index.get_indexer(r.fills["date"]) - 1]
    assert decided.isin(preds.index).all() and (r.fills["size"].abs() > 1e-6).all()


class FlipTwice(bt.Strategy):
    """Plain backtrader: long 10, then one order to short 10, then one back to long 5."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        sizes = {2: 10, 4: -20, 6: 15}
        if self.n in sizes:
            self.buy(size=sizes[self.n]) if sizes[self.n] > 0 else self.sell(size=-sizes[self.n])


def test_any_strategy_pays_one_minimum_per_flip_split_over_its_trades():
    bars = random_walk_bars(40, seed=2)
    preds = pd.DataFrame({"prob_up": 0.5}, index=bars.index[5:30])
    r = simulate(bars, preds, FlipTwice, cash=10_000.0, commission=0.0, min_commission=7.0,
                     slippage=0.0)
    assert r.fills["size"].tolist() == [10, -20, 15]
    assert r.fills["commission"].tolist() == pytest.approx([7.0, 7.0, 7.0], rel=1e-12)
    # Each leg of a flip carries its share of the one fee, in proportion to its size:
    # 10 of 20 shares close the long, 10 of 15 close the short.
    fees = r.trades["pnl"].to_numpy() - r.trades["pnl_net"].to_numpy()
    assert fees == pytest.approx([7 + 3.5, 3.5 + 7 * 10 / 15, 7 * 5 / 15], rel=1e-12)


@pytest.mark.parametrize("commission", [0.05, 0.2, 0.9])
def test_large_commission_still_buys_all_the_cash_pays_for(commission):
    bars = random_walk_bars(60, seed=1)
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[10:50])
    cash, slip = 50_000.0, 0.0005
    r = simulate(bars, preds, LongOnly, cash=cash, commission=commission, slippage=slip)
    fill = bars["open"].iloc[11] * (1 + slip)
    assert len(r.fills) == 1 and r.metrics["strategy"]["orders_rejected_cash"] == 0
    assert r.fills["size"].iloc[0] == pytest.approx(cash / (fill * (1 + commission)), rel=1e-9)
    assert 0 <= r.ledger["cash"].iloc[-1] < 1e-6 * cash


class Refused(bt.Strategy):
    """Plain backtrader: orders the broker turns down, one way each."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        if self.n in (3, 4, 5):
            self.buy(size=1e9)  # far more than the cash: Margin
        if self.n == 6:
            self.parked = self.buy(size=1, exectype=bt.Order.Limit, price=1.0)
            self.cancel(self.parked)  # Canceled
        if self.n == 7:  # a child of a cancelled parent: Rejected
            self.sell(size=1, parent=self.parked, exectype=bt.Order.Stop, price=1.0)
        if self.n == 9:
            self.sell(size=10)
        if self.n == 11:  # covers the short, but cannot pay for the long: Margin, part-filled
            self.buy(size=1e7)


def test_refused_orders_are_counted_reported_and_saved(tmp_path):
    bars = random_walk_bars(60, seed=1)
    preds = pd.DataFrame({"prob_up": 0.5}, index=bars.index[10:50])
    r = simulate(bars, preds, Refused, cash=10_000.0)
    m = r.metrics["strategy"]
    assert (m["orders_rejected_cash"], m["orders_rejected"], m["orders_canceled"]) == (4, 1, 1)
    # The closing leg of the refused flip did execute: it is a fill, and the short is gone.
    assert r.fills["size"].tolist() == pytest.approx([-10.0, 10.0])
    assert r.ledger["position"].iloc[-1] == 0
    console = Console(record=True, width=140)
    render_report(r, console)
    text = console.export_text()
    assert "orders rejected: 4 (not enough cash)" in text
    assert "orders rejected: 1 (by the broker)" in text and "orders canceled: 1" in text
    saved = json.loads((r.write(tmp_path / "run", plot=False) / "metrics.json").read_text())
    assert saved["strategy"]["orders_rejected_cash"] == 4
    assert "orders_rejected_cash" not in saved["benchmark"]


def test_a_clean_run_reports_no_refusals():
    bars = random_walk_bars(80, seed=3)
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[10:60])
    r = simulate(bars, preds, LongOnly)
    console = Console(record=True, width=140)
    render_report(r, console)
    assert "orders rejected" not in console.export_text()


@pytest.mark.parametrize(
    "costs", [{"commission": 1.0}, {"commission": 2.5}, {"slippage": 1.0}, {"slippage": 3.0}]
)
def test_costs_of_100_percent_or_more_are_refused_in_one_line(costs):
    bars = random_walk_bars(60, seed=1)
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[10:50])
    with pytest.raises(ConfigError, match=f"{next(iter(costs))} .*below 1") as info:
        simulate(bars, preds, LongOnly, **costs)
    assert "\n" not in str(info.value)
