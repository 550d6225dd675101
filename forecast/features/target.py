"""Direction labels for a forecast horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError


def make_target(
    bars: pd.DataFrame | pd.Series,
    horizon: int = 1,
    threshold: float = 0.0,
    *,
    symmetric: bool = False,
) -> pd.Series:
    """Label each bar t by the move from close[t] to close[t + horizon].

    With r = close[t+h] / close[t] - 1:
      * default: 1.0 if r > threshold else 0.0;
      * ``symmetric=True`` (a dead zone, needs threshold >= 0): 1.0 if r > threshold,
        0.0 if r < -threshold, NaN in between, so small moves are neither trained on
        nor scored.
    The last `horizon` rows are NaN: their outcome is not known yet. The label at t uses
    close[t+h], so it may only train a model used at or after bar t+h.
    """
    close = bars["close"] if isinstance(bars, pd.DataFrame) else bars
    if not isinstance(close, pd.Series):
        raise DataError("make_target needs a bars DataFrame with a close column or a Series")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon must be a positive integer, not {horizon!r}")
    if not np.isfinite(threshold):
        raise ConfigError(f"threshold must be a finite number, not {threshold!r}")
    if symmetric and threshold < 0:
        raise ConfigError("a symmetric (dead-zone) threshold must be >= 0")
    close = close.astype("float64")
    fwd = close.shift(-int(horizon)) / close - 1.0
    up = (fwd > threshold).astype("float64")
    if symmetric:
        up = up.where((fwd > threshold) | (fwd < -threshold))
    return up.where(fwd.notna()).rename("target")
