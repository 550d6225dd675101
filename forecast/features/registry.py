"""Which features exist and which a spec turns on.

The standard features (`forecast.features.builtin.STANDARD`) are switched by their own
FeatureSpec options. Any other feature is turned on by naming it in the spec's `extra`
list: a name given to `register`, or user code as `module:name` / `path/to/file.py:name`
(a `Feature` object in that module).
"""

from __future__ import annotations

from forecast import user_code
from forecast.errors import ConfigError
from forecast.features.builtin import STANDARD
from forecast.features.feature import Feature

_STANDARD_NAMES = {f.name: f for f in STANDARD}
_REGISTERED: dict[str, Feature] = {}


def register(feature: Feature) -> Feature:
    """Make `feature` available to specs by its name (`extra = ["name"]`); returns it."""
    if not isinstance(feature, Feature):
        raise ConfigError(f"only Feature objects can be registered, not {type(feature).__name__}")
    taken = _STANDARD_NAMES.get(feature.name) or _REGISTERED.get(feature.name)
    if taken is not None and taken is not feature:
        raise ConfigError(f"a feature named {feature.name!r} is already registered")
    _REGISTERED[feature.name] = feature
    return feature


def registered() -> dict[str, Feature]:
    """Features available by name in `extra`, by name."""
    return dict(_REGISTERED)


def resolve(reference: str) -> Feature:
    """The Feature an `extra` entry names. Raises ConfigError."""
    if not isinstance(reference, str) or not reference.strip():
        raise ConfigError(f"extra features are given by name or module:name, got {reference!r}")
    if user_code.is_reference(reference):
        feature = user_code.load_reference(reference, "feature")
        if not isinstance(feature, Feature):
            raise ConfigError(f"{reference} is not a forecast.features.Feature")
        return feature
    if reference in _REGISTERED:
        return _REGISTERED[reference]
    if reference in _STANDARD_NAMES:
        switch = _STANDARD_NAMES[reference].switch
        how = f"with the option {switch} = true" if switch else "always"
        raise ConfigError(f"standard feature {reference!r} is not listed in extra; it is on {how}")
    known = ", ".join(sorted(_REGISTERED)) or "none registered"
    raise ConfigError(
        f"unknown feature {reference!r} in extra ({known}; or give module:name or path/to/file.py:name)"
    )


def standard_features(spec) -> list[Feature]:
    """The standard features `spec` switches on, in column order."""
    return [f for f in STANDARD if f.switch is None or getattr(spec, f.switch)]
