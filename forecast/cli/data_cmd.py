"""`fcast data ...`: fetch, import, list and show daily bars in the local store."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forecast.cli import options as o
from forecast.cli.console import TickerFailures, err, out
from forecast.formatting import count, fmt

app = typer.Typer(
    help="Market data: fetch, update, import, export, check, list, show, bundled history.",
    no_args_is_help=True,
)


def _store(ctx: typer.Context):
    return ctx.obj["store"]


@app.command()
def fetch(
    ctx: typer.Context,
    tickers: Annotated[list[str], typer.Argument(help="Ticker symbols, e.g. AAPL MSFT ^GSPC.")],
    start: Annotated[str | None, typer.Option(help="First date, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (exclusive, as Yahoo Finance counts).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download only the missing dates.")] = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace the stored bars (e.g. imported from a file) with Yahoo's."),
    ] = False,
):
    """Download daily bars from Yahoo Finance into the local store."""
    from forecast.data.yahoo import fetch_into_store

    o.refuse_ignored(ctx, o.Ignores(lambda p: p["replace"], ("refresh",),
                                    "with --replace (it downloads the whole span again)"))
    o.check_dates(start=start, end=end)
    store = _store(ctx)
    failures = TickerFailures(tickers, debug=ctx.obj["debug"])
    results = []
    with _progress("fetching") as step:
        for i, ticker in enumerate(tickers):
            step(ticker, i, len(tickers))
            info = failures.run(
                ticker, fetch_into_store, ticker, store, start, end, refresh=refresh, replace=replace
            )
            if info is not None:
                results.append(info)
    if results:
        _info_table(results, title="Stored")
    failures.report()


@app.command()
def update(
    ctx: typer.Context,
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Stored tickers to refresh (default: every stored ticker).")
    ] = None,
    universe: Annotated[
        str | None, typer.Option("--universe", help="Refresh this universe's tickers that are in the store.")
    ] = None,
    as_json: o.Json = False,
):
    """Refresh stored tickers from Yahoo Finance: only the bars after the stored ones (and a
    few stored days again, to notice a re-adjusted history), through the import checks;
    prints what changed. Yahoo unreachable: one line, nothing written, exit 1. A ticker that
    fails (delisted, bad data) gets one line, the others go on, exit 1. Bars imported from
    files are skipped, never mixed with Yahoo's."""
    from forecast.cli.update_view import show_update
    from forecast.data.update import update_store

    with _progress("updating") as step:
        report = update_store(_store(ctx), tickers or None, universe=universe,
                              progress=None if as_json else step)
    show_update(report, _store(ctx), as_json=as_json)


@contextmanager
def _progress(verb: str):
    """A progress bar on a terminal's stderr, shown once `step(ticker, i, n)` is called with
    n >= 2 (started no earlier, and never into a pipe: either leaves a blank line)."""
    bar: list = []

    def step(ticker: str, i: int, n: int) -> None:
        if n < 2 or not err.is_terminal:
            return
        if not bar:
            progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                console=err, transient=True)
            progress.start()
            bar.append((progress, progress.add_task(verb, total=n)))
        progress, task = bar[0]
        progress.update(task, completed=i, description=f"{verb} {ticker}")

    try:
        yield step
    finally:
        if bar:
            bar[0][0].stop()


@app.command("import")
def import_(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="Ticker to store the bars under.")],
    path: Annotated[str, typer.Argument(help="CSV or Parquet file of daily bars.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the stored bars even with fewer or a shorter span.")
    ] = False,
    aggregate_daily: Annotated[
        bool,
        typer.Option(
            "--aggregate-daily",
            help="Combine intraday bars into one bar per local date "
            "(open first, high max, low min, close last, volume summed).",
        ),
    ] = False,
):
    """Import a CSV or Parquet file of daily bars (it replaces the stored bars; one that would
    lose stored history needs --replace)."""
    from forecast.data.files import read_bars_file
    from forecast.data.tickers import normalize_ticker

    ticker = normalize_ticker(ticker)
    store = _store(ctx)
    frame = read_bars_file(path, ticker, aggregate_daily=aggregate_daily)  # before any write
    with store.lock(ticker):  # the check and the write as one step: no import slips in between
        old = _stored_before(store, ticker, frame, replace)
        info = store.write(frame, ticker, source=frame.attrs["source"])
    _info_table([info], title="Imported")
    if old is not None:
        out.print(f"replaced {_span(old)} ({old.source}) with {_span(info)}", markup=False)
    dropped = frame.attrs.get("dropped_empty_rows", 0)
    if dropped:
        out.print(f"dropped {count(dropped, 'empty row')}")


def _span(info) -> str:
    return f"{_bars(info.rows)} {info.first} to {info.last}"


def _bars(n: int) -> str:
    return count(n, "bar")


def _stored_before(store, ticker: str, frame, replace: bool):
    """The stored ticker's info (None: not stored); StoreError when the import would lose
    stored history (fewer bars, a later first or an earlier last date) without `replace`."""
    from forecast.errors import StoreError

    if not store.has(ticker):
        return None
    try:
        old = store.info(ticker)
    except StoreError as exc:
        if replace:
            return None
        raise StoreError(f"{exc}; add --replace to overwrite it") from exc
    first, last = str(frame.index[0].date()), str(frame.index[-1].date())
    shrinks = len(frame) < old.rows or first > old.first or last < old.last
    if shrinks and not replace:
        raise StoreError(
            f"{ticker}: the store holds {_span(old)} ({old.source}); the file has "
            f"{_bars(len(frame))} {first} to {last}, so importing it would lose stored history "
            "(left unchanged; add --replace to replace it anyway)"
        )
    return old


@app.command("list")
def list_(ctx: typer.Context):
    """List the tickers in the local store."""
    store = _store(ctx)
    entries = store.list()
    if not entries:
        out.print(f"the store at {store.home} is empty; try `fcast data import` or `fcast data sample`")
        return
    good = [e for e in entries if not isinstance(e, tuple)]
    if good:
        _info_table(good, title=f"Store: {store.bars_dir}")
    for _ticker, message in (e for e in entries if isinstance(e, tuple)):
        err.print(f"warning: {message}", markup=False)


@app.command()
def show(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="The ticker to show.")],
    tail: Annotated[int, typer.Option("--tail", min=1, help="How many of the last bars to show.")] = 10,
    source: o.Source = None,
    file: Annotated[str | None, typer.Option("--file", help="File to read with --source file.")] = None,
):
    """Show a ticker's last bars and its span."""
    from forecast.data.loader import load_bars

    o.refuse_ignored(ctx, o.FILE_NEEDS_SOURCE)
    frame = load_bars(ticker, source=source, path=file, store=_store(ctx))
    table = Table(
        title=f"{frame.attrs['ticker']} ({frame.attrs['source']}): {_bars(len(frame))}, "
        f"{frame.index[0].date()} to {frame.index[-1].date()}"
    )
    table.add_column("date")
    for col in frame.columns:
        table.add_column(col, justify="right")
    for date, row in frame.tail(tail).iterrows():
        table.add_row(
            str(date.date()),
            *(f"{v:,.0f}" if c == "volume" else f"{v:,.4f}" for c, v in row.items()),
        )
    out.print(table)


@app.command()
def export(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="Ticker whose bars to write.")],
    path: Annotated[str, typer.Argument(help="File to write: Parquet for .parquet or .pq, else CSV.")],
    source: o.Source = None,
    file: o.File = None,
    start: o.Start = None,
    end: o.End = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
):
    """Write a ticker's daily bars to a CSV or Parquet file (`fcast data import` reads it back)."""
    from pathlib import Path

    from forecast.atomic import write_atomic
    from forecast.data.loader import load_bars
    from forecast.errors import ConfigError, StoreError

    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; give a file name such as {target / 'bars.csv'}")
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; give --force to overwrite it")
    frame = load_bars(ticker, source=source, path=file, store=_store(ctx), start=start, end=end)
    data = frame.rename_axis("date")
    data.attrs = {}
    if target.suffix.lower() in (".parquet", ".pq"):
        content = lambda handle: data.to_parquet(handle)  # noqa: E731
    else:
        content = data.to_csv(date_format="%Y-%m-%d").encode()
    try:
        write_atomic(target, content)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc
    out.print(f"wrote {_bars(len(frame))} of {frame.attrs['ticker']} ({frame.attrs['source']}), "
              f"{frame.index[0].date()} to {frame.index[-1].date()}, to {target}", markup=False)


@app.command()
def check(
    ctx: typer.Context,
    tickers: Annotated[list[str], typer.Argument(help="Stored tickers to check.")],
):
    """Check stored bars for suspicious data: split-like one-day moves, future or weekend
    dates, gaps over 30 days, absurd volumes (see data/README.md for the thresholds)."""
    from forecast.data.checks import suspicious
    from forecast.data.tickers import normalize_ticker

    store = _store(ctx)
    failures = TickerFailures(tickers, debug=ctx.obj["debug"])
    for given in tickers:
        frame = failures.run(given, lambda t: store.read(normalize_ticker(t)), given)
        if frame is None:
            continue
        ticker = frame.attrs["ticker"]
        found = suspicious(frame, ticker)
        for message in found:
            out.print(f"warning: {message}", markup=False, soft_wrap=True)
        if not found:
            out.print(
                f"{ticker}: no problems found ({_bars(len(frame))} "
                f"{frame.index[0].date()} to {frame.index[-1].date()})",
                markup=False,
            )
    failures.report()


@app.command()
def sample():
    """List the real daily history bundled with fcast (works offline)."""
    from forecast.data.bundled import SOURCE_NOTICE, SURVIVORSHIP_NOTE, describe_bundled

    table = Table(
        title="Bundled history (offline; --source bundled, or the fallback when Yahoo is unreachable)"
    )
    for col in ("ticker", "first", "last", "rows", "source"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for s in describe_bundled():
        table.add_row(s.ticker, s.first, s.last, fmt(s.rows, "int"), s.source)
    out.print(table)
    out.print(f"Source: {SOURCE_NOTICE}.", markup=False, soft_wrap=True)
    out.print(
        f"Caution: the stock universe is {SURVIVORSHIP_NOTE}, so its backtests "
        "flatter any strategy that buys what later did well.",
        markup=False,
        soft_wrap=True,
    )


def _info_table(infos, title: str) -> None:
    table = Table(title=title)
    for col in ("ticker", "source", "first", "last", "rows", "fetched (UTC)"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for i in infos:
        table.add_row(i.ticker, i.source, i.first, i.last, fmt(i.rows, "int"), i.fetched_at)
    out.print(table)
