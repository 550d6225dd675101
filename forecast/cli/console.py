"""Consoles and small formatting helpers shared by the CLI commands."""

from __future__ import annotations

import math
import sys

from rich.console import Console

# Piped output (logs, CI) would otherwise wrap tables at 80 columns.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)


def fmt(value, kind: str = "num") -> str:
    """Format a metric for a table: pct, num, int; NaN and None print as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "pct":
        return f"{value:+.2%}"
    if kind == "int":
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
