"""An analyzer that records the run bar by bar, for any backtrader strategy."""

from __future__ import annotations

import math

import backtrader as bt
import numpy as np
import pandas as pd

TRADE_COLUMNS = [
    "entry_date",
    "exit_date",
    "direction",
    "size",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_net",
    "open",
]

# Orders that ended without (fully) executing, by backtrader status: metrics key and
# the reason the report prints.
REFUSED = {
    bt.Order.Margin: ("orders_rejected_cash", "orders rejected: {n} (not enough cash)"),
    bt.Order.Rejected: ("orders_rejected", "orders rejected: {n} (by the broker)"),
    bt.Order.Canceled: ("orders_canceled", "orders canceled: {n}"),
}

# Orders not executed because of their costs: a fee above the order's value (the broker
# rejects those, a PredictionStrategy does not send them), or a buy whose fees the cash
# cannot pay. Counted apart from the rejections above.
SKIPPED_COSTS = ("orders_skipped_costs",
                 "orders skipped for costs: {n} (the fee would exceed the order's value, "
                 "or the cash could not pay the fees)")
COUNTED = (*REFUSED.values(), SKIPPED_COSTS)


def no_orders_refused() -> dict:
    """Every count of orders that did not fill, at zero."""
    return {key: 0 for key, _ in COUNTED}


def count_refused(refused: dict, order) -> None:
    """Add `order` to the counts of `no_orders_refused` if it ended without filling."""
    if order.status == bt.Order.Rejected and order.info.get("skipped_for_costs"):
        refused[SKIPPED_COSTS[0]] += 1
    elif order.status in REFUSED:
        refused[REFUSED[order.status][0]] += 1


_EPOCH = 719163.0  # backtrader's date number of 1970-01-01


def num_to_timestamps(nums) -> pd.DatetimeIndex:
    """Backtrader date numbers (days since 0001-01-01, plus one) to timestamps, vectorised."""
    days = np.asarray(nums, dtype=float) - _EPOCH
    return pd.DatetimeIndex(pd.to_datetime(np.round(days * 86_400_000_000), unit="us"))


class FillRecorder:
    """backtrader's order notifications, recorded one way for every run on backtrader (a
    strategy or analyzer hands it each `notify_order`): one row per executed order, and the
    counts of orders that did not fill (`no_orders_refused`)."""

    COLUMNS = ("date", "ticker", "size", "price", "commission")

    def __init__(self):
        self.rows: list[tuple] = []  # (date number, data feed name, signed size, price, fee)
        self.refused = no_orders_refused()

    def notify_order(self, order) -> None:
        count_refused(self.refused, order)
        # A refused order may have executed in part first (the closing leg of a flip whose
        # opening leg the cash did not cover): that part is a fill too.
        done = order.status == order.Completed or order.status in REFUSED
        if done and order.executed.size:
            ex = order.executed
            self.rows.append((ex.dt, order.data._name, ex.size, ex.price, ex.comm))

    def frame(self) -> pd.DataFrame:
        """One row per executed order: `date, ticker, size` (signed), `price, commission`."""
        frame = pd.DataFrame(self.rows, columns=list(self.COLUMNS))
        frame["date"] = num_to_timestamps(frame["date"])
        return frame


class Recorder(bt.Analyzer):
    """Cash, portfolio value and position at each bar's close; fills; trades; refused orders."""

    def start(self):
        self.rows: list[tuple] = []
        self.orders = FillRecorder()
        self.refused = self.orders.refused
        self._trades: dict = {}

    def stop(self):
        # Orders a strategy chose not to send for their costs (PredictionStrategy counts them).
        self.refused[SKIPPED_COSTS[0]] += int(getattr(self.strategy, "orders_skipped_costs", 0))

    def next(self):
        data = self.strategy.data
        pos = self.strategy.broker.getposition(data)
        broker = self.strategy.broker
        # Raw date numbers: converting one per bar (num2date) costs more than the bar.
        self.rows.append((data.datetime[0], broker.getcash(), broker.getvalue(), pos.size, data.close[0]))

    def notify_order(self, order):
        self.orders.notify_order(order)

    def notify_trade(self, trade):
        self._trades[trade.ref] = trade

    def bars(self) -> pd.DataFrame:
        """One row per bar: `cash, value, position, close`, indexed by date."""
        frame = pd.DataFrame(self.rows, columns=["date", "cash", "value", "position", "close"])
        frame["date"] = num_to_timestamps(frame["date"])
        return frame.set_index("date")

    def fills_frame(self) -> pd.DataFrame:
        """One row per executed order: `date, size` (signed), `price, commission` (one
        ticker: no ticker column)."""
        return self.orders.frame().drop(columns="ticker")

    def trades(self) -> pd.DataFrame:
        """Trades, one per position from opening to flat; one still open at the end is
        marked to the last close (its exit is that bar) and flagged `open`. A ruined
        account's ends at its ruin: marked to the ruin close, the loss that ruined it."""
        # the first close whose value is zero or below (the ruin), else the last
        end = next((row for row in self.rows if row[2] <= 0), self.rows[-1] if self.rows else None)
        last_date, last_close = (end[0], end[4]) if end else (None, math.nan)
        rows = [
            _trade_row(t, last_date, last_close)
            for t in sorted(self._trades.values(), key=lambda t: t.ref)
        ]
        frame = pd.DataFrame(rows, columns=TRADE_COLUMNS)
        for col in ("entry_date", "exit_date"):
            frame[col] = pd.to_datetime(frame[col])
        frame["open"] = frame["open"].astype(bool)
        return frame


def _trade_row(trade, last_date, last_close) -> tuple:
    # backtrader hands analyzers a copy of a trade when it opens and when it closes, so
    # an open trade's own fields are those of its opening; its history (shared, one entry
    # per fill) is current. Entry and exit prices are size-weighted over the fills that
    # grew and shrank it. An open trade's remaining size is "sold" at the last close,
    # without a fee (as the equity curve values it), so that pnl_net over all trades sums
    # to the equity change.
    sign = 1.0 if trade.long else -1.0
    grow = [(h.event.size, h.event.price) for h in trade.history if h.event.size * sign > 0]
    shrink = [(h.event.size, h.event.price) for h in trade.history if h.event.size * sign < 0]
    now = trade.history[-1].status
    is_open = now.status != bt.Trade.Closed
    pnl, pnl_net, exit_num = now.pnl, now.pnlcomm, now.dt
    if is_open:
        shrink.append((-now.size, last_close))
        unrealised = now.size * (last_close - now.price)
        pnl, pnl_net, exit_num = pnl + unrealised, pnl_net + unrealised, last_date

    def vwap(pairs):
        total = sum(abs(s) for s, _ in pairs)
        return sum(abs(s) * p for s, p in pairs) / total if total else math.nan

    size = max(abs(h.status.size) for h in trade.history)
    return (
        bt.num2date(trade.dtopen).date(),
        bt.num2date(exit_num).date(),
        "long" if trade.long else "short",
        size,
        vwap(grow),
        vwap(shrink),
        pnl,
        pnl_net,
        is_open,
    )
