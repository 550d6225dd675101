"""Targets of a universe's walk-forward, in calendar positions.

A universe is bars per ticker (`universe.bars`, in ticker order) and their union calendar
(`universe.calendar`), see `forecast.portfolio.universe.Universe`. Calendar conventions
(every portfolio module follows them):

* The calendar is the sorted union of the tickers' bar dates. A ticker that lists late or
  misses days simply has no bar on those calendar dates; its prices are never
  forward-filled.
* A decision taken at calendar date t (on t's close) fills at the next calendar date's
  open and is held to the open after that: the traded return of t is
  ``open[t+2] / open[t+1] - 1`` in calendar positions. It is NaN unless the ticker has a
  bar at t, t+1 and t+2, so a return never spans a hole in a ticker's history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.features.target import snap_zero

# `universe` below: anything with `bars` (ticker -> bars) and `calendar` (their union of dates).

# The traded return after a decision at calendar position t reads the open at t + 2.
LOOKAHEAD = 2
TARGET_DEFINITIONS = {
    "direction": "up if open[t+2] / open[t+1] - 1 > 0 (calendar positions)",
    "beats-median": "up if open[t+2] / open[t+1] - 1 > the cross-sectional median that day",
    "return": "open[t+2] / open[t+1] - 1 (calendar positions)",
    "rank": "percentile rank in [0, 1] of open[t+2] / open[t+1] - 1 among that day's members",
}
# Fewer returns than this on a day: no cross-sectional target (beats-median, rank) that day.
MIN_CROSS_SECTION = 3


def membership(universe) -> pd.DataFrame:
    """Calendar x ticker booleans: the ticker has a bar that day."""
    return pd.DataFrame(
        {t: universe.calendar.isin(b.index) for t, b in universe.bars.items()},
        index=universe.calendar,
    )


def calendar_opens(universe) -> pd.DataFrame:
    """Calendar x ticker opens, NaN where the ticker has no bar (never forward-filled)."""
    return pd.DataFrame(
        {t: b["open"].astype("float64").reindex(universe.calendar) for t, b in universe.bars.items()},
        index=universe.calendar,
    )


def traded_returns(universe) -> pd.DataFrame:
    """Calendar x ticker: the return traded after a decision at calendar date t.

    ``open[t+2] / open[t+1] - 1`` in calendar positions; NaN unless the ticker has bars at
    t, t+1 and t+2 (so the last two calendar dates are always NaN).
    """
    opens = calendar_opens(universe)
    member = membership(universe)
    out = snap_zero(opens.shift(-2) / opens.shift(-1) - 1.0)  # see forecast.features.target
    out = out.where(member)  # a decision needs the ticker's own bar at t
    out.index.name = "date"
    out.columns.name = "ticker"
    return out


def target_frame(universe, target: str = "direction") -> pd.DataFrame:
    """Calendar x ticker targets of the decision at t, NaN when unknown.

    ``direction``: 1.0/0.0, traded return > 0. ``beats-median``: 1.0/0.0, traded return >
    the cross-sectional median of the traded returns of the tickers that have one that day
    (Fischer & Krauss 2018), NaN on days fewer than 3 tickers have one. ``return``: the
    traded return itself. ``rank``: its percentile rank among that day's members
    (`cross_sectional_rank`). All read prices up to calendar position t + 2 (`LOOKAHEAD`).
    """
    check_target(target)
    ret = traded_returns(universe)
    if target == "return":
        return ret
    if target == "rank":
        return cross_sectional_rank(ret, day_members(universe))
    known = ret.notna()
    if target == "direction":
        up = ret > 0
    else:
        up = ret.gt(ret.median(axis=1, skipna=True), axis=0)
        # A median of one or two returns says little (one return never beats itself).
        known = known & (known.sum(axis=1) >= MIN_CROSS_SECTION).to_numpy()[:, None]
    return up.astype("float64").where(known)


def day_members(universe) -> pd.DataFrame | None:
    """Calendar x ticker booleans of a point-in-time membership (None: none, everyone with
    bars counts). A schedule fixed before each year, never a price."""
    membership = getattr(universe, "membership", None)
    if membership is None:
        return None
    return membership.mask(universe.calendar, list(universe.bars)).astype(bool)


def cross_sectional_rank(returns: pd.DataFrame, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per day (row), each return's percentile rank among that day's members with a return:
    (average rank - 1) / (n - 1), in [0, 1] (lowest 0, highest 1, ties share their mean);
    NaN for non-members, for missing returns and on days with fewer than
    `MIN_CROSS_SECTION` such returns. Only the row's own values are read."""
    ret = returns if members is None else returns.where(
        members.reindex(index=returns.index, columns=returns.columns, fill_value=False).astype(bool))
    n = ret.notna().sum(axis=1)
    rank = (ret.rank(axis=1, method="average") - 1.0).div(n - 1, axis=0)
    rank.loc[n < MIN_CROSS_SECTION] = np.nan
    return rank


def direction_frame(universe, target: str = "direction") -> pd.DataFrame:
    """The 0/1 outcome scored beside a target (`actual_up`): the target itself for the
    direction targets, the traded return's direction for ``return`` and beating that day's
    members' median (rank above 1/2) for ``rank``."""
    if target == "return":
        return target_frame(universe, "direction")
    if target == "rank":
        rank = target_frame(universe, "rank")
        return (rank > 0.5).astype("float64").where(rank.notna())
    return target_frame(universe, target)


TARGETS = ("direction", "beats-median", "return", "rank")


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    return target


def calendar_positions(universe) -> dict[str, np.ndarray]:
    """Per ticker, the calendar position of each of its bars."""
    return {t: universe.calendar.get_indexer(b.index) for t, b in universe.bars.items()}
