"""Backtrader strategies driven by fcast's out-of-sample predictions."""

from strategies.base import PredictionStrategy
from strategies.builtin import BuyAndHold, LongOnly, LongShort, ProbabilitySized
from strategies.loader import (
    list_strategies,
    load_strategy,
    parse_params,
    strategy_label,
    strategy_params,
)
from strategies.registry import STRATEGIES, strategy_name
from strategies.vol_targeted import VolTargeted

__all__ = [
    "PredictionStrategy",
    "LongOnly",
    "LongShort",
    "ProbabilitySized",
    "VolTargeted",
    "BuyAndHold",
    "STRATEGIES",
    "load_strategy",
    "parse_params",
    "list_strategies",
    "strategy_params",
    "strategy_name",
    "strategy_label",
]
