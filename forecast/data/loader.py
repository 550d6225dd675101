"""One way to resolve a ticker to bars, shared by every command and the Python API."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from forecast.data.frame import parse_date, span
from forecast.data.sources import RESOLUTION_ORDER, Source, make_source, ways_out
from forecast.data.store import Store
from forecast.data.tickers import normalize_ticker

# Still importable from here for forecast/cli/data_cmd.py; the policy lives next to Yahoo.
from forecast.errors import ConfigError, SourceError, TickerError

log = logging.getLogger("fcast.data")


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
    fcast, saying so in one logged line. `source` forces one of the registered sources
    (forecast.data.sources: ``store``, ``yahoo``, ``file`` (needs `path`), ``bundled``,
    alias ``sample``).

    The ticker is normalized here, once (a `Ticker` the sources pass on unchecked), and
    the bars validated once, by the source they come from; callers read the ticker from
    ``bars.attrs["ticker"]``.
    """
    check_span(start, end)  # before anything loads
    ticker = normalize_ticker(ticker)
    store = store or Store()
    if source is not None:
        frame = make_source(source, store, path).load(ticker, start, end)
    else:
        chain = [make_source(name, store, path) for name in RESOLUTION_ORDER]
        frame = _first_that_delivers(chain, ticker, start, end)
    out = span(frame, start, end)
    if out.empty:
        raise TickerError(
            f"{ticker}: no bars between {start or 'the start'} and {end or 'the end'} "
            f"(data covers {frame.index[0].date()} to {frame.index[-1].date()})"
        )
    return out


def check_span(start, end, names: tuple[str, str] = ("start", "end")):
    """(start, end) as Timestamps (None stays None); ConfigError when either is not a date
    fcast can represent or `start` is after `end`. `names`: how the message calls them."""
    first, last = parse_date(start, names[0]), parse_date(end, names[1])
    if first is not None and last is not None and first > last:
        raise ConfigError(f"{names[0]} {start} is after {names[1]} {end}: no day lies between them")
    return first, last


def _first_that_delivers(chain: list[Source], ticker: str, start, end) -> pd.DataFrame:
    """Bars from the first source in `chain` that has the ticker and delivers it.

    A source without the ticker is passed over in silence (the store lacks most); one
    that fails (SourceError) is passed over too, and the source that then serves says
    why in one logged line. Other errors (a corrupted store file) stop the resolution.
    """
    failures: list[SourceError] = []
    for source in chain:
        if not source.has(ticker):
            continue
        try:
            frame = source.load(ticker, start, end)
        except SourceError as exc:
            failures.append(exc)
            continue
        if failures:
            log.warning("%s: %s; using %s history %s to %s", ticker, _why(failures), source.name,
                        frame.index[0].date(), frame.index[-1].date())
        return frame
    raise TickerError(f"{ticker}: not in the local store and {_why(failures)}; {ways_out(ticker)}")


def _why(failures: list[SourceError]) -> str:
    return "; ".join(exc.detail for exc in failures)
