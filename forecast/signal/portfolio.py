"""A portfolio signal: the last decision row of the portfolio run its configuration
defines, through `as_of` (the weights the ranking strategy wants for the next session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from forecast.errors import ConfigError
from forecast.signal.config import SignalConfig
from forecast.signal.replay import portfolio_through


@dataclass
class PortfolioSignal:
    as_of: pd.Timestamp  # the last calendar day used
    forecasts: pd.DataFrame  # ticker -> prob_up (or score), that day's forecasts
    weights: pd.Series  # ticker -> target weight for the next session (NaN: not tradable)
    closes: dict  # ticker -> the last close (for sizing orders)
    test_start: pd.Timestamp | None
    result: object = field(default=None, repr=False)  # the PortfolioResult behind it

    def rows(self) -> list[dict]:
        column = "prob_up" if "prob_up" in self.forecasts.columns else "score"
        out = []
        for ticker in sorted(set(self.forecasts.index) | set(self.weights.dropna().index)):
            value = self.forecasts[column].get(ticker)
            weight = self.weights.get(ticker)
            out.append({"ticker": ticker, "as_of": str(self.as_of.date()),
                        column: None if value is None or pd.isna(value) else float(value),
                        "target": None if weight is None or pd.isna(weight) else float(weight),
                        "close": self.closes.get(ticker)})
        return out


def portfolio_signal(config: SignalConfig, *, as_of=None, home=None, source=None, cache: bool = True,
                     progress: Callable | None = None) -> PortfolioSignal:
    result = portfolio_through(config, end=as_of, home=home, source=source, cache=cache, progress=progress)
    targets = result.backtest.targets
    if targets.empty:
        raise ConfigError("the portfolio run made no decision")
    last = pd.Timestamp(targets.index[-1])
    preds = result.predictions
    day = preds.xs(last, level="date") if last in preds.index.get_level_values("date") else preds.iloc[:0]
    if day.empty:
        raise ConfigError(f"the last day ({last.date()}) has no forecast")
    weights = targets.iloc[-1]
    closes = _closes(list(weights.dropna().index), last, home=home, source=source)
    first = pd.Timestamp(preds.index.get_level_values("date").min())
    forecasts = day.drop(columns=[c for c in ("fold",) if c in day.columns])
    return PortfolioSignal(last, forecasts, weights, closes, first, result)


def _closes(tickers, day, *, home, source) -> dict:
    """Each ticker's close on `day` (its last bar up to then)."""
    from forecast.api import load

    closes = {}
    for ticker in tickers:
        bars = load(ticker, end=day, home=home, source=source)
        closes[ticker] = float(bars["close"].iloc[-1])
    return closes
