"""Ticker symbols are checked before they touch a path in the store.

`load_bars` normalizes a ticker once, where it enters; the result is a `Ticker`, which
the store and the sources pass on without checking it again (`checked`).
"""

from __future__ import annotations

import re

from forecast.errors import TickerError

# Letters, digits and the punctuation real symbols use: BRK-B, ^GSPC, EURUSD=X, BF.B.
_TICKER = re.compile(r"[A-Za-z0-9^][A-Za-z0-9.\-=^_]{0,31}")


class Ticker(str):
    """A symbol `normalize_ticker` accepted: upper-cased, safe in a store path."""

    __slots__ = ()


def normalize_ticker(ticker: str) -> Ticker:
    """Return the upper-cased ticker, or raise `TickerError` for anything path-like."""
    if not isinstance(ticker, str) or not _TICKER.fullmatch(ticker) or ".." in ticker:
        shown = repr(ticker) if isinstance(ticker, str) else type(ticker).__name__
        raise TickerError(
            f"invalid ticker {shown}: use letters, digits and . - = ^ _ "
            "(e.g. AAPL, BRK-B, ^GSPC, EURUSD=X)"
        )
    return Ticker(ticker.upper())


def checked(ticker: str) -> Ticker:
    """`ticker` as it is when normalized already, else `normalize_ticker(ticker)`."""
    return ticker if isinstance(ticker, Ticker) else normalize_ticker(ticker)


def without_ticker(message: str, ticker: str) -> str:
    """`message` with no "TICKER: " in it, for a line that names the ticker itself.

    Wrapped errors repeat it: ours start with it, and yfinance's read "$TICKER: ...".
    """
    return re.sub(rf"(?<![\w.^=-])\$?{re.escape(ticker)}: ", "", message)
