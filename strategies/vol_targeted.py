"""`VolTargeted`: direction from the prediction, size from a volatility forecast.

Volatility is either the trailing realised volatility of close-to-close log returns or a
GARCH(1,1) one-step forecast from `arch`. Both read only returns up to the current bar:
the GARCH model is refitted every `refit_every` bars on the last `garch_window` returns,
and between refits its variance is rolled forward with the fitted parameters on each
new return, exactly as the GARCH recursion would.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from forecast.calendar import TRADING_DAYS
from forecast.errors import ConfigError
from forecast.features.garch import SCALE as GARCH_SCALE
from forecast.features.garch import GarchParams, garch_variance, garch_volatility
from forecast.features.garch import fit_garch as fit_garch_params
from strategies.base import PredictionStrategy

_MIN_GARCH_OBS = 100  # fewer returns than this give unstable GARCH fits


def fit_garch(returns: np.ndarray) -> tuple[float, float, float, float, float]:
    """Fit a constant-mean GARCH(1,1) to `returns` (decimal log returns), with the same
    estimator as the GARCH feature (`forecast.features.garch`).

    Returns (mu, omega, alpha, beta, next_var): the parameters in percent units and the
    one-step-ahead variance forecast (percent squared) for the bar after the last return.
    """
    params, next_var = _fit_garch(returns)
    return params.mu, params.omega, params.alpha, params.beta, next_var


def _fit_garch(returns: np.ndarray) -> tuple[GarchParams, float]:
    series = pd.Series(returns, dtype="float64")
    params = fit_garch_params(series)
    next_var = float(garch_volatility(series, params).iloc[-1] * GARCH_SCALE) ** 2
    return params, next_var


def _check_params(method, target_vol, vol_window, refit_every) -> None:
    if method not in ("realized", "garch"):
        raise ConfigError(f"vol-targeted method must be 'realized' or 'garch', not {method!r}")
    if target_vol <= 0 or vol_window < 2 or refit_every < 1:
        raise ConfigError("vol-targeted needs target_vol > 0, vol_window >= 2, refit_every >= 1")


class VolTargeted(PredictionStrategy):
    """Scale exposure so that the position's annualised volatility is `target_vol`.

    Direction: long when `prob_up > threshold`, short when below it if `allow_short`,
    else flat. Size: `min(cap, target_vol / forecast_vol)`. `method` is "realized"
    (std of the last `vol_window` log returns, annualised with sqrt(252)) or "garch".
    Until enough history exists the strategy stays flat.
    """

    params = (
        ("target_vol", 0.10),
        ("method", "realized"),
        ("vol_window", 20),
        ("garch_window", 500),
        ("refit_every", 21),
        ("threshold", 0.5),
        ("allow_short", False),
        ("cap", 1.0),
    )

    @classmethod
    def warmup_bars(cls, params: dict) -> int:
        """History the volatility estimate reads: the window plus one (returns need it)."""
        defaults = dict(cls.params._getitems())
        merged = {**defaults, **(params or {})}
        window = merged["garch_window"] if merged["method"] == "garch" else merged["vol_window"]
        return int(window) + 1

    def __init__(self):
        super().__init__()
        _check_params(self.p.method, self.p.target_vol, self.p.vol_window, self.p.refit_every)
        self._garch: GarchParams | None = None
        self._next_var = math.nan
        self._bars_since_fit = 0
        self._last_len = 0

    def _returns(self, window: int) -> np.ndarray:
        """The last `window` log returns up to and including this bar."""
        n = min(window + 1, len(self.data))
        closes = np.asarray(self.data.close.get(ago=0, size=n), dtype=float)
        return np.diff(np.log(closes))

    def _realized_vol(self) -> float:
        r = self._returns(self.p.vol_window)
        if len(r) < self.p.vol_window:
            return math.nan
        return float(np.std(r, ddof=1) * math.sqrt(TRADING_DAYS))

    def _garch_vol(self) -> float:
        # Roll the variance forward over the bars since the last call (the feature's
        # recursion, from the running variance), then refit on schedule: both only use
        # returns up to the current bar.
        new_bars = len(self.data) - self._last_len
        self._last_len = len(self.data)
        if self._garch is not None and new_bars > 0:
            r = self._returns(new_bars)[-new_bars:] * GARCH_SCALE
            self._next_var = float(garch_variance(r, self._garch, self._next_var)[-1])
        self._bars_since_fit += new_bars
        if self._garch is None or self._bars_since_fit >= self.p.refit_every:
            r = self._returns(self.p.garch_window)
            if len(r) < _MIN_GARCH_OBS:
                return math.nan
            self._garch, self._next_var = _fit_garch(r)
            self._bars_since_fit = 0
        return math.sqrt(self._next_var * TRADING_DAYS) / GARCH_SCALE

    def target_exposure(self) -> float:
        p = self.prob_up[0]
        direction = (
            1.0 if p > self.p.threshold else (-1.0 if self.p.allow_short and p < self.p.threshold else 0.0)
        )
        vol = self._garch_vol() if self.p.method == "garch" else self._realized_vol()
        if direction == 0.0 or not vol > 0:
            return 0.0
        return direction * min(self.p.cap, self.p.target_vol / vol)

    @classmethod
    def vector_targets(cls, frame, params) -> np.ndarray:
        p = params
        _check_params(p["method"], p["target_vol"], p["vol_window"], p["refit_every"])
        prob = frame["prob_up"].to_numpy(dtype="float64")
        closes = frame["close"].to_numpy(dtype="float64")
        if p["method"] == "garch":
            vol = _garch_vols(closes, prob, p["garch_window"], p["refit_every"])
        else:
            vol = _realized_vols(closes, p["vol_window"])
        direction = np.where(prob > p["threshold"], 1.0,
                             np.where(p["allow_short"] & (prob < p["threshold"]), -1.0, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = p["target_vol"] / vol
        sized = direction * np.where(ratio < p["cap"], ratio, p["cap"])  # min(cap, ratio)
        flat = (direction == 0.0) | ~(vol > 0)
        return cls.decided(prob, np.where(flat, 0.0, sized))


def _realized_vols(closes: np.ndarray, window: int) -> np.ndarray:
    """`_realized_vol` at every bar: the same std of the same returns (NaN before a full
    window). Windows are made contiguous so that numpy sums each one as it sums a slice."""
    out = np.full(len(closes), np.nan)
    if len(closes) > window:
        returns = np.diff(np.log(closes))
        windows = np.ascontiguousarray(sliding_window_view(returns, window))
        out[window:] = np.std(windows, axis=1, ddof=1) * math.sqrt(TRADING_DAYS)
    return out


def _garch_vols(closes: np.ndarray, prob: np.ndarray, window: int, refit_every: int) -> np.ndarray:
    """`_garch_vol` called on each decision bar in turn (its state carries between them),
    on the same return slices the strategy reads from its data feed."""
    out = np.full(len(closes), np.nan)
    params, next_var, since_fit, last_len = None, math.nan, 0, 0

    def returns(i, count):  # VolTargeted._returns at bar i
        n = min(count + 1, i + 1)
        return np.diff(np.log(closes[i + 1 - n : i + 1]))

    for i in np.flatnonzero(~np.isnan(prob)):
        new_bars, last_len = i + 1 - last_len, i + 1
        if params is not None and new_bars > 0:
            r = returns(i, new_bars)[-new_bars:] * GARCH_SCALE
            next_var = float(garch_variance(r, params, next_var)[-1])
        since_fit += new_bars
        if params is None or since_fit >= refit_every:
            r = returns(i, window)
            if len(r) < _MIN_GARCH_OBS:
                continue
            params, next_var = _fit_garch(r)
            since_fit = 0
        out[i] = math.sqrt(next_var * TRADING_DAYS) / GARCH_SCALE
    return out
