"""Leak-free GARCH(1,1) conditional volatility.

Parameters are estimated (with `arch`) on the fit span only; the variance recursion is
then run forward with those fixed parameters and a fixed starting variance, so the value
at bar t uses returns up to and including t and nothing else. `arch`'s own filtered
variance is not used because its backcast (starting value) is computed from the first
75 returns of whatever series it is given.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from forecast.errors import DataError

# arch fits best on returns in percent.
SCALE = 100.0
# Fewer returns than this give no usable GARCH(1,1) estimate.
MIN_RETURNS = 100


@dataclass(frozen=True)
class GarchParams:
    """Fitted GARCH(1,1) parameters on percent returns, and the recursion's start value."""

    mu: float
    omega: float
    alpha: float
    beta: float
    sigma2_0: float


def fit_garch(log_returns: pd.Series) -> GarchParams:
    """Estimate a constant-mean GARCH(1,1) on `log_returns` (NaNs dropped)."""
    from arch import arch_model  # lazy: arch is only needed when GARCH is switched on

    r = SCALE * log_returns.dropna().to_numpy(dtype="float64")
    if len(r) < MIN_RETURNS:
        raise DataError(f"GARCH needs at least {MIN_RETURNS} returns in the fit span, got {len(r)}")
    with warnings.catch_warnings():
        # Convergence chatter is not actionable for a feature; the fit is still usable.
        warnings.simplefilter("ignore")
        res = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal").fit(
            disp="off", show_warning=False
        )
    mu, omega, alpha, beta = (float(res.params[k]) for k in ("mu", "omega", "alpha[1]", "beta[1]"))
    persistence = alpha + beta
    # Start from the unconditional variance when it exists, else the fit span's variance.
    sigma2_0 = omega / (1.0 - persistence) if persistence < 1.0 else float(np.var(r - mu))
    return GarchParams(mu=mu, omega=omega, alpha=alpha, beta=beta, sigma2_0=sigma2_0)


def garch_variance(returns_pct: np.ndarray, params: GarchParams, sigma2_0: float) -> np.ndarray:
    """sigma2_{t+1|t} after each of `returns_pct` (percent returns, no NaN), in percent squared.

    sigma2_{t+1} = omega + alpha * (r_t - mu)^2 + beta * sigma2_t, starting from
    `sigma2_0` (the variance for the first return), run as a linear filter.
    """
    x = params.omega + params.alpha * (returns_pct - params.mu) ** 2
    # y[n] = x[n] + beta * y[n-1], with y[-1] = sigma2_0: y[n] is sigma2_{n+1}.
    s2, _ = lfilter([1.0], [1.0, -params.beta], x, zi=[params.beta * sigma2_0])
    return s2


def garch_volatility(log_returns: pd.Series, params: GarchParams) -> pd.Series:
    """One-step-ahead conditional volatility sigma_{t+1|t} (in log-return units).

    The `garch_variance` recursion run from `params.sigma2_0`; NaN where r_t is NaN
    (leading warm-up only).
    """
    r = SCALE * log_returns.to_numpy(dtype="float64")
    valid = ~np.isnan(r)
    out = np.full(len(r), np.nan)
    if valid.any():
        first = int(np.argmax(valid))
        if np.isnan(r[first:]).any():
            raise DataError("GARCH volatility needs returns without gaps after the first one")
        out[first:] = np.sqrt(garch_variance(r[first:], params, params.sigma2_0)) / SCALE
    return pd.Series(out, index=log_returns.index, name="garch_vol")


def _log_returns(bars: pd.DataFrame) -> pd.Series:
    return np.log(bars["close"]).diff()


def fit_garch_feature(bars: pd.DataFrame, spec) -> GarchParams:
    """The GARCH feature's fit: parameters from the fit span's close-to-close returns."""
    return fit_garch(_log_returns(bars))


def garch_features(bars: pd.DataFrame, spec, params: GarchParams) -> dict[str, pd.Series]:
    """The GARCH feature's computation: `garch_vol` with the fitted `params`."""
    return {"garch_vol": garch_volatility(_log_returns(bars), params)}
