"""A universe of tickers on one calendar: the union of their trading dates.

Its targets, traded returns and calendar conventions are in
`forecast.features.universe_target`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# The bundled universes; a name imported with `fcast universe import` resolves too.
from forecast.data.universes import BUNDLED_NAMES as UNIVERSE_NAMES
from forecast.data.universes import ETFS, bundled_universe  # noqa: F401 - their home before
from forecast.errors import ConfigError, FcastError


@dataclass
class Universe:
    """Bars per ticker (in ticker order) and their union calendar."""

    bars: dict[str, pd.DataFrame]
    calendar: pd.DatetimeIndex
    # A stored universe's point-in-time membership (forecast.data.universes.StoredUniverse,
    # read through its `mask`), or None: every ticker is a candidate whenever it has bars.
    membership: object | None = None

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
    """Load a universe: a name ("dow30", "bundled", or one imported with `fcast universe
    import`) or a list of tickers.

    Each ticker is loaded like `forecast.api.load` (split- and dividend-adjusted). A bundled
    name loads from the bundled history unless `source` says otherwise; an imported one from
    the store, with the tickers that are members some day between `start` and `end`, and
    keeps its membership (the portfolio trades a ticker only on days it is a member).
    Failures are one ConfigError line naming every ticker that could not be loaded.
    """
    from forecast.data.frame import adjusted
    from forecast.data.loader import load_bars
    from forecast.data.store import Store

    membership = None
    named = isinstance(tickers_or_name, str) and "," not in tickers_or_name
    if named and tickers_or_name not in UNIVERSE_NAMES:
        resolved = resolve_stored(tickers_or_name, home=home, start=start, end=end)
        if resolved is not None:
            tickers_or_name, membership = resolved
            source = source or "store"
    if isinstance(tickers_or_name, str):
        if tickers_or_name not in UNIVERSE_NAMES and "," not in tickers_or_name:
            raise ConfigError(
                f"unknown universe {tickers_or_name!r}: use dow30, bundled, a universe imported "
                "with `fcast universe import` or a list of tickers"
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
    universe = Universe.from_bars(bars)
    universe.membership = membership
    return universe


def resolve_stored(name: str, *, home=None, start=None, end=None) -> tuple[list[str], object] | None:
    """(tickers, membership) of the universe imported under `name`, or None when there is
    none: its tickers with bars that are members some day in [start, end], and its
    StoredUniverse (None when its membership is "bars": a member whenever it has bars).
    `load_universe` and an experiment spec's `universe = "NAME"` both resolve through it."""
    stored = _stored(name, home)
    if stored is None:
        return None
    return members_between(stored, start, end), (stored if stored.kind != "bars" else None)


def _stored(name: str, home):
    """The universe imported under `name`, or None when there is none."""
    from forecast.data.universes import UniverseStore, check_name

    try:
        check_name(name)
    except ConfigError:
        return None
    store = UniverseStore(home)
    return store.open(name) if store.has(name) else None


def members_between(stored, start, end) -> list[str]:
    """The stored universe's tickers with bars that are members some day in [start, end]."""
    from forecast.data.frame import parse_date

    lo, hi = parse_date(start, "start"), parse_date(end, "end")
    iv = stored.intervals
    hit = pd.Series(True, index=iv.index)
    if lo is not None:
        hit &= iv["end"] >= lo
    if hi is not None:
        hit &= iv["start"] <= hi
    members = set(iv.loc[hit, "ticker"])
    return [t for t in stored.tickers if t in members]
