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
