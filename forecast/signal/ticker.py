"""Ticker signals: the last row of the backtest the configuration defines, through `as_of`.

By construction a signal is that backtest's own forecast and target for its last bar, so
it cannot differ from the backtest (no second implementation of features, model or
strategy). With the test span pinned by `test_start` it also equals the row of that day
in a backtest run through any later day (tests/signal/test_parity.py replays it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from forecast.errors import ConfigError
from forecast.signal.config import SignalConfig
from forecast.signal.replay import backtest_through


@dataclass
class TickerSignal:
    """One ticker's call for the session after `as_of`."""

    ticker: str
    as_of: pd.Timestamp  # the last bar used
    prob_up: float
    target: float  # the strategy's exposure for the next session (NaN: no decision, keep the position)
    close: float  # the last bar's close (what orders are sized at)
    fingerprint: str  # of the bars used
    source: str | None
    test_start: pd.Timestamp | None  # the first out-of-sample day of the backtest behind it
    result: object = field(default=None, repr=False)  # that backtest (a BacktestResult)

    def to_dict(self) -> dict:
        return {"ticker": self.ticker, "as_of": str(self.as_of.date()), "prob_up": _number(self.prob_up),
                "target": _number(self.target), "close": _number(self.close),
                "data_fingerprint": self.fingerprint, "source": self.source}


def _number(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def ticker_signals(config: SignalConfig, *, as_of=None, home=None, source=None, path=None, cache=None,
                   guard=None, progress: Callable | None = None,
                   say: Callable[[str], None] | None = None) -> list[TickerSignal]:
    """One `TickerSignal` per ticker of `config` that loads, from bars up to `as_of`
    (inclusive; None: the newest bar). ConfigError when the last bar has no forecast."""
    signals = []
    for result, bars, _ in backtest_through(config, end=as_of, home=home, source=source, path=path,
                                            cache=cache, guard=guard, progress=progress, say=say):
        preds = result.predictions
        last_bar = pd.Timestamp(bars.index[-1])
        if preds.empty or pd.Timestamp(preds["date"].iloc[-1]) != last_bar:
            raise ConfigError(f"{result.ticker}: the last bar ({last_bar.date()}) has no forecast")
        last = preds.iloc[-1]
        signals.append(TickerSignal(
            ticker=result.ticker, as_of=last_bar, prob_up=float(last["prob_up"]),
            target=float(last["target"]),
            close=float(bars["close"].iloc[-1]), fingerprint=(result.data or {}).get("fingerprint"),
            source=bars.attrs.get("source"), test_start=pd.Timestamp(preds["date"].iloc[0]), result=result))
    return signals
