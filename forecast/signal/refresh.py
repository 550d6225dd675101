"""Before a signal: stored tickers whose newest bar is behind the last completed session are
refreshed from Yahoo Finance (only the missing days), when Yahoo answers; otherwise the
stored bars are used as they are, and the signal says how old they are."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from forecast.errors import FcastError
from forecast.signal.sessions import sessions_behind


def refresh_stored(tickers, store, *, say: Callable[[str], None], reachable=None, fetch=None) -> list[str]:
    """Refresh the stored tickers among `tickers` that are behind; returns those refreshed.
    Tickers not in the store are left to the usual resolution (Yahoo, then bundled)."""
    from forecast.data import yahoo

    behind = []
    for ticker in tickers:
        if store.has(ticker) and sessions_behind(pd.Timestamp(store.info(ticker).last)) > 0:
            behind.append(ticker)
    if not behind:
        return []
    if not (reachable or yahoo.yahoo_reachable)():
        say(f"Yahoo Finance is unreachable: using the stored bars of {', '.join(behind)} as they are")
        return []
    done = []
    for ticker in behind:
        try:
            yahoo.fetch_into_store(ticker, store, refresh=True, fetch=fetch)
            done.append(ticker)
        except FcastError as exc:  # one ticker's failure: its line, the stored bars still serve
            say(f"{ticker}: not refreshed ({exc}); using the stored bars")
    return done
