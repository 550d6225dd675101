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

# `universe` below: anything with `bars` (ticker -> bars) and `calendar` (their union of dates).

# The traded return after a decision at calendar position t reads the open at t + 2.
LOOKAHEAD = 2
TARGET_DEFINITIONS = {
    "direction": "up if open[t+2] / open[t+1] - 1 > 0 (calendar positions)",
    "beats-median": "up if open[t+2] / open[t+1] - 1 > the cross-sectional median that day",
}


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
    out = opens.shift(-2) / opens.shift(-1) - 1.0
    out = out.where(member)  # a decision needs the ticker's own bar at t
    out.index.name = "date"
    out.columns.name = "ticker"
    return out


def target_frame(universe, target: str = "direction") -> pd.DataFrame:
    """Calendar x ticker 1.0/0.0 labels of the decision at t, NaN when unknown.

    ``direction``: traded return > 0. ``beats-median``: traded return > the cross-sectional
    median of the traded returns of the tickers that have one that day (Fischer & Krauss
    2018), NaN on days fewer than 3 tickers have one. Both read prices up to calendar
    position t + 2 (`LOOKAHEAD`).
    """
    check_target(target)
    ret = traded_returns(universe)
    known = ret.notna()
    if target == "direction":
        up = ret > 0
    else:
        up = ret.gt(ret.median(axis=1, skipna=True), axis=0)
        # A median of one or two returns says little (one return never beats itself).
        known = known & (known.sum(axis=1) >= 3).to_numpy()[:, None]
    return up.astype("float64").where(known)


TARGETS = ("direction", "beats-median")


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    return target


def calendar_positions(universe) -> dict[str, np.ndarray]:
    """Per ticker, the calendar position of each of its bars."""
    return {t: universe.calendar.get_indexer(b.index) for t, b in universe.bars.items()}
