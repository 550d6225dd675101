"""`PredictionStrategy`: the base class every fcast strategy builds on.

A subclass only says how much of the portfolio it wants in the market; the base class
turns that exposure into orders. The target is decided in `next()` on bar t's close;
the order is sized and sent in `next_open()` of bar t+1 (backtrader's cheat-on-open
hook, which sees the open it trades at) and fills at that open. Sizing at the open lets
a full-long target spend exactly the cash there is instead of being rejected on a gap.
"""

from __future__ import annotations

import math

import backtrader as bt
import numpy as np
import pandas as pd


class PredictionStrategy(bt.Strategy):
    """Backtrader strategy driven by the feed's `prob_up` line.

    Subclasses override `target_exposure(self) -> float`, the desired position value as
    a fraction of portfolio value in [-1, 1] (clipped), using `self.prob_up[0]`,
    `self.data`, `self.position` and `self.p` (their parameters). It is called only on
    bars that carry an out-of-sample prediction; warm-up bars and the fill-only bar after
    the last prediction get no decision. `target_exposure` must read only bar t and
    earlier (`[0]`, `[-1]`, ...), never `[1]`. A NaN target means "no decision: keep the
    position". Each decision is recorded in `self.targets` as
    (backtrader date number, prob_up, target).

    Parameter `rebalance_band`: an open position is resized only when its exposure is
    more than this far from the target (entries, exits and flips always trade), so a
    held position does not churn on daily price drift.

    Costs and ruin: an order whose fee would exceed its value is not sent, nor a buy whose
    fees the cash cannot pay (both counted in `orders_skipped_costs`, except a held long's
    top-up that only the cash kept for its exit fee could pay); a buy leaves the
    minimum fee of the closing order in cash. Once the portfolio value at a close is zero
    or below, the account is ruined: decisions are still recorded, no order is sent.
    """

    params = (("rebalance_band", 0.05),)
    _vector_base = True  # marks the order rules the vector engine replays (forecast.backtest.vector)

    @classmethod
    def warmup_bars(cls, params: dict) -> int:
        """Bars of history read before the first decision (e.g. a trailing volatility
        window); the adapter keeps that many bars ahead of the first prediction."""
        return 0

    def __init__(self):
        self.prob_up = self.data.prob_up
        self.targets: list[tuple] = []
        self._pending: float | None = None  # target decided at a close, sent at the next open
        self.orders_skipped_costs = 0
        self._ruined = False

    def target_exposure(self) -> float:
        """Desired exposure for the next bar, -1 (all short) to 1 (all long)."""
        raise NotImplementedError

    @classmethod
    def vector_targets(cls, frame: pd.DataFrame, params: dict) -> np.ndarray:
        """The targets `next()` would record, for every bar of the feed `frame` at once.

        `frame` is the feed (`open ... volume, prob_up`, `prob_up` NaN where no decision is
        taken); `params` all of the strategy's parameters, defaults included. Returns one
        float per bar: the clipped target, NaN where `next()` sends nothing. A subclass
        implementing it must compute exactly what its `target_exposure` does (the vector
        engine runs a class only where both come from the same class).
        """
        raise NotImplementedError

    @staticmethod
    def decided(prob_up: np.ndarray, raw) -> np.ndarray:
        """`next()`'s rules over arrays: no decision where `prob_up` or the raw target is
        NaN, else the target clipped to [-1, 1] (Python's min/max, signed zeros included)."""
        raw = np.broadcast_to(np.asarray(raw, dtype="float64"), np.shape(prob_up))
        low = np.where(raw > -1.0, raw, -1.0)
        clipped = np.where(low < 1.0, low, 1.0)
        return np.where(np.isnan(prob_up) | np.isnan(raw), np.nan, clipped)

    def next(self):
        self._pending = None
        if self.broker.getvalue() <= 0:  # the value at this close: ruined, for good
            self._ruined = True
        p = self.prob_up[0]
        if math.isnan(p):
            return  # warm-up or fill-only bar: never trade on it
        target = float(self.target_exposure())
        if not math.isnan(target):
            target = min(1.0, max(-1.0, target))
            self._pending = target
        self.targets.append((self.data.datetime[0], p, target))

    def next_open(self):
        # Runs at bar t+1's open, before the broker fills: the target was fixed on bar
        # t's close; only this bar's open (the price it trades at) is read here.
        target, self._pending = self._pending, None
        if target is not None:
            self.order_exposure(target, self.data.open[0])

    prenext_open = nextstart_open = next_open

    def order_exposure(self, target: float, price: float):
        """Send the market order that moves the position to `target` x portfolio value.

        Portfolio value and the target size are measured at `price` (this bar's open);
        backtrader's `order_target_size` turns the wanted shares into the order (a flip
        is one order, so it budgets, and the broker charges, one fee). Added here: the
        rebalance band, and a buy trimmed to what the cash pays for, slippage and
        commission included, so that it is not rejected (a full-long target ends just
        under 100% invested). backtrader's `order_target_value`/`_percent` are not used:
        they value the position at the bar's close, unknown at its open (look-ahead).
        """
        size = self.position.size
        cash = self.broker.getcash()
        value = cash + size * price
        if self._ruined or value <= 0 or price <= 0:
            return None
        held = size != 0 and target != 0.0 and (size > 0) == (target > 0)
        if held and abs(target - size * price / value) <= self.p.rebalance_band:
            return None  # entries, exits and flips always trade
        want = target * value / price
        order = -size if want == 0.0 else want - size  # what order_target_size sends
        if order == 0.0:
            return None
        trimmed = False
        if target != 0.0 and want > size:  # a buy (an exit is never trimmed)
            room = self._affordable(cash, price)
            if want - size > room:  # more than the cash pays for: buy what it does
                if room <= 0:
                    # Counted when fees stop it; not a held long's top-up, whose cash is
                    # what is kept for the exit fee (it would count on every held day).
                    self.orders_skipped_costs += cash > 0 and size <= 0
                    return None
                order, trimmed = room, True
        if self._fee_exceeds_value(order, price):
            self.orders_skipped_costs += 1
            return None
        return self.buy(size=room) if trimmed else self.order_target_size(target=want)

    def _fee_exceeds_value(self, order: float, price: float) -> bool:
        """Whether `order` (signed shares) would pay more in fee than it is worth at this open."""
        slip = self.broker.p.slip_perc
        if slip:  # the fill price, as the broker's slippage moves it
            price = price * (1 + slip) if order > 0 else price * (1 - slip)
        info = self.broker.getcommissioninfo(self.data)
        check = getattr(info, "fee_exceeds_value", None)
        return bool(check(order, price)) if check is not None else False

    def _affordable(self, cash: float, price: float) -> float:
        """Most shares `cash` buys in one order at `price` after slippage and commission."""
        fill = price * (1.0 + self.broker.p.slip_perc)
        info = self.broker.getcommissioninfo(self.data)
        affordable = getattr(info, "affordable_size", None)
        if affordable is not None:  # fcast's commission: minimum fee and all, in closed form
            size = affordable(cash, fill)
        else:  # backtrader's own schemes charge a fee proportional to the size
            size = max(0.0, cash / (fill + info.getcommission(1.0, fill)))
        return size * (1.0 - 1e-12)  # keep cash >= 0 despite rounding
