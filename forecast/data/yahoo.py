"""Daily bars from Yahoo Finance through yfinance, whichever frame shape it returns, and
the policy that merges them into the local store (`fetch_into_store`)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from forecast.data.files import normalize_columns
from forecast.data.frame import parse_date, validate_bars
from forecast.data.store import Store
from forecast.data.tickers import checked, without_ticker
from forecast.errors import SourceError

YAHOO_HOST = "query2.finance.yahoo.com"
# Set to 1 to treat Yahoo Finance as unreachable without touching the network (offline
# work, and the test suite, which must never reach it even on a networked machine).
OFFLINE_ENV = "FCAST_OFFLINE"


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _download(ticker: str, start, end) -> pd.DataFrame:
    import yfinance as yf  # imported here: it is slow to import and only fetches need it

    # yfinance prints its failures itself; fcast reports them in one line of its own.
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        return yf.download(
            ticker,
            start=start,
            end=end,
            interval="1d",
            auto_adjust=True,
            actions=False,
            progress=False,
            threads=False,
        )


def _is_rate_limit(exc: BaseException) -> bool:
    return type(exc).__name__ == "YFRateLimitError" or "rate limit" in str(exc).lower()


def yahoo_reachable(timeout: float = 2.0) -> bool:
    """Whether Yahoo Finance answers on its port, within `timeout` seconds all told.

    The connection is tried in a daemon thread because a name lookup on a machine without
    network can hang far longer than any socket timeout; an offline machine gets its
    answer in `timeout` seconds, not after yfinance's own retries.
    """
    if offline():
        return False
    answer: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((YAHOO_HOST, 443), timeout=timeout):
                answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="fcast-yahoo-probe")
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


def flatten_yahoo_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Collapse yfinance's `(Price, Ticker)` MultiIndex (>= 0.2.51) to flat price names."""
    if not isinstance(raw.columns, pd.MultiIndex):
        return raw
    levels = raw.columns.names
    ticker_level = levels.index("Ticker") if "Ticker" in levels else raw.columns.nlevels - 1
    tickers = raw.columns.get_level_values(ticker_level).unique()
    if len(tickers) > 1:
        wanted = [t for t in tickers if str(t).upper() == ticker.upper()]
        if not wanted:
            cause = f"Yahoo Finance returned other tickers {list(tickers)}"
            raise SourceError(f"{ticker}: {cause}", detail=cause)
        raw = raw.xs(wanted[0], axis=1, level=ticker_level)
    else:
        raw = raw.droplevel(ticker_level, axis=1)
    return raw


def fetch_yahoo(
    ticker: str,
    start=None,
    end=None,
    *,
    retries: int = 3,
    backoff: float = 2.0,
    download: Callable[..., pd.DataFrame] | None = None,
    reachable: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Fetch validated daily bars (split- and dividend-adjusted) for one ticker.

    Yahoo's reachability is probed first, so an offline machine fails in a couple of
    seconds; rate limiting is retried with exponential backoff; an empty answer from a
    reachable Yahoo is an unknown or delisted ticker. `download` and `reachable` are the
    network boundary, and `sleep` the backoff's clock (all looked up at call time, so
    tests can replace them).
    """
    download = download or _download
    reachable = reachable or yahoo_reachable
    sleep = sleep or time.sleep
    if not reachable():
        raise SourceError(
            f"{ticker}: cannot reach Yahoo Finance (no network?); import a file with "
            f"`fcast data import {ticker} PATH` or use a bundled ticker (`fcast data sample`)",
            reason="unreachable",
            detail="Yahoo Finance unreachable",
        )
    raw = None
    for attempt in range(retries + 1):
        try:
            raw = download(ticker, start, end)
            break
        except Exception as exc:  # yfinance raises many types; rate limits are retried
            if _is_rate_limit(exc) and attempt < retries:
                sleep(backoff * 2**attempt)
                continue
            if _is_rate_limit(exc):
                raise SourceError(
                    f"{ticker}: Yahoo Finance is rate limiting requests; try again later",
                    reason="rate_limited",
                    detail="Yahoo Finance is rate limiting requests",
                ) from exc
            # yfinance's own text often repeats the ticker ("$AAPL: possibly delisted").
            cause = without_ticker(str(exc), ticker)
            raise SourceError(
                f"{ticker}: Yahoo Finance download failed: {cause}",
                detail=f"Yahoo Finance download failed: {cause.split(';')[0]}",
            ) from exc
    if raw is None or raw.empty:
        cause = "Yahoo Finance has no data (unknown or delisted ticker?)"
        raise SourceError(f"{ticker}: {cause}", reason="no_data", detail=cause)
    flat = flatten_yahoo_columns(raw, ticker)
    if "Date" not in flat.columns and "Datetime" not in flat.columns:
        flat = flat.rename_axis("Date").reset_index()
    return validate_bars(normalize_columns(flat, ticker), ticker, source="yahoo")


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
    ticker = checked(ticker)
    fetch = fetch or fetch_yahoo
    start, end = parse_date(start, "start date"), parse_date(end, "end date")
    # A first download comes before the lock, so an unreachable Yahoo says so (and the
    # resolution falls back) even where the store cannot be written.
    new = fetch(ticker, start, end) if replace or not store.has(ticker) else None
    # What is stored decides what to download and whether to merge: hold the ticker's lock
    # from that look to the write, so two fetches (or a fetch and an import) never interleave.
    with store.lock(ticker):
        if replace or (new is not None and not store.has(ticker)):
            return store.write(new, ticker, source="yahoo")
        return _update(ticker, store, start, end, refresh, fetch)


def _update(ticker, store: Store, start, end, refresh: bool, fetch):
    """Bring stored bars up to date (under the ticker's lock)."""
    if not store.has(ticker):  # removed since the caller looked
        return store.write(fetch(ticker, start, end), ticker, source="yahoo")
    info = store.info(ticker)
    if info.source != "yahoo":
        cause = f"the store holds bars from {info.source}"
        raise SourceError(
            f"{ticker}: {cause}; merging Yahoo Finance prices would mix two price adjustments "
            "(use --replace to replace them)",
            reason="mixed_sources",
            detail=cause,
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
