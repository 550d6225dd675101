"""`fcast runs list|show|compare|rm|prune`: the recorded backtest runs."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.console import err, out
from forecast.formatting import count, fmt
from forecast.stats.labels import RUN_FIGURES

app = typer.Typer(help="Recorded backtest runs.", no_args_is_help=True)

def _cell(value, kind) -> str:
    if kind is None:
        return "–" if value is None else str(value)
    return fmt(value, kind)


def _home(ctx: typer.Context):
    return ctx.obj["store"].home


def _command(doc: dict) -> str:
    argv = doc.get("command") or []
    return shlex.join(["fcast", *argv[1:]]) if argv else ""


@app.command("list")
def list_cmd(ctx: typer.Context):
    """Every recorded run: id, when, ticker, model, strategy, total return, Sharpe."""
    from forecast.runs import key_figures, list_runs, runs_dir

    runs = list_runs(_home(ctx))
    if not runs:
        out.print(f"no recorded runs ({runs_dir(_home(ctx))})", markup=False)
        return
    table = Table(title=f"Runs ({runs_dir(_home(ctx))})")
    for col in ("id", "when", "ticker", "model", "strategy", "total return", "Sharpe"):
        table.add_column(col, justify="right" if col in ("total return", "Sharpe") else "left")
    for doc in runs:
        if "error" in doc:
            table.add_row(doc["id"], doc["error"], "", "", "", "", "")
            continue
        k = key_figures(doc)
        table.add_row(doc["id"], str(doc.get("created")), *(_cell(k[c], None) for c in ("ticker", "model")),
                      _cell(k["strategy"], None), fmt(k["total_return"], "pct"), fmt(k["sharpe"], "num"))
    out.print(table)
    broken = sum("error" in doc for doc in runs)
    if broken:
        err.print(f"{count(broken, 'run')} unreadable or incomplete: `fcast runs prune` removes "
                  f"{'it' if broken == 1 else 'them'}", markup=False)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix).")],
):
    """One run's key figures, command line, versions and where its files are."""
    from forecast.runs import key_figures, load_run

    doc = load_run(run_id, _home(ctx))
    k = key_figures(doc)
    table = Table(title=f"Run {doc['id']}")
    table.add_column("field")
    table.add_column("value")
    for key, label, kind in RUN_FIGURES:
        table.add_row(label, _cell(k[key], kind))
    table.add_row("when", str(doc.get("created")))
    table.add_row("command", _command(doc))
    versions = doc.get("versions") or {}
    table.add_row("versions", ", ".join(f"{n} {v}" for n, v in versions.items()))
    table.add_row("data", str((doc.get("data") or {}).get("fingerprint", ""))[:16])
    table.add_row("files", doc["path"])
    out.print(table)


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids (or unique prefixes).")],
):
    """Runs side by side: one column per run."""
    from forecast.runs import key_figures, load_run

    docs = [load_run(r, _home(ctx)) for r in run_ids]
    table = Table(title="Runs compared")
    table.add_column("")
    for doc in docs:
        table.add_column(doc["id"], justify="right")
    figures = [key_figures(d) for d in docs]
    for key, label, kind in RUN_FIGURES:
        table.add_row(label, *(_cell(f[key], kind) for f in figures))
    table.add_row("fcast", *((d.get("versions") or {}).get("fcast", "–") for d in docs))
    table.add_row("data", *(str((d.get("data") or {}).get("fingerprint", ""))[:12] for d in docs))
    out.print(table)


@app.command("rm")
def rm_cmd(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Run ids (or unique prefixes) to delete.")],
):
    """Delete recorded runs, readable or not (their --output folders are left alone)."""
    from forecast.runs import find_run, remove_run

    docs = {d["path"]: d for d in (find_run(r, _home(ctx)) for r in run_ids)}  # all found first
    for path, doc in docs.items():
        remove_run(path)
        out.print(f"removed run {doc['id']}", markup=False)


@app.command("prune")
def prune_cmd(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
):
    """Delete unreadable or incomplete runs, and what interrupted runs left behind."""
    from forecast.runs import prune_runs, runs_dir

    found = prune_runs(_home(ctx), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for item in found:
        out.print(f"{verb} {item.id}: {item.reason}", markup=False)
    if not found:
        out.print(f"nothing to prune ({runs_dir(_home(ctx))})", markup=False)
    elif dry_run:
        out.print(f"{count(len(found), 'folder')} to remove; run without --dry-run to remove them",
                  markup=False)
