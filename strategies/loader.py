"""Resolve a strategy given by name, `package.module:Class` or `path/to/file.py:Class`,
and type its `key=value` parameters from the strategy's own defaults."""

from __future__ import annotations

# Parameter typing is any backtrader strategy's business: the engine does it too.
from forecast.backtest.params import parse_params, strategy_params
from forecast.plugins import resolve
from strategies.registry import STRATEGIES, STRATEGY, strategy_name

__all__ = ["load_strategy", "strategy_label", "parse_params", "strategy_params", "list_strategies"]


def load_strategy(spec) -> type:
    """Return the backtrader Strategy class named by `spec`.

    `spec` is a built-in name (see `STRATEGIES`), `package.module:Class`,
    `path/to/file.py:Class`, or already a Strategy subclass. Raises ConfigError.
    """
    return resolve(STRATEGY, spec)


def strategy_label(spec, cls: type) -> str:
    """How results name the strategy `spec` resolved to `cls`: a `module:Class` or
    `file.py:Class` reference as given, else the built-in name or the class's name."""
    if isinstance(spec, str) and ":" in spec:
        return spec
    return strategy_name(cls)


def list_strategies() -> list[dict]:
    """Built-in strategies: CLI name, class, one-line description and parameter defaults."""
    rows = []
    for name, cls in STRATEGIES.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        rows.append(
            {"name": name, "class": cls, "doc": doc[0] if doc else "", "params": strategy_params(cls)}
        )
    return rows
