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
]


_EPOCH = 719163.0  # backtrader's date number of 1970-01-01


def num_to_timestamps(nums) -> pd.DatetimeIndex:
    """Backtrader date numbers (days since 0001-01-01, plus one) to timestamps, vectorised."""
    days = np.asarray(nums, dtype=float) - _EPOCH
    return pd.DatetimeIndex(pd.to_datetime(np.round(days * 86_400_000_000), unit="us"))


class Recorder(bt.Analyzer):
    """Cash, portfolio value and position at each bar's close; fills; trades."""

    def start(self):
        self.rows: list[tuple] = []
        self.fills: list[tuple] = []
        self._trades: dict = {}

    def next(self):
        data = self.strategy.data
        pos = self.strategy.broker.getposition(data)
        broker = self.strategy.broker
        # Raw date numbers: converting one per bar (num2date) costs more than the bar.
        self.rows.append((data.datetime[0], broker.getcash(), broker.getvalue(), pos.size, data.close[0]))

    def notify_order(self, order):
        if order.status == order.Completed:
            ex = order.executed
            self.fills.append((ex.dt, ex.size, ex.price, ex.comm))

    def notify_trade(self, trade):
        self._trades[trade.ref] = trade

    def bars(self) -> pd.DataFrame:
        """One row per bar: `cash, value, position, close`, indexed by date."""
        frame = pd.DataFrame(self.rows, columns=["date", "cash", "value", "position", "close"])
        frame["date"] = num_to_timestamps(frame["date"])
        return frame.set_index("date")

    def fills_frame(self) -> pd.DataFrame:
        """One row per executed order: `date, size` (signed), `price, commission`."""
        frame = pd.DataFrame(self.fills, columns=["date", "size", "price", "commission"])
        frame["date"] = num_to_timestamps(frame["date"])
        return frame

    def trades(self) -> pd.DataFrame:
        """Trades, one per position from opening to flat; an open one has no exit."""
        rows = [_trade_row(t) for t in sorted(self._trades.values(), key=lambda t: t.ref)]
        frame = pd.DataFrame(rows, columns=TRADE_COLUMNS)
        for col in ("entry_date", "exit_date"):
            frame[col] = pd.to_datetime(frame[col])
        return frame


def _trade_row(trade) -> tuple:
    # Entry and exit prices are size-weighted over the fills that grew and shrank it.
    sign = 1.0 if trade.long else -1.0
    grow = [(h.event.size, h.event.price) for h in trade.history if h.event.size * sign > 0]
    shrink = [(h.event.size, h.event.price) for h in trade.history if h.event.size * sign < 0]

    def vwap(pairs):
        total = sum(abs(s) for s, _ in pairs)
        return sum(abs(s) * p for s, p in pairs) / total if total else math.nan

    size = max(abs(h.status.size) for h in trade.history)
    closed = trade.isclosed
    return (
        bt.num2date(trade.dtopen).date(),
        bt.num2date(trade.dtclose).date() if closed else None,
        "long" if trade.long else "short",
        size,
        vwap(grow),
        vwap(shrink) if closed else math.nan,
        trade.pnl if closed else math.nan,
        trade.pnlcomm if closed else math.nan,
    )
