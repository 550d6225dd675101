"""One way to resolve a ticker to bars, shared by every command and the Python API."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.data.frame import span
from forecast.data.sample import SAMPLES, load_sample
from forecast.data.store import Store
from forecast.data.tickers import normalize_ticker
from forecast.errors import ConfigError, SourceError, TickerError

SOURCES = ("yahoo", "file", "sample")


def ways_out(ticker: str) -> str:
    return (
        f"import a file with `fcast data import {ticker} PATH`, fetch it with "
        f"`fcast data fetch {ticker}` when Yahoo Finance is reachable, or use a sample "
        f"ticker offline ({', '.join(SAMPLES)} with --source sample)"
    )


def fetch_into_store(
    ticker: str, store: Store, start=None, end=None, *, refresh: bool = False, fetch=None
):
    """Fetch from Yahoo Finance and merge into the store; returns the stored info.

    With `refresh`, only dates missing before the stored first date (when `start` asks
    for earlier ones) and after the stored last date are downloaded.
    """
    from forecast.data.yahoo import fetch_yahoo

    fetch = fetch or fetch_yahoo
    ticker = normalize_ticker(ticker)
    if refresh and store.has(ticker):
        info = store.info(ticker)
        pieces = []
        first, last = pd.Timestamp(info.first), pd.Timestamp(info.last)
        if start is not None and pd.Timestamp(start) < first:
            pieces.append(fetch(ticker, start, first))  # yfinance's end is exclusive
        after = last + pd.Timedelta(days=1)
        if end is None or pd.Timestamp(end) > after:
            try:
                pieces.append(fetch(ticker, after, end))
            except SourceError as exc:
                if "no data" not in str(exc):  # nothing new since the last stored day
                    raise
        if not pieces:
            return info
        return store.merge(pd.concat(pieces).sort_index(), ticker, source="yahoo")
    return store.merge(fetch(ticker, start, end), ticker, source="yahoo")


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

    With no `source`: the local store, then the bundled samples, then Yahoo Finance
    (whose answer is saved to the store). `source` forces one of ``yahoo``, ``file``
    (needs `path`) or ``sample``.
    """
    ticker = normalize_ticker(ticker)
    store = store or Store()
    if source is not None and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if source == "sample":
        frame = load_sample(ticker)
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
    elif ticker in SAMPLES:
        frame = load_sample(ticker)
    else:
        try:
            fetch_into_store(ticker, store, start, end)
        except SourceError as exc:
            raise TickerError(f"{ticker}: not in the local store and {_reason(exc)}; "
                              f"{ways_out(ticker)}") from exc
        frame = store.read(ticker)
    out = span(frame, start, end)
    if out.empty:
        raise TickerError(
            f"{ticker}: no bars between {start or 'the start'} and {end or 'the end'} "
            f"(data covers {frame.index[0].date()} to {frame.index[-1].date()})"
        )
    return out


def _reason(exc: SourceError) -> str:
    text = str(exc)
    if "cannot reach" in text:
        return "Yahoo Finance cannot be reached"
    return text.split(": ", 1)[-1].split(";")[0]
