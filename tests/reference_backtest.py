"""A plain-python re-simulation of fcast's fill convention, to check the engine against.

It knows nothing of backtrader: each target decided at bar i's close fills at bar i+1's
open moved by slippage; sizes follow the documented rules of `PredictionStrategy`
(value measured at that open, the rebalance band, buys trimmed to the cash, a flip as
one order paying one percentage fee); trades are accounted the way the docs of
`BacktestResult.trades` describe (average entry price, realised P&L per shrinking fill,
an open trade marked to the last close).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Simulation:
    fills: list = field(default_factory=list)  # (bar, signed size, price, fee)
    cash: list = field(default_factory=list)  # at each bar's close
    position: list = field(default_factory=list)
    value: list = field(default_factory=list)
    trades: list = field(default_factory=list)  # dicts, the columns of BacktestResult.trades


def _order(target, pos, cash, price, *, commission, slippage, band):
    value = cash + pos * price
    if value <= 0:
        return 0.0
    if target == 0.0:
        return -pos
    same_side = pos != 0 and (pos > 0) == (target > 0)
    if same_side and abs(target - pos * price / value) <= band:
        return 0.0
    delta = target * value / price - pos
    if delta > 0:
        room = cash / (price * (1 + slippage) * (1 + commission)) * (1 - 1e-12)
        delta = min(delta, room)
    return delta


def simulate(opens, closes, targets, *, cash, commission=0.0, slippage=0.0, band=0.05) -> Simulation:
    """Run `targets` (one per bar, NaN: no decision) over the bars' `opens` and `closes`."""
    sim = Simulation()
    pos, pending = 0.0, None
    for i, (open_, close) in enumerate(zip(opens, closes, strict=True)):
        if pending is not None:
            size = _order(pending, pos, cash, open_, commission=commission, slippage=slippage, band=band)
            if size:
                price = open_ * (1 + slippage) if size > 0 else open_ * (1 - slippage)
                fee = abs(size) * price * commission
                cash -= size * price + fee
                pos += size
                sim.fills.append((i, size, price, fee))
        target = targets[i]
        pending = None if math.isnan(target) else min(1.0, max(-1.0, target))
        sim.cash.append(cash)
        sim.position.append(pos)
        sim.value.append(cash + pos * close)
    sim.trades = _trades(sim.fills, len(closes) - 1, closes[-1])
    return sim


def _trades(fills, last_bar, last_close) -> list[dict]:
    trades, trade, pos = [], None, 0.0
    for bar, size, price, fee in fills:
        legs = [size]
        if pos and (pos + size == 0 or (pos > 0) != (pos + size > 0)):
            legs = [-pos, size + pos]  # a flip: the closing leg, then the opening one
        for leg in legs:
            if not leg:
                continue
            leg_fee = fee * abs(leg) / abs(size)
            if pos == 0:
                trade = {"entry_bar": bar, "direction": "long" if leg > 0 else "short", "avg": price,
                         "grow": [], "shrink": [], "pnl": 0.0, "fees": 0.0, "size": 0.0}
            if (leg > 0) == (trade["direction"] == "long"):
                new = abs(pos) + abs(leg)
                trade["avg"] = (abs(pos) * trade["avg"] + abs(leg) * price) / new
                trade["grow"].append((abs(leg), price))
            else:
                trade["pnl"] += -leg * (price - trade["avg"])
                trade["shrink"].append((abs(leg), price))
            trade["fees"] += leg_fee
            pos += leg
            trade["size"] = max(trade["size"], abs(pos))
            if abs(pos) < 1e-9 * trade["size"]:
                pos = 0.0
                trades.append(_row(trade, bar, is_open=False))
    if pos:
        trade["pnl"] += pos * (last_close - trade["avg"])
        trade["shrink"].append((abs(pos), last_close))
        trades.append(_row(trade, last_bar, is_open=True))
    return trades


def _row(trade, exit_bar, *, is_open) -> dict:
    def vwap(pairs):
        return sum(s * p for s, p in pairs) / sum(s for s, _ in pairs)

    return {
        "entry_bar": trade["entry_bar"], "exit_bar": exit_bar, "direction": trade["direction"],
        "size": trade["size"], "entry_price": vwap(trade["grow"]), "exit_price": vwap(trade["shrink"]),
        "pnl": trade["pnl"], "pnl_net": trade["pnl"] - trade["fees"], "open": is_open,
    }
