"""One registry for everything a user can plug in: models, strategies, ranking strategies, features.

Each package declares its `PluginKind` next to its built-ins (`MODEL` in models/registry.py,
`FEATURE` in features/registry.py, `STRATEGY` in strategies/registry.py, `PORTFOLIO_STRATEGY`
in strategies/portfolio.py) and `resolve(kind, spec)` turns a built-in name, a
`package.module:Class` / `path/to/file.py:Class` reference or a class into the plugin,
every error naming the kind ("portfolio strategy file not found: x.py").

This module sits low: it imports only forecast.errors and forecast.user_code (the loader),
so the packages whose plugins it resolves may all import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from forecast.errors import ConfigError
from forecast.user_code import is_reference, load_reference


def subclass_of(base: type) -> Callable[[Any], bool]:
    """A check passing subclasses of `base`."""
    return lambda obj: isinstance(obj, type) and issubclass(obj, base)


def instance_of(cls: type) -> Callable[[Any], bool]:
    """A check passing instances of `cls`."""
    return lambda obj: isinstance(obj, cls)


def _builtins_listed(kind: PluginKind, spec: str) -> str:
    return (
        f"unknown {kind.name} {spec!r} (built-ins: {', '.join(kind.builtins())}; "
        "or give module:Class or path/to/file.py:Class)"
    )


@dataclass(frozen=True, eq=False)
class PluginKind:
    """What one kind of plugin is and how its errors read.

    * `name`: the kind in messages ("model", "portfolio strategy").
    * `builtins`: a function giving name -> plugin, called at each lookup, so a registry
      may grow (or a test swap it).
    * `check`: whether a loaded object is a plugin of this kind (`subclass_of(base)`, ...).
    * `contract`: what a plugin must be, after "X is not": "a RankingStrategy subclass".
    * `holds`: what a user's module holds ("class", "feature"), for "has no class 'X'".
    * `classes`: whether a class may be given in place of a name (plugins that are classes).
    * `bad_spec`: the message for a spec that is neither a name nor a reference;
      `{kind}` and `{spec!r}` are filled in.
    * `unknown(kind, spec)`: the message for a name that is neither built-in nor a reference.
    """

    name: str
    builtins: Callable[[], Mapping[str, Any]]
    check: Callable[[Any], bool]
    contract: str
    holds: str = "class"
    classes: bool = True
    bad_spec: str = "{kind} must be a name or 'module:Class', got {spec!r}"
    unknown: Callable[[PluginKind, str], str] = _builtins_listed

    def __repr__(self) -> str:
        return f"PluginKind({self.name!r})"


def resolve(kind: PluginKind, spec) -> Any:
    """The plugin `spec` names: a key of `kind.builtins()`, `package.module:Class`,
    `path/to/file.py:Class`, or (for kinds of classes) a class. Built-ins are trusted;
    anything else must pass `kind.check`. Raises ConfigError (one line) naming the kind."""
    if kind.classes and isinstance(spec, type):
        plugin, label = spec, spec.__name__
    elif not isinstance(spec, str) or not spec.strip():
        raise ConfigError(kind.bad_spec.format(kind=kind.name, spec=spec))
    elif spec in (builtins := kind.builtins()):
        return builtins[spec]
    elif is_reference(spec):
        plugin, label = load_reference(spec, kind.name, holds=kind.holds), spec
    else:
        raise ConfigError(kind.unknown(kind, spec))
    if not kind.check(plugin):
        raise ConfigError(f"{label} is not {kind.contract}")
    return plugin
