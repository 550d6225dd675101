"""Daily bars from Yahoo Finance through yfinance, whichever frame shape it returns."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import time
import warnings
from collections.abc import Callable

import pandas as pd

from forecast.data.files import normalize_columns
from forecast.data.frame import validate_bars
from forecast.errors import SourceError

YAHOO_HOST = "query2.finance.yahoo.com"


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


def yahoo_reachable(timeout: float = 3.0) -> bool:
    """Whether Yahoo Finance answers on its port at all (tells no network from no data)."""
    try:
        with socket.create_connection((YAHOO_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


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
            raise SourceError(f"{ticker}: Yahoo Finance returned other tickers {list(tickers)}")
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
    reachable: Callable[[], bool] = yahoo_reachable,
    sleep: Callable[[float], None] = time.sleep,
) -> pd.DataFrame:
    """Fetch validated daily bars (split- and dividend-adjusted) for one ticker.

    Rate limiting is retried with exponential backoff; an empty answer is reported as
    no network when Yahoo cannot be reached, and as an unknown or delisted ticker when
    it can.
    """
    download = download or _download
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
                    f"{ticker}: Yahoo Finance is rate limiting requests; try again later"
                ) from exc
            raise SourceError(f"{ticker}: Yahoo Finance download failed: {exc}") from exc
    if raw is None or raw.empty:
        if not reachable():
            raise SourceError(
                f"{ticker}: cannot reach Yahoo Finance (no network?); import a file with "
                f"`fcast data import {ticker} PATH` or use a sample ticker (`fcast data sample`)"
            )
        raise SourceError(f"{ticker}: Yahoo Finance has no data (unknown or delisted ticker?)")
    flat = flatten_yahoo_columns(raw, ticker)
    if "Date" not in flat.columns and "Datetime" not in flat.columns:
        flat = flat.rename_axis("Date").reset_index()
    return validate_bars(normalize_columns(flat, ticker), ticker, source="yahoo")
