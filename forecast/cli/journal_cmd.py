"""`fcast journal ...`: forward-test journals (add, verify, show, score, list)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.console import err, out
from forecast.errors import ConfigError
from forecast.formatting import count, fmt

app = typer.Typer(help="Forward-test journals: signals written before their outcome, chained by hash.",
                  no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The journal's name.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _home(ctx: typer.Context):
    return ctx.obj["store"].home


@app.command("list")
def list_(ctx: typer.Context):
    """The journals in the store, with their entries and last as-of date."""
    from forecast.journal.store import list_journals, read

    table = Table(title="Journals")
    for column in ("name", "entries", "last as of", "chain"):
        table.add_column(column)
    for name in list_journals(_home(ctx)):
        lines, broken = read(name, _home(ctx))
        last = lines[-1]["entry"]["as_of"] if lines else ""
        table.add_row(name, f"{len(lines):,}", last, "intact" if broken is None else f"BROKEN at {broken}")
    out.print(table)


@app.command()
def add(
    ctx: typer.Context,
    name: Name,
    document: Annotated[str, typer.Argument(help="A signal document (`fcast signal --json`); -: stdin.")],
):
    """Append a signal document made before its outcome (`fcast signal --journal NAME` does both)."""
    from forecast.journal.store import append

    text = sys.stdin.read() if document == "-" else _read(document)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{document}: not JSON ({exc.msg} at line {exc.lineno})") from None
    seq = append(name, doc, home=_home(ctx))
    out.print(f"journal {name}: entry {seq} added (as of {doc['as_of']})", markup=False)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None


@app.command()
def verify(ctx: typer.Context, name: Name):
    """Check the hash chain: names the first edited, deleted, reordered, duplicated or cut line."""
    from forecast.journal.store import journal_path, read

    lines, broken = read(name, _home(ctx))
    if broken is not None:
        err.print(f"journal {name}: BROKEN at {broken} ({count(len(lines), 'entry', 'entries')} before it "
                  "hold)", markup=False)
        raise typer.Exit(1)
    last = lines[-1]["hash"] if lines else "-"
    out.print(f"journal {name}: {count(len(lines), 'entry', 'entries')}, chain intact; last hash {last} "
              f"({journal_path(name, _home(ctx))})", markup=False, soft_wrap=True)


@app.command()
def show(ctx: typer.Context, name: Name, as_json: Json = False,
         html: Annotated[Path | None, typer.Option("--html", help="Write the journal's page here.")] = None):
    """The journal's entries: when each was made, as of which bar, its calls and orders."""
    from forecast.journal.store import entries

    docs = entries(name, _home(ctx))
    if as_json:
        print(json.dumps(docs, indent=2))
        return
    table = Table(title=f"Journal {name}")
    for column in ("#", "made (UTC)", "as of", "ticker", "P(up)", "target", "orders"):
        table.add_column(column, justify="right" if column in ("#", "P(up)", "target", "orders") else "left")
    for seq, doc in enumerate(docs, start=1):
        for row in doc["signals"]:
            table.add_row(str(seq), doc["created"], row["as_of"], row["ticker"],
                          fmt(row.get("prob_up"), "num3"), fmt(row.get("target"), "num"),
                          str(len(doc.get("orders") or [])))
    out.print(table)
    if html is not None:
        from forecast.journal.page import write_page

        write_page(name, docs, html, home=_home(ctx))
        out.print(f"wrote {html}", markup=False)


@app.command()
def score(ctx: typer.Context, name: Name, as_json: Json = False):
    """The live record so far beside the backtest of the same configuration on the same days."""
    from forecast.journal.score import score_journal

    scores = score_journal(name, home=_home(ctx))
    if as_json:
        print(json.dumps({"journal": name, "tickers": [s.to_dict() for s in scores]}, indent=2))
        return
    for s in scores:
        render_score(name, s)


def render_score(name: str, s) -> None:
    table = Table(title=f"Journal {name}, {s.ticker}: {s.days:,} days scored, {s.pending:,} waiting for "
                        "their outcome")
    for column in ("", "live (journaled calls)", "backtest, same days"):
        table.add_column(column, justify="left" if not column else "right")
    rows = (("accuracy", "accuracy", "pct"), ("± SE", "accuracy_se", "pct"),
            ("total return", "total_return", "pct"), ("Sharpe", "sharpe", "num"),
            ("± SE", "sharpe_se", "num"), ("PSR (vs 0)", "psr", "pct"))
    for label, key, kind in rows:
        table.add_row(label, fmt(s.live.get(key), kind), fmt(s.backtest.get(key), kind))
    out.print(table)
    if s.differing_days:
        out.print(f"{s.differing_days:,} day(s) where the journaled call differs from the backtest's: the "
                  "data was revised, or the code or its environment changed", markup=False)
    out.print(f"verdict: {s.verdict['text']} (live minus backtest mean daily return "
              f"{fmt(s.verdict['difference'], 'spct')} ± {fmt(s.verdict['se'], 'pct')})", markup=False)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="journal")
