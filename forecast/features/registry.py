"""Which features exist and which a spec turns on.

The standard features (`forecast.features.builtin.STANDARD`) are switched by their own
FeatureSpec options. Any other feature is turned on by naming it in the spec's `extra`
list: a built-in set (`builtin.EXTRA`: alpha158), a name given to `register`, or user code
as `module:name` / `path/to/file.py:name` (a `Feature` object in that module).
"""

from __future__ import annotations

from forecast import plugins
from forecast.errors import ConfigError
from forecast.features.builtin import BUILTIN, EXTRA, STANDARD
from forecast.features.feature import Feature

_STANDARD_NAMES = {f.name: f for f in STANDARD}
_EXTRA_NAMES = {f.name: f for f in EXTRA}
_REGISTERED: dict[str, Feature] = {}


def register(feature: Feature) -> Feature:
    """Make `feature` available to specs by its name (`extra = ["name"]`); returns it."""
    if not isinstance(feature, Feature):
        raise ConfigError(f"only Feature objects can be registered, not {type(feature).__name__}")
    taken = (_STANDARD_NAMES.get(feature.name) or _EXTRA_NAMES.get(feature.name)
             or _REGISTERED.get(feature.name))
    if taken is not None and taken is not feature:
        raise ConfigError(f"a feature named {feature.name!r} is already registered")
    _REGISTERED[feature.name] = feature
    return feature


def registered() -> dict[str, Feature]:
    """Features available by name in `extra`, by name (the built-in sets first)."""
    return {**_EXTRA_NAMES, **_REGISTERED}


def _unknown_feature(kind: plugins.PluginKind, name: str) -> str:
    if name in _STANDARD_NAMES:
        switch = _STANDARD_NAMES[name].switch
        how = f"with the option {switch} = true" if switch else "always"
        return f"standard feature {name!r} is not listed in extra; it is on {how}"
    known = ", ".join(sorted(kind.builtins())) or "none registered"
    return f"unknown feature {name!r} in extra ({known}; or give module:name or path/to/file.py:name)"


# The built-ins of `extra` are the registered features; the standard ones have their own options.
FEATURE = plugins.PluginKind(
    "feature",
    registered,
    check=plugins.instance_of(Feature),
    contract="a forecast.features.Feature",
    holds="feature",
    classes=False,
    bad_spec="extra features are given by name or module:name, got {spec!r}",
    unknown=_unknown_feature,
)


def resolve(reference: str) -> Feature:
    """The Feature an `extra` entry names. Raises ConfigError."""
    return plugins.resolve(FEATURE, reference)


def standard_features(spec) -> list[Feature]:
    """The standard features `spec` switches on, in column order."""
    return [f for f in STANDARD if f.switch is None or getattr(spec, f.switch)]


def is_builtin(feature: Feature) -> bool:
    """Whether `feature` is one of fcast's own (the test suite holds those to being trailing)."""
    return any(feature is f for f in BUILTIN)
