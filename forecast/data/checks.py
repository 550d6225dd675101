"""Sanity checks for valid daily bars that still look wrong: each kind is one warning line.

`validate_bars` refuses what cannot be right; these flag what is probably wrong and
worth a look before trusting a backtest on it. The thresholds:

- a one-day move of the (adjusted) close with |log return| > 0.4 (below -33% or above
  +49%): typically a split the prices were not adjusted for, or a bad price;
- a date after today, or on a Saturday or Sunday (exchanges are closed);
- more than 30 calendar days between two bars (a month and more of missing data);
- a volume over 50 times the median of the previous 60 bars, or over 1e12 shares.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecast.data.frame import adjusted

MAX_LOG_MOVE = 0.4
MAX_GAP_DAYS = 30
VOLUME_SPIKE = 50.0
VOLUME_WINDOW = 60
MAX_VOLUME = 1e12
SHOWN = 3  # dates named per warning line, then "and N more"

log = logging.getLogger("fcast.data")


def _listed(items: list[str]) -> str:
    more = len(items) - SHOWN
    shown = ", ".join(items[:SHOWN])
    return f"{shown} and {more} more" if more > 0 else shown


def _day(stamp) -> str:
    return str(pd.Timestamp(stamp).date())


def close_log_moves(frame: pd.DataFrame) -> pd.Series:
    """Each bar's one-day log move of the adjusted close (NaN on the first bar)."""
    return np.log(adjusted(frame)["close"]).diff()


def extreme_moves(frame: pd.DataFrame, moves: pd.Series | None = None) -> pd.Series:
    """Per bar, whether its close moved beyond MAX_LOG_MOVE from the previous bar's: the
    "extreme move" rule, shared by `findings` and the portfolio's universe filter. A bar's
    flag reads only that bar and the one before it."""
    moves = close_log_moves(frame) if moves is None else moves
    return moves.abs() > MAX_LOG_MOVE


# The kinds of finding, in the order `findings` reports them (summaries count by kind).
KINDS = ("extreme move", "future date", "weekend date", "gap", "absurd volume")


def suspicious(frame: pd.DataFrame, ticker: str, today=None, since=None) -> list[str]:
    """One message per kind of suspicious data in validated bars (empty: nothing found)."""
    return [message for _kind, message in findings(frame, ticker, today, since)]


def _from(found, since):
    """The flagged bars (a date-indexed Series, or dates) dated `since` or later."""
    if since is None:
        return found
    dates = found if isinstance(found, pd.DatetimeIndex) else found.index
    return found[dates >= since]


def findings(frame: pd.DataFrame, ticker: str, today=None, since=None) -> list[tuple[str, str]]:
    """(kind, message) per kind of suspicious data found, kinds from `KINDS`.

    With `since`, only bars dated on or after it are flagged; earlier bars remain the
    context (the move into the first new bar, the gap before it, the volume median), so an
    update checks its new bars as an import of the whole history would.
    """
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today)
    since = None if since is None else pd.Timestamp(since)
    dates = frame.index
    found: list[tuple[str, str]] = []

    def add(kind: str, message: str) -> None:
        found.append((kind, message))

    move = close_log_moves(frame)
    jumps = _from(move[extreme_moves(frame, move)], since)
    if len(jumps):
        add(
            "extreme move",
            f"{ticker}: {len(jumps)} one-day close move(s) beyond -33%/+49% (an unadjusted "
            "split? a bad price?): "
            + _listed([f"{_day(d)} ({np.expm1(r):+.0%})" for d, r in jumps.items()])
        )

    future = _from(dates[dates > today], since)
    if len(future):
        add("future date", f"{ticker}: {len(future)} date(s) after today ({_day(today)}): "
                     + _listed([_day(d) for d in future]))

    weekend = _from(dates[dates.dayofweek >= 5], since)
    if len(weekend):
        add("weekend date", f"{ticker}: {len(weekend)} date(s) on a Saturday or Sunday: "
                     + _listed([f"{_day(d)} ({d.day_name()[:3]})" for d in weekend]))

    step = pd.Series(dates[1:] - dates[:-1], index=dates[1:]).dt.days
    gaps = _from(step[step > MAX_GAP_DAYS], since)  # dated by the bar after the gap
    if len(gaps):
        add(
            "gap",
            f"{ticker}: {len(gaps)} gap(s) of more than {MAX_GAP_DAYS} days between bars: "
            + _listed([f"{_day(d - pd.Timedelta(days=n))} to {_day(d)} ({n} days)"
                       for d, n in gaps.items()])
        )

    volume = frame["volume"]
    median = volume.shift(1).rolling(VOLUME_WINDOW, min_periods=VOLUME_WINDOW // 3).median()
    # A zero median (an index without volume, say) gives no scale to compare with.
    spike = (volume > VOLUME_SPIKE * median) & (median > 0)
    absurd = _from(volume[spike | (volume > MAX_VOLUME)], since)
    if len(absurd):
        add(
            "absurd volume",
            f"{ticker}: {len(absurd)} absurd volume(s) (over {VOLUME_SPIKE:.0f}x the median of "
            f"the previous {VOLUME_WINDOW} bars, or over {MAX_VOLUME:,.0f}): "
            + _listed([f"{_day(d)} ({v:,.0f})" for d, v in absurd.items()])
        )
    return found


def warn_suspicious(frame: pd.DataFrame, ticker: str, today=None) -> list[str]:
    """Log each of `suspicious`'s messages as a warning line; returns them."""
    found = suspicious(frame, ticker, today)
    for message in found:
        log.warning("warning: %s", message)
    return found
