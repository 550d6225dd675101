"""Return statistics of equity curves, shared by the backtest engine, the pages and the terminal.

Conventions (the backtest metrics' since fcast had them): daily simple returns of the
equity curve; 252 bars a year; the annual risk-free rate compounded to a daily one;
sample standard deviations (ddof=1). A period's return runs from the last value of the
period before (the curve's first value for the first period) to its own last value.
pandas and numpy only: the engine imports this module on every run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.calendar import TRADING_DAYS


def daily_rate(annual: float | None, periods: int = TRADING_DAYS) -> float:
    """The annual rate `annual` (None: 0) compounded down to one of `periods` a year."""
    return (1.0 + (annual or 0.0)) ** (1.0 / periods) - 1.0


def daily_returns(equity, *, ruin_as_zero: bool = True):
    """Simple returns between consecutive bars of a curve (Series) or curves (DataFrame).

    `ruin_as_zero`: 0 after a bar at zero equity, as the engine's metrics count a ruined
    account (from zero nothing is gained or lost, and 0/0 = NaN would drop those days where
    curves are compared). The pages read curves as written and pass False.
    """
    returns = equity.pct_change().iloc[1:]
    if not ruin_as_zero:
        return returns
    return returns.mask(equity.shift(1).iloc[1:] == 0, 0.0)


def sortino_ratio(returns, risk_free: float = 0.0, periods: int = TRADING_DAYS) -> float:
    """Annualised Sortino ratio: mean excess return over downside deviation (target 0)."""
    excess = np.asarray(returns, dtype=float) - daily_rate(risk_free, periods)
    if len(excess) < 2:
        return math.nan
    downside = math.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
    return float(excess.mean() / downside * math.sqrt(periods)) if downside > 0 else math.nan


def rolling_sharpe(returns: pd.DataFrame, risk_free: float | None, window: int) -> pd.DataFrame:
    """Annualised Sharpe ratio over the last `window` bars (NaN until there are that many)."""
    roll = (returns - daily_rate(risk_free)).rolling(window)
    return roll.mean() / roll.std(ddof=1) * math.sqrt(TRADING_DAYS)


def drawdown(equity):
    """Fraction below the running peak (0 at a peak, negative under water)."""
    return equity / equity.cummax() - 1.0


def period_returns(equity: pd.Series, freq: str) -> pd.Series:
    """Compounded return per calendar period ("YE" or "ME") of the curve's values (NaN left
    out), labelled by period end."""
    s = equity.dropna()
    if s.empty:  # a column with no values: no period has a return
        return s
    last = s.resample(freq).last().dropna()
    previous = last.shift(1)
    previous.iloc[0] = s.iloc[0]
    return last / previous - 1.0


def yearly_returns(equity):
    """Calendar-year returns of a curve (Series) or of each curve (DataFrame), by year."""
    if isinstance(equity, pd.DataFrame):
        return pd.DataFrame({col: yearly_returns(equity[col]) for col in equity.columns})
    out = period_returns(equity, "YE")
    out.index = out.index.year
    out.index.name = "year"
    return out


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Monthly returns as years (rows) x months 1..12 (columns), NaN outside the curve."""
    monthly = period_returns(equity, "ME")
    grid = pd.DataFrame({"year": monthly.index.year, "month": monthly.index.month, "r": monthly.to_numpy()})
    return grid.pivot(index="year", columns="month", values="r").reindex(columns=range(1, 13))


def yearly_comparison(equity: pd.DataFrame) -> pd.DataFrame:
    """Per calendar year: strategy, benchmark, their difference, and whether the year is
    partial: the curve starts after its first week (`starts_late`) or ends before its last
    week (`ends_early`)."""
    out = yearly_returns(equity[["strategy", "benchmark"]])
    out["difference"] = out["strategy"] - out["benchmark"]
    first, last = equity.index[0], equity.index[-1]
    out["starts_late"] = (out.index == first.year) & ((first.month, first.day) > (1, 7))
    out["ends_early"] = (out.index == last.year) & ((last.month, last.day) < (12, 24))
    out["partial"] = out["starts_late"] | out["ends_early"]
    return out
