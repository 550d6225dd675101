"""Search spaces: which model parameters a tuning run may change, and over what range.

A space is a table of dimensions, in TOML as in Python::

    C = { low = 0.001, high = 100.0, log = true }     # a float range (log-uniform)
    max_depth = { low = 2, high = 8 }                  # whole numbers at both ends: an int range
    input_mode = { choices = ["latest", "flatten"] }   # one of a few values

A model declares its default space as the class attribute `search_space` (the built-ins
do; a user's model may too): new models add theirs next to their parameters, and nothing
here lists models. `--space FILE.toml` or a spec's `[tune] space` replaces it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forecast.errors import ConfigError

DIM_KEYS = {"low", "high", "log", "choices"}


@dataclass(frozen=True)
class Dimension:
    """One tunable parameter: a float or int range (`log` for log-uniform), or choices."""

    name: str
    kind: str  # "float", "int" or "choice"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple = ()

    def suggest(self, trial) -> Any:
        """The value an Optuna trial draws for this parameter."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def to_dict(self) -> dict:
        if self.kind == "choice":
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high, **({"log": True} if self.log else {})}


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_dimension(name: str, table: Any, where: str) -> Dimension:
    """A checked `Dimension` from its table; ConfigError (one line, naming `where` and the
    parameter) for anything that is not a range or a list of choices."""
    label = f"{where}: parameter {name}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{label} must be a table like {{ low = 1, high = 10 }} or "
                          f"{{ choices = [...] }}, got {table!r}")
    unknown = sorted(set(table) - DIM_KEYS)
    if unknown:
        raise ConfigError(f"{label}: unknown key(s) {', '.join(unknown)} (allowed: choices, high, log, low)")
    if "choices" in table:
        if set(table) != {"choices"}:
            raise ConfigError(f"{label}: give choices alone, or low and high, not both")
        choices = table["choices"]
        if not isinstance(choices, list | tuple) or not choices:
            raise ConfigError(f"{label}: choices must be a non-empty list, got {choices!r}")
        if any(isinstance(c, list | tuple | Mapping) for c in choices):
            raise ConfigError(f"{label}: choices must be single values (numbers, strings, booleans)")
        return Dimension(name, "choice", choices=tuple(choices))
    if "low" not in table or "high" not in table:
        raise ConfigError(f"{label} needs low and high (or choices)")
    low, high, log = table["low"], table["high"], table.get("log", False)
    if not (_number(low) and _number(high)):
        raise ConfigError(f"{label}: low and high must be finite numbers, got {low!r} and {high!r}")
    if not isinstance(log, bool):
        raise ConfigError(f"{label}: log must be true or false, got {log!r}")
    if not low < high:
        raise ConfigError(f"{label}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise ConfigError(f"{label}: a log range needs low > 0, got {low}")
    kind = "int" if isinstance(low, int) and isinstance(high, int) else "float"
    return Dimension(name, kind, low, high, log)


def parse_space(table: Any, accepted: Mapping[str, Any] | None = None, *,
                where: str = "search space") -> tuple[Dimension, ...]:
    """A checked space from its table (parameter -> dimension table). `accepted`: the
    model's parameters (name -> default), when known: a name outside it is refused."""
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{where} must be a non-empty table of parameters, got {table!r}")
    dims = tuple(parse_dimension(str(name), dim, where) for name, dim in table.items())
    if accepted is not None:
        unknown = sorted(d.name for d in dims if d.name not in accepted)
        if unknown:
            raise ConfigError(f"{where}: the model has no parameter(s) {', '.join(unknown)} "
                              f"(it has: {', '.join(accepted) or 'none'})")
    return dims


def read_space(path: str) -> dict:
    """The space table of a TOML file: its `[space]` table, or the whole file."""
    from forecast.tomlfile import read_toml

    data = read_toml(path, "search space")
    if "space" in data:
        extra = sorted(set(data) - {"space"})
        if extra:
            raise ConfigError(f"search space {path}: unknown key(s) {', '.join(extra)} beside [space]")
        return data["space"]
    return data


def declared_space(model_class: type) -> dict | None:
    """The default space a model class declares (its `search_space`), or None."""
    space = getattr(model_class, "search_space", None)
    return dict(space) if space else None


def space_to_dict(dims: tuple[Dimension, ...]) -> dict:
    return {d.name: d.to_dict() for d in dims}
