"""`fcast universe ...`: import, list, show and check universes (forecast.data.universes)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.console import err, out
from forecast.formatting import count, fmt

app = typer.Typer(help="Universes: many tickers' bars with point-in-time membership.", no_args_is_help=True)

SHOWN = 10  # tickers named per summary line, then "and N more"


def _home(ctx: typer.Context):
    return ctx.obj["store"].home


def _names(tickers, shown: int = SHOWN) -> str:
    more = len(tickers) - shown
    return ", ".join(tickers[:shown]) + (f" and {more} more" if more > 0 else "")


def _say(text: str) -> None:
    out.print(text, markup=False, soft_wrap=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name to store the universe under.")],
    bars: Annotated[str, typer.Argument(help="A CSV or Parquet file with a ticker column, or a folder "
                                             "of one file per ticker (named after it).")],
    membership: Annotated[str | None, typer.Option(
        "--membership", help="CSV or Parquet of year,ticker rows (member all of calendar year Y) or "
        "ticker,start,end intervals (end included; empty: still a member). Without it, every "
        "ticker is a member from its first bar to its last.")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace stored bars even when the file holds fewer or a shorter span.")] = False,
    aggregate_daily: Annotated[bool, typer.Option(
        "--aggregate-daily", help="Combine intraday bars into one bar per local date.")] = False,
):
    """Import a universe: every ticker validated as `fcast data import` does, one summary;
    all of it is written or none (a failure or Ctrl-C leaves the store as it was)."""
    from forecast.data.universe_import import import_universe

    with err.status("reading", spinner="dots") as status:
        summary = import_universe(name, bars, membership, home=_home(ctx), replace=replace,
                                  aggregate_daily=aggregate_daily,
                                  progress=lambda t: status.update(f"validating {t}"))
    spans = summary.imported.values()
    first, last = min(f for f, _l, _r in spans), max(ls for _f, ls, _r in spans)
    _say(f"imported universe {name}: {count(len(summary.imported), 'ticker')}, {fmt(summary.bars, 'int')} "
         f"bars, {first} to {last}, in {summary.seconds:.1f} s")
    _say(f"membership: {_membership_words(summary.membership)}")
    if summary.replaced:
        _say(f"replaced the stored bars of {count(len(summary.replaced), 'ticker')}: "
             f"{_names(summary.replaced)}")
    if summary.refused:
        _say(f"refused {count(len(summary.refused), 'ticker')}:")
        for ticker, reason in list(summary.refused.items())[:SHOWN]:
            _say(f"  {ticker}: {reason}")
        if len(summary.refused) > SHOWN:
            _say(f"  and {len(summary.refused) - SHOWN} more (`fcast universe check {name}` lists them)")
    for kind, tickers in summary.warnings.items():
        _say(f"warning: {kind}: {count(len(tickers), 'ticker')} ({_names(tickers)}); "
             f"`fcast universe check {name}` for the dates")
    if summary.without_bars:
        _say(f"warning: {count(len(summary.without_bars), 'member')} without bars: "
             f"{_names(summary.without_bars)}")
    if summary.dropped_empty_rows:
        _say(f"dropped {count(summary.dropped_empty_rows, 'empty row')}")


def _membership_words(kind: str) -> str:
    return {"years": "by calendar year (from the membership file)",
            "intervals": "by date intervals (from the membership file)",
            "bars": "every ticker, from its first bar to its last"}[kind]


@app.command("list")
def list_(ctx: typer.Context):
    """List the universes: the bundled ones and those imported into the store."""
    from forecast.data.universes import UniverseStore

    table = Table(title=f"Universes (store: {_home(ctx)})")
    for col in ("name", "tickers", "membership", "years", "source"):
        table.add_column(col, justify="right" if col == "tickers" else "left")
    for universe in UniverseStore(_home(ctx)).list():
        years = universe.years()
        table.add_row(universe.name, fmt(len(universe.tickers), "int"), universe.kind,
                      f"{years[0]}-{years[-1]}" if years else "-",
                      universe.source if universe.source == "bundled" else "imported")
    out.print(table)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The universe.")],
    year: Annotated[int | None, typer.Option("--year", help="List that year's members, their bars.")] = None,
):
    """Show a universe: members and bar coverage per year, or one year's members."""
    from forecast.cli.universe_view import members_table, years_table
    from forecast.data.universes import open_universe

    universe = open_universe(name, _home(ctx))
    _say(f"{universe.name}: {count(len(universe.tickers), 'ticker')} with bars ({universe.source}); "
         f"membership {_membership_words(universe.kind)}")
    if universe.source == "bundled":
        _say("survivorship-biased: the 2017 members, back-filled")
    if year is None:
        out.print(years_table(universe))
    else:
        out.print(members_table(universe, year))
    missing = universe.without_bars()
    if missing:
        _say(f"{count(len(missing), 'member')} without bars: {_names(missing)}")


@app.command()
def check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The universe.")],
    all_lines: Annotated[bool, typer.Option("--all", help="Every finding, not 3 per kind.")] = False,
):
    """Check a universe's bars: extreme moves, gaps, weekend or future dates, absurd volumes,
    members without bars."""
    from forecast.data.universes import audit, open_universe

    universe = open_universe(name, _home(ctx))
    found, problems = audit(universe)
    for kind, messages in found.items():
        _say(f"{kind}: {count(len(messages), 'ticker')}")
        for message in messages if all_lines else messages[:3]:
            _say(f"  warning: {message}")
        if not all_lines and len(messages) > 3:
            _say(f"  and {len(messages) - 3} more (--all lists them)")
    if problems:
        _say(f"problems: {count(len(problems), 'ticker')}")
        for ticker, problem in problems.items():
            _say(f"  {ticker}: {problem}")
    refused = universe.meta.get("refused") or {}
    if refused:
        _say(f"refused at import: {count(len(refused), 'ticker')}")
        for ticker, reason in refused.items():
            _say(f"  {ticker}: {reason}")
    if not (found or problems or refused):
        _say(f"{name}: no problems found in {count(len(universe.tickers), 'ticker')}")
