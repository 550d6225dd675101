"""`update_store`: bring stored Yahoo tickers up to date and say, per ticker, what changed.

Each ticker goes through `fetch_into_store(refresh=True)`, the policy `fcast data fetch
--refresh` uses: only the days after the stored ones are downloaded, with a few stored days
again to check Yahoo's adjustment basis; new bars merge when those days agree, and when
Yahoo has re-adjusted its history (a dividend, a split) the whole span is downloaded again
and replaces it. This module adds what a refresh of many tickers needs around that:

- Yahoo is probed once: unreachable, nothing is asked and nothing is written.
- The stored bars are read before and after, under the ticker's lock, so the report
  (bars added, bars revised) is what really changed in the store.
- A re-downloaded history that lacks stored dates is refused (the stored bars are kept):
  an update never loses bars.
- The new and revised bars go through the import's data checks (forecast.data.checks).
- One ticker's failure is recorded and the others go on; bars imported from files are
  never mixed with Yahoo's (skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from forecast.data.store import Store
from forecast.errors import ConfigError, DataError, FcastError, SourceError, StoreError, TickerError
from forecast.formatting import count

UPDATED, UP_TO_DATE, KEPT, SKIPPED, FAILED = "updated", "up to date", "kept", "skipped", "failed"
# Relative change of a stored value that counts as a revision: far below a cent on any
# price, far above the float noise of two downloads of one value.
REVISION_RTOL = 1e-8


@dataclass(frozen=True)
class TickerUpdate:
    """What an update did to one ticker. Dates are YYYY-MM-DD strings."""

    ticker: str
    status: str  # UPDATED, UP_TO_DATE, KEPT (Yahoo not asked), SKIPPED (not Yahoo's bars), FAILED
    added: int = 0  # bars dated after the stored ones (or missing from them)
    first_new: str | None = None
    last_new: str | None = None
    revised: int = 0  # stored bars whose values changed
    revised_from: str | None = None  # the earliest of them
    readjusted: bool = False  # revisions before the refresh's overlap: Yahoo re-adjusted history
    last: str | None = None  # the last stored date after the update
    message: str | None = None  # why FAILED, KEPT or SKIPPED, in one line naming the ticker
    reason: str | None = None  # the same in a word scripts can branch on (see `_reason`)
    warnings: tuple[str, ...] = ()  # the data checks' findings on the new and revised bars

    def as_dict(self) -> dict:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        return out


@dataclass
class UpdateReport:
    """Every ticker's `TickerUpdate`, in the order asked."""

    results: list[TickerUpdate]
    reachable: bool | None  # whether Yahoo answered the probe (None: nothing to ask it)
    universe: str | None = None
    without_bars: list[str] = field(default_factory=list)  # universe members not in the store
    stopped: str | None = None  # why the tickers after some point were not asked (KEPT)

    def having(self, status: str) -> list[TickerUpdate]:
        return [r for r in self.results if r.status == status]

    def counts(self) -> dict[str, int]:
        return {s: len(self.having(s)) for s in (UPDATED, UP_TO_DATE, KEPT, SKIPPED, FAILED)}

    @property
    def ok(self) -> bool:
        """No ticker failed and none was left out for want of Yahoo."""
        return not self.having(FAILED) and not self.having(KEPT)

    def as_dict(self) -> dict:
        return {"reachable": self.reachable, "ok": self.ok, "stopped": self.stopped,
                "universe": self.universe, "members_without_bars": self.without_bars,
                "counts": self.counts(),
                "tickers": [r.as_dict() for r in self.results]}


def update_store(
    store: Store,
    tickers: list[str] | None = None,
    *,
    universe: str | None = None,
    download: Callable[..., pd.DataFrame] | None = None,
    reachable: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> UpdateReport:
    """Refresh `tickers` (default: every stored ticker; with `universe`, that universe's
    tickers in the store) from Yahoo Finance, incrementally.

    `download`, `reachable` and `sleep` are Yahoo's boundary, as in `fetch_yahoo` (None:
    the real ones, looked up at call time). `progress(ticker, i, n)` is called before
    each of the n tickers asked of Yahoo. Per-ticker failures are in the report, never
    raised; ConfigError for tickers and a universe both given, or an unknown universe.
    """
    from forecast.data import yahoo

    names, without_bars = _wanted(store, tickers, universe)
    decided = {name: _precheck(store, name) for name in names}
    todo = [name for name, result in decided.items() if result is None]
    if not todo:
        return UpdateReport(list(decided.values()), None, universe, without_bars)
    probe = reachable or yahoo.yahoo_reachable
    if not probe():
        for name in todo:
            decided[name] = TickerUpdate(name, KEPT, message=f"{name}: Yahoo Finance unreachable",
                                         reason="unreachable")
        return UpdateReport(list(decided.values()), False, universe, without_bars)
    # Reachable now: one probe stands for every ticker (a lost network shows as failures).
    fetch = partial(yahoo.fetch_yahoo, download=download, reachable=lambda: True, sleep=sleep)
    stopped = None
    for i, name in enumerate(todo):
        if stopped is not None:
            decided[name] = TickerUpdate(name, KEPT, message=f"{name}: not asked: {stopped}",
                                         reason="not_asked")
            continue
        if progress is not None:
            progress(name, i, len(todo))
        decided[name] = result = _update_one(store, name, fetch)
        # Rate limited after fetch_yahoo's retries, or offline since the probe: the other
        # tickers would only wait for the same answer.
        if result.reason == "rate_limited":
            stopped = "Yahoo Finance is rate limiting requests"
        elif result.reason == "failed" and not probe():
            stopped = "Yahoo Finance became unreachable"
    return UpdateReport(list(decided.values()), True, universe, without_bars, stopped)


def _wanted(store: Store, tickers, universe) -> tuple[list[str], list[str]]:
    """The tickers to update (as given, or found) and the universe's members without bars."""
    if tickers and universe is not None:
        raise ConfigError("give tickers or --universe, not both")
    if universe is not None:
        from forecast.data.universes import UniverseStore

        opened = UniverseStore(store.home).open(universe)
        stored = [t for t in opened.tickers if store.has(t)]
        missing = set(opened.without_bars()) | (set(opened.tickers) - set(stored))
        return stored, sorted(missing)
    if tickers:
        return list(dict.fromkeys(str(t).upper() for t in tickers)), []  # aapl and AAPL: once
    return [e[0] if isinstance(e, tuple) else e.ticker for e in store.list()], []


def _precheck(store: Store, name: str) -> TickerUpdate | None:
    """A result decided without Yahoo (bad name, not stored, unreadable, not Yahoo's
    bars), or None: ask Yahoo."""
    from forecast.data.tickers import normalize_ticker

    try:
        ticker = normalize_ticker(name)
        if not store.has(ticker):
            raise StoreError(f"{ticker}: not in the store; `fcast data fetch {ticker}` downloads it")
        info = store.info(ticker)
    except FcastError as exc:
        return _failed(str(name), exc)
    if info.source != "yahoo":
        return _skipped(ticker, info.source)
    return None


def _skipped(ticker: str, source: str) -> TickerUpdate:
    return TickerUpdate(ticker, SKIPPED, reason="mixed_sources", message=(
        f"{ticker}: its bars come from {source}, never mixed with Yahoo's "
        f"(`fcast data fetch {ticker} --replace` swaps them)"))


def _failed(ticker: str, exc: FcastError) -> TickerUpdate:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not text.upper().startswith(f"{ticker.upper()}:"):
        text = f"{ticker}: {text}"
    return TickerUpdate(ticker, FAILED, message=text, reason=_reason(exc))


def _reason(exc: FcastError) -> str:
    """A failure's cause in a word: a SourceError's own reason (``no_data``, ``rate_limited``,
    ``failed``, ``would_drop_bars``...), else the kind of error."""
    from forecast.locking import LockTimeout

    if isinstance(exc, SourceError):
        return exc.reason
    kinds = ((LockTimeout, "locked"), (DataError, "invalid_data"), (StoreError, "store"),
             (TickerError, "invalid_ticker"))
    return next((word for cls, word in kinds if isinstance(exc, cls)), "failed")


def _update_one(store: Store, ticker: str, fetch) -> TickerUpdate:
    """Refresh one ticker under its lock, and compare what is stored before and after."""
    from forecast.data.tickers import normalize_ticker
    from forecast.data.yahoo import fetch_into_store

    ticker = normalize_ticker(ticker)
    try:
        with store.lock(ticker):  # reentrant: fetch_into_store takes it again
            old = store.read(ticker)
            fetch_into_store(ticker, store, refresh=True, fetch=_never_dropping(fetch, old))
            new = store.read(ticker)
    except SourceError as exc:
        if exc.reason == "mixed_sources":  # imported from a file since the precheck
            return _skipped(ticker, exc.detail.removeprefix("the store holds bars from "))
        return _failed(ticker, exc)
    except FcastError as exc:  # bad data (the import checks), a held lock, a damaged file
        return _failed(ticker, exc)
    return compare(ticker, old, new)


def _never_dropping(fetch, old: pd.DataFrame):
    """`fetch`, refusing a download that would replace the stored history (asked from its
    first date or earlier) but lacks some of its dates: the stored bars are kept."""
    first = old.index[0]

    def guarded(ticker, start, end):
        new = fetch(ticker, start, end)
        if start is not None and start <= first:
            covered = old.index[old.index >= start]
            if end is not None:
                covered = covered[covered < end]
            missing = covered.difference(new.index)
            if len(missing):
                cause = (f"Yahoo Finance's history lacks {count(len(missing), 'stored bar')} "
                         f"(the first on {missing[0].date()})")
                raise SourceError(
                    f"{ticker}: {cause}, so its re-adjusted history would lose them; the stored "
                    f"bars are kept (`fcast data fetch {ticker} --replace` takes Yahoo's anyway)",
                    reason="would_drop_bars", detail=cause)
        return new

    return guarded


def compare(ticker: str, old: pd.DataFrame, new: pd.DataFrame) -> TickerUpdate:
    """What changed between two versions of a ticker's stored bars."""
    from forecast.data.checks import suspicious
    from forecast.data.yahoo import OVERLAP_DAYS

    added = new.index.difference(old.index)
    shared = old.index.intersection(new.index)
    cols = [c for c in old.columns if c in new.columns]
    same = np.isclose(new.loc[shared, cols].to_numpy(), old.loc[shared, cols].to_numpy(),
                      rtol=REVISION_RTOL, atol=0.0).all(axis=1)
    revised = shared[~same]
    changed = added.union(revised)
    if len(changed) == 0:
        return TickerUpdate(ticker, UP_TO_DATE, last=_day(new.index[-1]))
    # The merge path rewrites only the refresh's overlap; a revision before it means the
    # whole history was downloaded again.
    overlap_start = old.index[-1] - pd.Timedelta(days=OVERLAP_DAYS)
    return TickerUpdate(
        ticker, UPDATED,
        added=len(added),
        first_new=_day(added[0]) if len(added) else None,
        last_new=_day(added[-1]) if len(added) else None,
        revised=len(revised),
        revised_from=_day(revised[0]) if len(revised) else None,
        readjusted=bool(len(revised) and revised[0] < overlap_start),
        last=_day(new.index[-1]),
        warnings=tuple(suspicious(new, ticker, since=changed[0])),
    )


def _day(stamp) -> str:
    return str(pd.Timestamp(stamp).date())
