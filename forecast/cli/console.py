"""Consoles and small formatting helpers shared by the CLI commands."""

from __future__ import annotations

import sys

from rich.console import Console

# Piped output (logs, CI) would otherwise wrap tables at 80 columns.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """"1 CPU", "4 CPUs": a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def print_catalogue(title: str, columns: tuple[str, ...], rows) -> None:
    """A `list` command's table: each row's cells, its last a {name: default} dict shown
    as "k=v, ..." (the parameters a registry entry takes)."""
    from rich.table import Table

    table = Table(title=title)
    for col in (*columns, "parameters (defaults)"):
        table.add_column(col)
    for *cells, params in rows:
        table.add_row(*cells, ", ".join(f"{k}={v}" for k, v in params.items()))
    out.print(table)


class TickerFailures:
    """One-line failures of a command run over several tickers, reported together at the end.

    `run(ticker, action, ...)` returns `action(...)`, or None after recording its FcastError
    as one line naming the ticker once; with `--debug` (or `raise_if_alone` and a single
    ticker) the error propagates instead. `report()` prints the lines and exits 1 if any.
    """

    def __init__(self, tickers, *, debug: bool, raise_if_alone: bool = False):
        self.lines: list[str] = []
        self.reraise = debug or (raise_if_alone and len(tickers) == 1)

    def run(self, ticker: str, action, *args, **kwargs):
        from forecast.errors import FcastError

        try:
            return action(*args, **kwargs)
        except FcastError as exc:
            if self.reraise:
                raise
            text = str(exc)
            if not text.upper().startswith(f"{ticker.upper()}:"):
                text = f"{ticker}: {text}"
            self.lines.append(text)
            return None

    def report(self) -> None:
        import typer

        for line in self.lines:
            err.print(f"error: {line}", markup=False, soft_wrap=True)
        if self.lines:
            raise typer.Exit(1)
