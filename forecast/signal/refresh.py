"""Before a signal: stored tickers whose newest bar is behind the last completed session are
brought up to date from Yahoo Finance (`fcast data update`'s path: only the missing days,
checked, never losing stored bars), when Yahoo answers; otherwise the stored bars are used
as they are, and the signal says how old they are."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from forecast.signal.sessions import sessions_behind


def refresh_stored(tickers, store, *, say: Callable[[str], None], reachable=None, download=None) -> list[str]:
    """Update the stored tickers among `tickers` that are behind; returns those updated.
    Tickers not in the store are left to the usual resolution (store, Yahoo, bundled)."""
    from forecast.data.update import update_store

    behind = [t for t in tickers if store.has(t) and sessions_behind(pd.Timestamp(store.info(t).last)) > 0]
    if not behind:
        return []
    report = update_store(store, behind, reachable=reachable, download=download)
    if report.reachable is False:
        say(f"Yahoo Finance is unreachable: using the stored bars of {', '.join(behind)} as they are")
        return []
    for row in report.results:
        if row.message and row.status != "updated":
            say(f"{row.message}; using the stored bars")
    return [row.ticker for row in report.results if row.status == "updated"]
