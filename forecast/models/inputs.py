"""Checks and reshaping shared by every model: 3-D windows in, 0/1 labels."""

from __future__ import annotations

import numbers

import numpy as np

from forecast.errors import ConfigError, DataError

INPUT_MODES = ("latest", "flatten")


def check_X(X, expected_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Return X as a float 3-D array `(samples, window, features)`; raise on bad input.

    `expected_shape` is the `(window, features)` a fitted model was trained on.
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise DataError(f"X must be 3-D (samples, window, features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise DataError("X holds no samples")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"X must be numeric, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise DataError("X holds NaN or inf; drop the feature warm-up rows before windowing")
    if expected_shape is not None and tuple(X.shape[1:]) != tuple(expected_shape):
        raise DataError(
            f"X windows have shape {tuple(X.shape[1:])}, the model was fitted on {tuple(expected_shape)}"
        )
    return X.astype(np.float64, copy=False)


def check_y(y, n_samples: int) -> np.ndarray:
    """Return y as an int 0/1 vector of length `n_samples`; raise on anything else."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_samples:
        raise DataError(f"y must be 1-D with {n_samples} labels to match X, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise DataError("y must hold only 0/1 labels (NaN targets must be dropped first)")
    return y.astype(np.int64)


def check_both_classes(y: np.ndarray, model: str) -> None:
    """Raise DataError when the training labels hold a single class."""
    if np.unique(y).size < 2:
        raise DataError(f"{model} needs both up (1) and down (0) labels in the training data")


def check_input_mode(input_mode: str) -> None:
    """Raise ConfigError unless `input_mode` is latest or flatten."""
    if input_mode not in INPUT_MODES:
        raise ConfigError(f"input_mode must be one of {', '.join(INPUT_MODES)}, got {input_mode!r}")


def to_tabular(X: np.ndarray, input_mode: str) -> np.ndarray:
    """2-D view of the windows: the latest row only, or the whole window flattened."""
    if input_mode == "latest":
        return X[:, -1, :]
    return X.reshape(X.shape[0], -1)


def check_int(name: str, value, minimum: int) -> None:
    """Raise ConfigError unless `value` is an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_float(name: str, value, low: float, high: float, *, low_open=False, high_open=False):
    """Raise ConfigError unless `value` is a number in the given interval."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lb, hb = "(" if low_open else "[", ")" if high_open else "]"
        raise ConfigError(f"{name} must be a number in {lb}{low}, {high}{hb}, got {value!r}")


def check_units(name: str, units) -> tuple[int, ...]:
    """Layer sizes as a tuple of positive ints (an int means one layer); ConfigError otherwise."""
    if isinstance(units, numbers.Integral) and not isinstance(units, bool):
        units = (units,)
    if not isinstance(units, (tuple, list)) or not units:
        raise ConfigError(f"{name} must be a positive int or a non-empty list of them, got {units!r}")
    for u in units:
        check_int(name, u, 1)
    return tuple(int(u) for u in units)


def check_class_weight(class_weight) -> None:
    """Raise ConfigError unless class_weight is None or "balanced"."""
    if class_weight not in (None, "balanced"):
        raise ConfigError(f"class_weight must be None or 'balanced', got {class_weight!r}")
