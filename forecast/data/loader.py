"""One way to resolve a ticker to bars, shared by every command and the Python API."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.bundled import is_bundled, load_bundled
from forecast.data.frame import parse_date, span
from forecast.data.store import Store
from forecast.data.tickers import normalize_ticker, without_ticker
from forecast.errors import ConfigError, SourceError, TickerError

# "sample" is the earlier name of "bundled", kept so existing commands still run.
SOURCES = ("yahoo", "file", "bundled", "sample")

log = logging.getLogger("fcast.data")


def ways_out(ticker: str) -> str:
    return (
        f"import a file with `fcast data import {ticker} PATH`, fetch it with "
        f"`fcast data fetch {ticker}` when Yahoo Finance is reachable, or use a bundled "
        "ticker offline (`fcast data sample` lists them; --source bundled)"
    )


# Stored days re-downloaded with every refresh, to check Yahoo's adjustment basis.
OVERLAP_DAYS = 10


def fetch_into_store(
    ticker: str,
    store: Store,
    start=None,
    end=None,
    *,
    refresh: bool = False,
    replace: bool = False,
    fetch=None,
):
    """Fetch from Yahoo Finance into the store; returns the stored info.

    Yahoo's adjusted prices are rescaled back through history at every split and
    dividend, so new bars are merged only when the days both downloads share agree;
    otherwise the whole span is downloaded again and replaces the stored bars. With
    `refresh`, only the days after the stored ones (plus a few stored days, for that
    check) and any asked-for days before them are downloaded. Bars from another source
    are never mixed with Yahoo's: `replace` swaps them for a fresh download.
    """
    from forecast.data.yahoo import fetch_yahoo

    ticker = normalize_ticker(ticker)
    fetch = fetch or fetch_yahoo
    start, end = parse_date(start, "start date"), parse_date(end, "end date")
    if replace or not store.has(ticker):
        return store.write(fetch(ticker, start, end), ticker, source="yahoo")
    info = store.info(ticker)
    if info.source != "yahoo":
        raise SourceError(
            f"{ticker}: the store holds bars from {info.source}; merging Yahoo Finance prices "
            "would mix two price adjustments (use --replace to replace them)"
        )
    old = store.read(ticker)
    first, last = old.index[0], old.index[-1]
    if refresh:
        pieces = []
        if start is not None and start < first:
            pieces.append(fetch(ticker, start, first + pd.Timedelta(days=OVERLAP_DAYS)))
        if end is None or end > last + pd.Timedelta(days=1):
            pieces.append(fetch(ticker, last - pd.Timedelta(days=OVERLAP_DAYS), end))
        if not pieces:
            return info
        new = pd.concat(pieces)
        new = new.loc[~new.index.duplicated(keep="last")].sort_index()
    else:
        new = fetch(ticker, start, end)
    if not same_adjustment(old, new):
        span_start = first if start is None else min(first, start)
        return store.write(fetch(ticker, span_start, end), ticker, source="yahoo")
    return store.merge(new, ticker, source="yahoo")


def same_adjustment(old: pd.DataFrame, new: pd.DataFrame, rtol: float = 1e-4) -> bool:
    """Whether two downloads agree on the days they share (False when they share none)."""
    shared = old.index.intersection(new.index)
    if len(shared) == 0:
        return False
    ratio = new.loc[shared, "close"].to_numpy() / old.loc[shared, "close"].to_numpy()
    return bool(np.allclose(ratio, 1.0, rtol=rtol, atol=0.0))


def load_bars(
    ticker: str,
    *,
    source: str | None = None,
    path: str | Path | None = None,
    store: Store | None = None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Validated daily bars for `ticker`, between `start` and `end` inclusive.

    With no `source`: the local store, then Yahoo Finance (whose answer is saved to the
    store), then, when Yahoo fails (typically: unreachable), the history bundled with
    fcast, saying so in one logged line. `source` forces one of ``yahoo``, ``file`` (needs
    `path`) or ``bundled`` (alias ``sample``).
    """
    ticker = normalize_ticker(ticker)
    store = store or Store()
    if source is not None and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if source in ("bundled", "sample"):
        frame = load_bundled(ticker)
    elif source == "file":
        if path is None:
            raise ConfigError("--source file needs a file path (--file PATH)")
        from forecast.data.files import read_bars_file

        frame = read_bars_file(path, ticker)
    elif source == "yahoo":
        fetch_into_store(ticker, store, start, end)
        frame = store.read(ticker)
    elif store.has(ticker):
        frame = store.read(ticker)
    else:
        frame = _yahoo_or_bundled(ticker, store, start, end)
    out = span(frame, start, end)
    if out.empty:
        raise TickerError(
            f"{ticker}: no bars between {start or 'the start'} and {end or 'the end'} "
            f"(data covers {frame.index[0].date()} to {frame.index[-1].date()})"
        )
    return out


def _yahoo_or_bundled(ticker: str, store: Store, start, end) -> pd.DataFrame:
    try:
        fetch_into_store(ticker, store, start, end)
    except SourceError as exc:
        if not is_bundled(ticker):
            raise TickerError(
                f"{ticker}: not in the local store and {_reason(exc, ticker)}; {ways_out(ticker)}"
            ) from exc
        frame = load_bundled(ticker)
        log.warning("%s: %s; using bundled history %s to %s", ticker, _reason(exc, ticker),
                    frame.index[0].date(), frame.index[-1].date())
        return frame
    return store.read(ticker)


def _reason(exc: SourceError, ticker: str) -> str:
    if exc.reason == "unreachable":
        return "Yahoo Finance unreachable"
    return without_ticker(str(exc), ticker).split(";")[0]
