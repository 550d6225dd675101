"""Consoles and small formatting helpers shared by the CLI commands."""

from __future__ import annotations

import sys

from rich.console import Console

# Piped output (logs, CI) would otherwise wrap tables at 80 columns.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)
