"""Model parameters checked with scikit-learn's own machinery, reported as ConfigError.

Models declare `_parameter_constraints` (scikit-learn's `Interval`, `StrOptions`, types,
None) and call `check_params(self)` in `fit`; `make_model` calls it up front, so a bad
value fails before any data is loaded.
"""

from __future__ import annotations

import re
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, InvalidParameterError

from forecast.errors import ConfigError


class LayerSizes(Interval):
    """Constraint for layer widths: a positive int, or a non-empty list/tuple of them."""

    def __init__(self):
        super().__init__(Integral, 1, None, closed="left")

    def is_satisfied_by(self, val):
        if isinstance(val, (list, tuple)):
            return bool(val) and all(super(LayerSizes, self).is_satisfied_by(v) for v in val)
        return super().is_satisfied_by(val)

    def __str__(self):
        return "a positive int or a non-empty list of positive ints"


def layer_sizes(units) -> tuple[int, ...]:
    """Layer widths as a tuple of ints (an int means one layer); assumes `LayerSizes` holds."""
    return (int(units),) if isinstance(units, Integral) else tuple(int(u) for u in units)


# scikit-learn's wording names the class ("The 'seed' parameter of GBMBaseline must be
# ..."), which a user who typed `--model gbm` never saw; the message is reworded around
# the parameter and the name the user gave.
_SKLEARN_MESSAGE = re.compile(
    r"The '(?P<param>\w+)' parameter of \w+ must be (?P<rule>.*)\. Got (?P<got>.*) instead\.$", re.S
)


def check_params(estimator, label: str | None = None) -> None:
    """Raise ConfigError, one line naming the parameter (and the model as `label`, e.g.
    "gbm"), when a value breaks the estimator's `_parameter_constraints` (estimators
    without them pass unchecked)."""
    if getattr(estimator, "_parameter_constraints", None) is None:
        return
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        match = _SKLEARN_MESSAGE.match(str(exc))
        if match is None:
            raise ConfigError(" ".join(str(exc).split())) from None
        where = f"model {label}: " if label else ""
        raise ConfigError(f"{where}{match['param']} must be {match['rule']}, got {match['got']}") from None


def check_value(name: str, value, constraint: Interval) -> None:
    """Raise ConfigError unless `value` satisfies `constraint` (bools are never numbers here)."""
    # scikit-learn counts True as the integer 1; as a count or a fraction it is a mistake.
    if isinstance(value, bool) or not constraint.is_satisfied_by(value):
        raise ConfigError(f"{name} must be {constraint}, got {value!r}")


def check_int(name: str, value, minimum: int) -> None:
    """Raise ConfigError unless `value` is an int >= `minimum`."""
    check_value(name, value, Interval(Integral, minimum, None, closed="left"))


def check_fraction(name: str, value) -> None:
    """Raise ConfigError unless `value` is a number in [0, 1)."""
    check_value(name, value, Interval(Real, 0, 1, closed="left"))
