"""A universe of tickers on one calendar: the union of their trading dates.

Calendar conventions (every portfolio module follows them):

* The calendar is the sorted union of the tickers' bar dates. A ticker that lists late or
  misses days simply has no bar on those calendar dates; its prices are never
  forward-filled.
* A decision taken at calendar date t (on t's close) fills at the next calendar date's
  open and is held to the open after that: the traded return of t is
  ``open[t+2] / open[t+1] - 1`` in calendar positions. It is NaN unless the ticker has a
  bar at t, t+1 and t+2, so a return never spans a hole in a ticker's history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, FcastError

# The traded return after a decision at calendar position t reads the open at t + 2.
LOOKAHEAD = 2
UNIVERSE_NAMES = ("dow30", "bundled")
# Bundled universes by name: the Dow 30 members of November 2017 (survivorship-biased, as
# the bundle's SOURCE.md says) and everything converted into the bundle.
ETFS = ("DIA", "IWM", "QQQ", "SPY")


def bundled_universe(name: str) -> list[str]:
    """The tickers of a bundled universe: ``dow30`` or ``bundled`` (all 34)."""
    from forecast.data.bundled import read_bundle

    converted = sorted(read_bundle()["ticker"].unique())
    if name == "dow30":
        return [t for t in converted if t not in ETFS]
    if name == "bundled":
        return converted
    raise ConfigError(f"unknown universe {name!r}: use dow30 or bundled")


@dataclass
class Universe:
    """Bars per ticker (in ticker order) and their union calendar."""

    bars: dict[str, pd.DataFrame]
    calendar: pd.DatetimeIndex

    @property
    def tickers(self) -> list[str]:
        return list(self.bars)

    @classmethod
    def from_bars(cls, bars: dict[str, pd.DataFrame]) -> Universe:
        """A universe of the given bars (at least two tickers), calendar = union of dates."""
        if len(bars) < 2:
            raise ConfigError(f"a universe needs at least 2 tickers, got {len(bars)}")
        empty = [t for t, b in bars.items() if len(b) == 0]
        if empty:
            raise ConfigError(f"no bars for {', '.join(empty)}")
        calendar = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))), name="date")
        return cls(bars=dict(bars), calendar=calendar)


def load_universe(
    tickers_or_name,
    *,
    source: str | None = None,
    path=None,
    start=None,
    end=None,
    home=None,
) -> Universe:
    """Load a universe: a name ("dow30", "bundled") or a list of tickers.

    Each ticker is loaded like `forecast.api.load` (split- and dividend-adjusted). A name
    loads from the bundled history unless `source` says otherwise. Failures are one
    ConfigError line naming every ticker that could not be loaded.
    """
    from forecast.data.frame import adjusted
    from forecast.data.loader import load_bars
    from forecast.data.store import Store

    if isinstance(tickers_or_name, str):
        if tickers_or_name not in UNIVERSE_NAMES and "," not in tickers_or_name:
            raise ConfigError(
                f"unknown universe {tickers_or_name!r}: use dow30, bundled or a list of tickers"
            )
        if "," in tickers_or_name:
            tickers = [t.strip() for t in tickers_or_name.split(",") if t.strip()]
        else:
            tickers = bundled_universe(tickers_or_name)
            source = source or "bundled"
    else:
        tickers = list(tickers_or_name)
    if len(tickers) < 2:
        raise ConfigError(f"a universe needs at least 2 tickers, got {len(tickers)}")
    if len(set(tickers)) != len(tickers):
        raise ConfigError("the universe lists a ticker twice")
    store = Store(home)
    bars, failed = {}, []
    for ticker in tickers:
        try:
            frame = adjusted(load_bars(ticker, source=source, path=path, store=store, start=start, end=end))
        except FcastError as exc:
            failed.append(f"{ticker} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            continue
        if len(frame) == 0:
            failed.append(f"{ticker} (no bars in the span)")
            continue
        bars[str(frame.attrs.get("ticker", ticker))] = frame
    if failed:
        raise ConfigError(f"could not load {len(failed)} ticker(s) of the universe: {'; '.join(failed)}")
    return Universe.from_bars(bars)


def membership(universe: Universe) -> pd.DataFrame:
    """Calendar x ticker booleans: the ticker has a bar that day."""
    return pd.DataFrame(
        {t: universe.calendar.isin(b.index) for t, b in universe.bars.items()},
        index=universe.calendar,
    )


def calendar_opens(universe: Universe) -> pd.DataFrame:
    """Calendar x ticker opens, NaN where the ticker has no bar (never forward-filled)."""
    return pd.DataFrame(
        {t: b["open"].astype("float64").reindex(universe.calendar) for t, b in universe.bars.items()},
        index=universe.calendar,
    )


def traded_returns(universe: Universe) -> pd.DataFrame:
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


def target_frame(universe: Universe, target: str = "direction") -> pd.DataFrame:
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


def calendar_positions(universe: Universe) -> dict[str, np.ndarray]:
    """Per ticker, the calendar position of each of its bars."""
    return {t: universe.calendar.get_indexer(b.index) for t, b in universe.bars.items()}
