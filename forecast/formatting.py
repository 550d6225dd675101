"""How numbers print in every fcast table: one convention for the CLI and reports."""

from __future__ import annotations

import math

MISSING = "–"  # undefined metrics (no losing trade, one class only, ...)


def fmt(value, kind: str = "num") -> str:
    """Format a number for a table.

    Kinds: ``pct`` (12.34%), ``spct`` (signed, +0.05%), ``num`` (2 decimals), ``num3``
    (3 decimals, probabilities and scores), ``int`` (thousands separated), ``money``,
    ``drag`` (a cost kept as a positive fraction, printed as the loss it is: 0.3 -> -30.00%).
    None, NaN and infinities print as an en dash.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if kind == "drag":
        return f"{-value:+.2%}"
    formats = {
        "pct": "{:.2%}", "spct": "{:+.2%}", "num": "{:.2f}", "num3": "{:.3f}",
        "int": "{:,.0f}", "money": "{:,.2f}",
    }
    return formats[kind].format(value)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``1,234 bars``: a number and its noun, agreed."""
    noun = singular if n == 1 else (plural or f"{singular}s")
    return f"{n:,} {noun}"


def params_text(params: dict) -> str:
    """``C=0.0123, input_mode=latest``: searched parameters in a line (floats to 4 digits)."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
