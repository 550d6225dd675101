"""Where daily bars come from: one small class per source, and the registry of their names.

A new source is one class here (a `Source` subclass with `name`, `describe` and `load`)
and one entry in `SOURCES`; `load_bars` (forecast.data.loader) and the `--source` help
(`source_help`) pick it up from the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pandas as pd

from forecast.data.store import Store
from forecast.errors import ConfigError


class Source:
    """A source of one ticker's validated daily bars.

    Built for one request with the local store and the file path the caller gave (a
    source ignores what it does not need). `load` raises SourceError when the source
    fails to deliver (the resolution then tries the next one) and any other FcastError
    for faults no other source would mend.
    """

    name: ClassVar[str]
    describe: ClassVar[str]  # a phrase for help texts

    def __init__(self, store: Store, path: str | Path | None = None):
        self.store = store
        self.path = path

    def has(self, ticker: str) -> bool:
        """Whether this source may serve `ticker` at all, known without loading it."""
        return True

    def load(self, ticker: str, start=None, end=None) -> pd.DataFrame:
        raise NotImplementedError


class StoreSource(Source):
    name = "store"
    describe = "the local store only"

    def has(self, ticker: str) -> bool:
        return self.store.has(ticker)

    def load(self, ticker: str, start=None, end=None) -> pd.DataFrame:
        return self.store.read(ticker)


class YahooSource(Source):
    name = "yahoo"
    describe = "Yahoo Finance, saved to the store"

    def load(self, ticker: str, start=None, end=None) -> pd.DataFrame:
        from forecast.data.yahoo import fetch_into_store  # yfinance only when fetching

        fetch_into_store(ticker, self.store, start, end)
        return self.store.read(ticker)


class FileSource(Source):
    name = "file"
    describe = "a CSV or Parquet file (--file PATH)"

    def load(self, ticker: str, start=None, end=None) -> pd.DataFrame:
        if self.path is None:
            raise ConfigError("--source file needs a file path (--file PATH)")
        from forecast.data.files import read_bars_file

        return read_bars_file(self.path, ticker)


class BundledSource(Source):
    name = "bundled"
    describe = "the history bundled with fcast (offline)"

    def has(self, ticker: str) -> bool:
        from forecast.data.bundled import is_bundled

        return is_bundled(ticker)

    def load(self, ticker: str, start=None, end=None) -> pd.DataFrame:
        from forecast.data.bundled import load_bundled

        return load_bundled(ticker)


SOURCES: dict[str, type[Source]] = {
    cls.name: cls for cls in (StoreSource, YahooSource, FileSource, BundledSource)
}
# Earlier names still accepted: "sample" was the first name of "bundled".
ALIASES = {"sample": "bundled"}
# Tried in this order when no source is forced: Yahoo only for what the store lacks,
# the bundle only when Yahoo fails.
RESOLUTION_ORDER = ("store", "yahoo", "bundled")


def source_names() -> tuple[str, ...]:
    """The names `--source` accepts (aliases left out)."""
    return tuple(SOURCES)


def source_help() -> str:
    """The `--source` option's help, written from the registry."""
    *rest, last = source_names()
    chain = ", ".join("Yahoo" if name == "yahoo" else name for name in RESOLUTION_ORDER)
    return f"Force a source: {', '.join(rest)} or {last} (default: {chain})."


def make_source(name: str, store: Store, path: str | Path | None = None) -> Source:
    """The source registered as `name` (or an alias), built for one request."""
    cls = SOURCES.get(ALIASES.get(name, name))
    if cls is None:
        choices = ", ".join([*SOURCES, *ALIASES])
        raise ConfigError(f"unknown source {name!r}; choose one of {choices}")
    return cls(store, path)


def survivorship_biased(bars: dict[str, pd.DataFrame]) -> bool | None:
    """Whether a universe's history is known to be survivorship-biased: True with any bundled
    stock (today's Dow members, filled back in time), False when every series is known not to
    be (synthetic bars, the bundled indices), None (unknown) for anything else: a user's
    files, the store, Yahoo. fcast cannot tell how those tickers were chosen."""
    from forecast.data.bundled import ARCH_SAMPLES

    sources = {t: b.attrs.get("source") for t, b in bars.items()}
    if any(s == "bundled" and t not in ARCH_SAMPLES for t, s in sources.items()):
        return True
    if all(s == "synthetic" or (s == "bundled" and t in ARCH_SAMPLES) for t, s in sources.items()):
        return False
    return None


def ways_out(ticker: str) -> str:
    """The ways to get bars for a ticker no source could serve."""
    return (
        f"import a file with `fcast data import {ticker} PATH`, fetch it with "
        f"`fcast data fetch {ticker}` when Yahoo Finance is reachable, or use a bundled "
        "ticker offline (`fcast data sample` lists them; --source bundled)"
    )
