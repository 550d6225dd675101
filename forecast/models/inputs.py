"""Checks and reshaping of the data every model takes: 3-D windows in, 0/1 labels."""

from __future__ import annotations

import numpy as np

from forecast.errors import DataError

# Re-exported for forecast.evaluate.walkforward, which imports it from here.

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


def to_tabular(X: np.ndarray, input_mode: str) -> np.ndarray:
    """2-D view of the windows: the latest row only, or the whole window flattened."""
    if input_mode == "latest":
        return X[:, -1, :]
    return X.reshape(X.shape[0], -1)


def check_values(y, n_samples: int) -> np.ndarray:
    """Return y as a float vector of length `n_samples` (a regression target); raise on
    anything else."""
    try:
        y = np.asarray(y, dtype="float64")
    except (TypeError, ValueError):
        raise DataError("y must hold numbers (a return or rank target)") from None
    if y.ndim != 1 or len(y) != n_samples:
        raise DataError(f"y must be 1-D with {n_samples} targets to match X, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise DataError("y must hold finite numbers (NaN targets must be dropped first)")
    return y
