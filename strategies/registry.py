"""CLI names of the built-in strategies."""

from __future__ import annotations

from strategies.builtin import BuyAndHold, LongOnly, LongShort, ProbabilitySized
from strategies.vol_targeted import VolTargeted

STRATEGIES = {
    "long-only": LongOnly,
    "long-short": LongShort,
    "probability-sized": ProbabilitySized,
    "vol-targeted": VolTargeted,
    "buy-and-hold": BuyAndHold,
}


def strategy_name(cls: type) -> str:
    """The CLI name of a built-in class, else the class's own name."""
    for name, known in STRATEGIES.items():
        if known is cls:
            return name
    return cls.__name__
