"""Raw (unscaled) technical features, each a trailing function of the bars.

Every function here uses only `rolling`, `ewm` (adjust=False or min_periods) and
positive `shift`s, so the value at bar t depends on bars up to and including t.
Prices enter as ratios or logs, so the features do not depend on the price level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import DataError
from forecast.features.spec import FeatureSpec


def check_bars(bars: pd.DataFrame, spec: FeatureSpec) -> None:
    """Raise DataError unless `bars` has what `spec` needs: a sorted index and positive prices."""
    if not isinstance(bars, pd.DataFrame):
        raise DataError(f"bars must be a pandas DataFrame, not {type(bars).__name__}")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise DataError("bars must be indexed by a DatetimeIndex")
    if not bars.index.is_monotonic_increasing or not bars.index.is_unique:
        raise DataError("bars index must be sorted and unique")
    needed = ["close"]
    if spec.atr or spec.hl_range:
        needed += ["high", "low"]
    if spec.gap:
        needed.append("open")
    if spec.volume:
        needed.append("volume")
    missing = [c for c in dict.fromkeys(needed) if c not in bars.columns]
    if missing:
        raise DataError(f"bars lack column(s) needed by the features: {', '.join(missing)}")
    prices = bars[[c for c in ("open", "high", "low", "close") if c in needed]].to_numpy(float)
    if not (np.isfinite(prices).all() and (prices > 0).all()):
        raise DataError("bars hold missing, infinite or non-positive prices")
    if spec.volume:
        vol = bars["volume"].to_numpy(float)
        if not (np.isfinite(vol).all() and (vol >= 0).all()):
            raise DataError("bars hold missing, infinite or negative volume")


def raw_features(bars: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """All features of `spec` except GARCH, unscaled, indexed like `bars`."""
    close = bars["close"].astype("float64")
    log_close = np.log(close)
    ret1 = log_close.diff()
    cols: dict[str, pd.Series] = {}

    for k in spec.return_lags:
        cols[f"ret_{k}"] = log_close - log_close.shift(k)
    for w in spec.vol_windows:
        cols[f"rvol_{w}"] = ret1.rolling(w, min_periods=w).std()

    if spec.volume:
        # log1p: zero volume (indices, FX) stays finite.
        log_vol = np.log1p(bars["volume"].astype("float64"))
        cols["log_volume"] = log_vol
        cols["dlog_volume"] = log_vol.diff()
        cols["volume_z"] = rolling_zscore(log_vol, spec.volume_window)

    if spec.rsi:
        cols["rsi"] = _rsi(close, spec.rsi_window)

    if spec.macd:
        fast = close.ewm(span=spec.macd_fast, min_periods=spec.macd_slow, adjust=False).mean()
        slow = close.ewm(span=spec.macd_slow, min_periods=spec.macd_slow, adjust=False).mean()
        macd = (fast - slow) / close  # relative to price, so scale-free
        cols["macd"] = macd
        cols["macd_signal"] = macd.ewm(
            span=spec.macd_signal, min_periods=spec.macd_signal, adjust=False
        ).mean()

    if spec.bollinger:
        mid = close.rolling(spec.bb_window, min_periods=spec.bb_window).mean()
        sd = close.rolling(spec.bb_window, min_periods=spec.bb_window).std()
        width = 2.0 * spec.bb_k * sd
        lower = mid - spec.bb_k * sd
        # A flat window has no band: put the close in its middle.
        cols["bb_pctb"] = ((close - lower) / width).where(width > 0, 0.5).where(sd.notna())

    if spec.atr:
        high = bars["high"].astype("float64")
        low = bars["low"].astype("float64")
        prev = close.shift(1)
        tr = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(
            axis=1, skipna=False
        )
        atr = tr.ewm(alpha=1.0 / spec.atr_window, min_periods=spec.atr_window, adjust=False).mean()
        cols["atr"] = atr / close

    if spec.hl_range:
        cols["hl_range"] = np.log(bars["high"].astype("float64") / bars["low"].astype("float64"))
    if spec.gap:
        cols["gap"] = np.log(bars["open"].astype("float64") / close.shift(1))

    if spec.day_of_week:
        # Cyclic encoding covers 5- and 7-day weeks alike; the calendar is known in advance.
        angle = 2.0 * np.pi * bars.index.dayofweek.to_numpy() / 7.0
        cols["dow_sin"] = pd.Series(np.sin(angle), index=bars.index)
        cols["dow_cos"] = pd.Series(np.cos(angle), index=bars.index)

    return pd.DataFrame(cols, index=bars.index, dtype="float64")


def rolling_zscore(x: pd.Series, window: int) -> pd.Series:
    """Trailing z-score of `x` over `window` bars including t; 0 where the window is flat."""
    roll = x.rolling(window, min_periods=window)
    mean, sd = roll.mean(), roll.std()
    z = (x - mean) / sd
    return z.where(sd > 0, 0.0).where(sd.notna())


def _rsi(close: pd.Series, window: int) -> pd.Series:
    """Wilder's relative strength index in [0, 100]; 50 when the window has no moves."""
    delta = close.diff()
    alpha = 1.0 / window
    gain = delta.clip(lower=0).ewm(alpha=alpha, min_periods=window, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=alpha, min_periods=window, adjust=False).mean()
    total = gain + loss
    return (100.0 * gain / total).where(total > 0, 50.0).where(total.notna())
