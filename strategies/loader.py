"""Resolve a strategy given by name, `package.module:Class` or `path/to/file.py:Class`,
and type its `key=value` parameters from the strategy's own defaults."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

import backtrader as bt

from forecast.errors import ConfigError
from strategies.registry import STRATEGIES

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _import_file(path: Path):
    if not path.is_file():
        raise ConfigError(f"strategy file not found: {path}")
    # A name unique to the file, so two files with the same stem do not collide.
    name = "fcast_user_strategy_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # backtrader looks classes' modules up in sys.modules, so the module must be there.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure in user code is a config error
        del sys.modules[name]
        raise ConfigError(f"cannot import strategy file {path}: {_one_line(exc)}") from None
    return module


def _import_module(name: str):
    try:
        return importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any failure in user code is a config error
        raise ConfigError(f"cannot import strategy module {name!r}: {_one_line(exc)}") from None


def load_strategy(spec) -> type:
    """Return the backtrader Strategy class named by `spec`.

    `spec` is a built-in name (see `STRATEGIES`), `package.module:Class`,
    `path/to/file.py:Class`, or already a Strategy subclass. Raises ConfigError.
    """
    if isinstance(spec, type):
        cls, label = spec, spec.__name__
    elif not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"strategy must be a name or 'module:Class', got {spec!r}")
    elif spec in STRATEGIES:
        return STRATEGIES[spec]
    elif ":" in spec:
        where, _, attr = spec.rpartition(":")
        looks_like_file = where.endswith(".py") or "/" in where or "\\" in where
        module = _import_file(Path(where)) if looks_like_file else _import_module(where)
        if not hasattr(module, attr):
            raise ConfigError(f"{where} has no class {attr!r}")
        cls, label = getattr(module, attr), spec
    else:
        raise ConfigError(
            f"unknown strategy {spec!r} (built-ins: {', '.join(STRATEGIES)}; "
            "or give module:Class or path/to/file.py:Class)"
        )
    if not (isinstance(cls, type) and issubclass(cls, bt.Strategy)):
        raise ConfigError(f"{label} is not a backtrader Strategy subclass")
    return cls


def strategy_params(cls: type) -> dict:
    """The strategy's parameters and their defaults, in declaration order."""
    return dict(cls.params._getitems())


def _convert(cls: type, key: str, raw, default):
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    wrong = ConfigError(f"parameter {key!r} of {cls.__name__} takes {type(default).__name__}, got {raw!r}")
    if isinstance(default, bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise wrong
    try:
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise wrong from None
    return raw  # str or None defaults: keep the text


def parse_params(cls: type, items) -> dict:
    """Type `["key=value", ...]` (or a dict) from `cls`'s parameter defaults.

    bool accepts true/false/yes/no/1/0; int and float parse the text; str keeps it.
    Raises ConfigError for a malformed item, an unknown key or a wrong type.
    """
    known = strategy_params(cls)
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items or []:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"strategy parameter must look like key=value, got {item!r}")
            pairs.append((key.strip(), value))
    out = {}
    for key, value in pairs:
        if key not in known:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{cls.__name__} has no parameter {key!r} (it has: {names})")
        out[key] = _convert(cls, key, value, known[key])
    return out


def list_strategies() -> list[dict]:
    """Built-in strategies: CLI name, class, one-line description and parameter defaults."""
    rows = []
    for name, cls in STRATEGIES.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        rows.append(
            {"name": name, "class": cls, "doc": doc[0] if doc else "", "params": strategy_params(cls)}
        )
    return rows
