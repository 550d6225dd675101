"""Sliding windows of feature rows for sequence models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from forecast.errors import ConfigError


def make_windows(values: np.ndarray | pd.DataFrame, window: int) -> np.ndarray:
    """Stack trailing windows: `(n, f) -> (n - window + 1, window, f)`.

    Row i holds input rows i .. i + window - 1, so it ends at (and belongs to the decision
    at) position i + window - 1. A 1-D input is treated as one feature. The result is a
    read-only view on `values`; index it (which copies) before changing it.
    """
    arr = values.to_numpy(dtype="float64") if isinstance(values, pd.DataFrame) else np.asarray(values)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ConfigError(f"make_windows needs a 2-D array, got {arr.ndim} dimensions")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ConfigError(f"window must be a positive integer, not {window!r}")
    if window > len(arr):
        raise ConfigError(f"window of {window} rows is longer than the {len(arr)} rows given")
    # sliding_window_view appends the window axis last: (n-w+1, f, w) -> (n-w+1, w, f).
    return np.moveaxis(sliding_window_view(arr, window, axis=0), -1, 1)


def complete_windows(features: np.ndarray, window: int, positions: np.ndarray) -> np.ndarray:
    """Which of the windows ending at `positions` hold no NaN or inf (a boolean mask), found
    from a running count of bad rows without cutting the windows."""
    arr = np.asarray(features)
    arr = arr[:, None] if arr.ndim == 1 else arr
    positions = _checked_positions(positions, window, len(arr))
    bad = np.concatenate([[0], np.cumsum(~np.isfinite(arr).all(axis=1))])
    return bad[positions + 1] == bad[positions + 1 - window]


def gather_windows(features: np.ndarray, window: int, positions: np.ndarray) -> np.ndarray:
    """The windows ending at `positions`, `(len(positions), window, f)`, in one new array."""
    windows = make_windows(features, window)  # windows[i] ends at position i + window - 1
    return windows[_checked_positions(positions, window, len(windows) + window - 1) - (window - 1)]


def _checked_positions(positions, window: int, n: int) -> np.ndarray:
    positions = np.asarray(positions, dtype="int64")
    if positions.size and (positions.min() < window - 1 or positions.max() >= n):
        raise ConfigError(f"window end positions must lie in {window - 1} .. {n - 1}")
    return positions


def decision_windows(
    features: np.ndarray, window: int, positions: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The feature windows that end at each decision position, complete ones only.

    `features` is `(n, f)`; `positions` (default: every position with a full window,
    window - 1 .. n - 1) are the bars decisions are taken on. Returns `(X, kept)`: X of
    shape `(len(kept), window, f)` and the positions whose window has no NaN or inf
    (feature warm-up), in order.
    """
    windows = make_windows(features, window)  # windows[i] ends at position i + window - 1
    if positions is None:
        positions = np.arange(window - 1, len(windows) + window - 1)
    X = windows[np.asarray(positions) - (window - 1)]
    ok = np.isfinite(X).all(axis=(1, 2))
    return X[ok], np.asarray(positions)[ok]
