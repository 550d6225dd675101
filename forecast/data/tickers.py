"""Ticker symbols are checked before they touch a path in the store."""

from __future__ import annotations

import re

from forecast.errors import TickerError

# Letters, digits and the punctuation real symbols use: BRK-B, ^GSPC, EURUSD=X, BF.B.
_TICKER = re.compile(r"[A-Za-z0-9^][A-Za-z0-9.\-=^_]{0,31}")


def normalize_ticker(ticker: str) -> str:
    """Return the upper-cased ticker, or raise `TickerError` for anything path-like."""
    if not isinstance(ticker, str) or not _TICKER.fullmatch(ticker) or ".." in ticker:
        shown = repr(ticker) if isinstance(ticker, str) else type(ticker).__name__
        raise TickerError(
            f"invalid ticker {shown}: use letters, digits and . - = ^ _ "
            "(e.g. AAPL, BRK-B, ^GSPC, EURUSD=X)"
        )
    return ticker.upper()


def without_ticker(message: str, ticker: str) -> str:
    """`message` with no "TICKER: " in it, for a line that names the ticker itself.

    Wrapped errors repeat it: ours start with it, and yfinance's read "$TICKER: ...".
    """
    return re.sub(rf"(?<![\w.^=-])\$?{re.escape(ticker)}: ", "", message)
