"""A universe of tickers on one calendar: the union of their trading dates.

Its targets, traded returns and calendar conventions are in
`forecast.features.universe_target`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecast.errors import ConfigError, FcastError

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
