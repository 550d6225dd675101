"""CLI names of the built-in strategies, and the strategy plugin kind."""

from __future__ import annotations

import backtrader as bt

from forecast.plugins import PluginKind, subclass_of
from strategies.builtin import BuyAndHold, LongOnly, LongShort, ProbabilitySized
from strategies.vol_targeted import VolTargeted

STRATEGIES = {
    "long-only": LongOnly,
    "long-short": LongShort,
    "probability-sized": ProbabilitySized,
    "vol-targeted": VolTargeted,
    "buy-and-hold": BuyAndHold,
}

STRATEGY = PluginKind(
    "strategy", lambda: STRATEGIES, check=subclass_of(bt.Strategy), contract="a backtrader Strategy subclass"
)


def strategy_name(cls: type) -> str:
    """The CLI name of a built-in class, else the class's own name."""
    for name, known in STRATEGIES.items():
        if known is cls:
            return name
    return cls.__name__
