"""Raw (unscaled) technical features, each a trailing function of the bars.

Every function here uses only `rolling`, `ewm` (adjust=False or min_periods) and
positive `shift`s, so the value at bar t depends on bars up to and including t.
Prices enter as ratios or logs, so the features do not depend on the price level.
Each `*_features(bars, spec)` is the computation of one built-in `Feature`
(`forecast.features.builtin`) and returns its columns by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast.data.frame import is_validated
from forecast.errors import DataError

if TYPE_CHECKING:
    from forecast.features.spec import FeatureSpec

_PRICES = ("open", "high", "low", "close")
# Order in which missing bar columns are named.
_BAR_ORDER = ("close", "high", "low", "open", "volume")


def check_bars(bars: pd.DataFrame, spec: FeatureSpec) -> None:
    """Raise DataError unless `bars` has the columns `spec` needs, sorted dates and sound values.

    Bars a loader validated (forecast.data.frame.is_validated) get the column check only;
    a hand-made frame is checked in full here (only the columns the spec reads).
    """
    validated = is_validated(bars)
    if not validated:
        _check_frame(bars)
    needed = sorted(spec.inputs(), key=lambda c: (_BAR_ORDER + (c,)).index(c))
    missing = [c for c in needed if c not in bars.columns]
    if missing:
        raise DataError(f"bars lack column(s) needed by the features: {', '.join(missing)}")
    if not validated:
        _check_values(bars, needed)


def _check_frame(bars) -> None:
    if not isinstance(bars, pd.DataFrame):
        raise DataError(f"bars must be a pandas DataFrame, not {type(bars).__name__}")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise DataError("bars must be indexed by a DatetimeIndex")
    if not bars.index.is_monotonic_increasing or not bars.index.is_unique:
        raise DataError("bars index must be sorted and unique")


def _check_values(bars: pd.DataFrame, needed: list[str]) -> None:
    prices = bars[[c for c in _PRICES if c in needed]].to_numpy(float)
    if not (np.isfinite(prices).all() and (prices > 0).all()):
        raise DataError("bars hold missing, infinite or non-positive prices")
    if "volume" in needed:
        vol = bars["volume"].to_numpy(float)
        if not (np.isfinite(vol).all() and (vol >= 0).all()):
            raise DataError("bars hold missing, infinite or negative volume")


def _close(bars: pd.DataFrame) -> pd.Series:
    return bars["close"].astype("float64")


def return_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """`ret_k`: log return over the last k bars, for each k in `return_lags`."""
    log_close = np.log(_close(bars))
    return {f"ret_{k}": log_close - log_close.shift(k) for k in spec.return_lags}


def volatility_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """`rvol_w`: standard deviation of the last w one-bar log returns."""
    ret1 = np.log(_close(bars)).diff()
    return {f"rvol_{w}": ret1.rolling(w, min_periods=w).std() for w in spec.vol_windows}


def volume_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Log volume, its change, and its trailing z-score."""
    # log1p: zero volume (indices, FX) stays finite.
    log_vol = np.log1p(bars["volume"].astype("float64"))
    return {
        "log_volume": log_vol,
        "dlog_volume": log_vol.diff(),
        "volume_z": rolling_zscore(log_vol, spec.volume_window),
    }


def rsi_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Wilder's relative strength index in [0, 100]; 50 when the window has no moves."""
    delta = _close(bars).diff()
    alpha = 1.0 / spec.rsi_window
    gain = delta.clip(lower=0).ewm(alpha=alpha, min_periods=spec.rsi_window, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=alpha, min_periods=spec.rsi_window, adjust=False).mean()
    total = gain + loss
    return {"rsi": (100.0 * gain / total).where(total > 0, 50.0).where(total.notna())}


def macd_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """MACD line and its signal line, relative to the close so they are scale-free."""
    close = _close(bars)
    fast = close.ewm(span=spec.macd_fast, min_periods=spec.macd_slow, adjust=False).mean()
    slow = close.ewm(span=spec.macd_slow, min_periods=spec.macd_slow, adjust=False).mean()
    macd = (fast - slow) / close
    signal = macd.ewm(span=spec.macd_signal, min_periods=spec.macd_signal, adjust=False).mean()
    return {"macd": macd, "macd_signal": signal}


def bollinger_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Bollinger %b: where the close sits in its band (0 lower, 1 upper)."""
    close = _close(bars)
    mid = close.rolling(spec.bb_window, min_periods=spec.bb_window).mean()
    sd = close.rolling(spec.bb_window, min_periods=spec.bb_window).std()
    width = 2.0 * spec.bb_k * sd
    lower = mid - spec.bb_k * sd
    # A flat window has no band: put the close in its middle.
    return {"bb_pctb": ((close - lower) / width).where(width > 0, 0.5).where(sd.notna())}


def atr_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Wilder's average true range, relative to the close."""
    close = _close(bars)
    high = bars["high"].astype("float64")
    low = bars["low"].astype("float64")
    prev = close.shift(1)
    tr = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(
        axis=1, skipna=False
    )
    atr = tr.ewm(alpha=1.0 / spec.atr_window, min_periods=spec.atr_window, adjust=False).mean()
    return {"atr": atr / close}


def hl_range_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Log of the bar's high over its low."""
    return {"hl_range": np.log(bars["high"].astype("float64") / bars["low"].astype("float64"))}


def gap_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Log of the open over the previous close."""
    return {"gap": np.log(bars["open"].astype("float64") / _close(bars).shift(1))}


def day_of_week_features(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, pd.Series]:
    """Cyclic day-of-week encoding; the calendar is known in advance."""
    # 2*pi*d/7 covers 5- and 7-day weeks alike.
    angle = 2.0 * np.pi * bars.index.dayofweek.to_numpy() / 7.0
    return {
        "dow_sin": pd.Series(np.sin(angle), index=bars.index),
        "dow_cos": pd.Series(np.cos(angle), index=bars.index),
    }


def rolling_zscore(x: pd.Series, window: int) -> pd.Series:
    """Trailing z-score of `x` over `window` bars including t; 0 where the window is flat."""
    roll = x.rolling(window, min_periods=window)
    mean, sd = roll.mean(), roll.std()
    z = (x - mean) / sd
    return z.where(sd > 0, 0.0).where(sd.notna())
