"""`fcast cache list` and `fcast cache clear`: the walk-forward prediction cache."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.console import err, out
from forecast.formatting import count

app = typer.Typer(help="The walk-forward prediction cache.", no_args_is_help=True)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def _caches(ctx: typer.Context):
    """The per-ticker walk-forward cache and the universe-wide (portfolio) one."""
    from forecast.cache import PredictionCache

    home = ctx.obj["store"].home
    return PredictionCache(home), PredictionCache(home, universe=True)


@app.command("list")
def list_cmd(ctx: typer.Context):
    """Cached predictions: ticker(s), model, span, when made, size; and the total size."""
    for cache in _caches(ctx):
        _list(cache)


def _list(cache) -> None:
    entries = cache.entries()
    if not entries:
        out.print(f"the {cache.NAME} is empty ({cache.dir})", markup=False)
        return
    table = Table(title=f"{cache.NAME.capitalize()} ({cache.dir})")
    for col in ("key", "ticker", "model", "span", "created", "size"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for e in entries:
        if "error" in e:
            table.add_row(e["key"][:12], "?", "?", e["error"], "", _size(e.get("size", 0)))
            continue
        table.add_row(e["key"][:12], str(e.get("ticker")), str(e.get("model")),
                      f"{e.get('start')} to {e.get('end')}", str(e.get("created")), _size(e["size"]))
    out.print(table)
    total = sum(e.get("size", 0) for e in entries)
    out.print(f"{count(len(entries), 'entry', 'entries')}, {_size(total)} in all", markup=False)


@app.command("clear")
def clear_cmd(
    ctx: typer.Context,
    ticker: Annotated[str | None, typer.Option("--ticker", help="Only this ticker's entries.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
):
    """Delete cached predictions (all, or those a ticker is part of, portfolios included)."""
    caches = _caches(ctx)
    what = f"the cached predictions {ticker} is part of" if ticker else "every cached prediction"
    where = " and ".join(str(c.dir) for c in caches)
    if not yes and not _confirmed(f"delete {what} in {where}?"):
        raise typer.Exit(1)
    n = size = 0
    for cache in caches:
        removed, freed = cache.clear(ticker)
        n, size = n + removed, size + freed
    out.print(f"deleted {count(n, 'entry', 'entries')} ({_size(size)})", markup=False)


def _confirmed(question: str) -> bool:
    """The user's yes; a no, or no answer at all (stdin closed or not a terminal), says why
    nothing happened. Ctrl-C still interrupts."""
    try:
        if typer.confirm(question, err=True):
            return True
    except typer.Abort:
        if not _stdin_closed():
            raise  # Ctrl-C at the prompt: interrupted
        err.print("")  # end the prompt's line
        err.print("nothing deleted: no confirmation (stdin is closed; give --yes to delete without asking)",
                  markup=False, soft_wrap=True)
        return False
    err.print("nothing deleted")
    return False


def _stdin_closed() -> bool:
    import sys

    try:
        return sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty()
    except (ValueError, OSError):
        return True
