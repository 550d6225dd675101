"""`--seeds N`: the option, and the table of each figure's mean and spread over the seeds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.console import out

Seeds = Annotated[int, typer.Option(
    "--seeds", help="Run seeds SEED..SEED+N-1 (independent runs) and report each figure's mean "
    "and spread (std, min-max) over them; --json adds every seed's figures.")]


def render_seeds(title: str, result: dict, headline: tuple[str, ...]) -> None:
    """The headline figures' mean ± std and min-max over the seeds."""
    table = Table(title=f"{title}: {len(result['seeds'])} seeds "
                        f"({result['seeds'][0]}..{result['seeds'][-1]}), mean ± std (sample) [min, max]")
    for column in ("figure", "mean", "std", "min", "max"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name in headline:
        s = result["summary"].get(name)
        if s is not None:
            std = "n/a" if s["std"] is None else f"{s['std']:.4f}"
            table.add_row(name, f"{s['mean']:.4f}", std, f"{s['min']:.4f}", f"{s['max']:.4f}")
    out.print(table)
