"""Synthetic daily bars with known statistical properties, for tests and benchmarks.

A random walk has no predictable direction (any model that beats a coin flip on it
is leaking); an AR(1) in returns with coefficient phi has a direction that today's
sign predicts with probability 1/2 + arcsin(phi)/pi (about 0.795 for phi = 0.8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from forecast.data.frame import validate_bars


def bars_from_returns(
    returns: np.ndarray,
    *,
    seed: int = 0,
    start: str = "2000-01-03",
    start_price: float = 100.0,
    ticker: str = "SYN",
) -> pd.DataFrame:
    """Build canonical OHLCV bars whose close-to-close log returns are `returns`.

    Open, high, low and volume are drawn independently of future returns, so the only
    predictable structure is the one put into `returns`.
    """
    rng = np.random.default_rng(seed + 1)
    n = len(returns)
    close = start_price * np.exp(np.cumsum(returns))
    prev_close = np.concatenate([[start_price], close[:-1]])
    # The open sits between yesterday's close and today's close, so it carries no
    # information beyond bar t itself.
    frac = rng.uniform(0.0, 1.0, n)
    open_ = prev_close * np.exp(frac * np.log(close / prev_close))
    wick = np.abs(rng.normal(0.0, 0.004, (2, n)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.round(rng.lognormal(mean=14.0, sigma=0.3, size=n))
    index = pd.bdate_range(start=start, periods=n, name="date")
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=index,
        dtype="float64",
    )
    return validate_bars(frame, ticker, source="synthetic")


def random_walk_bars(n: int = 3000, *, seed: int = 0, sigma: float = 0.01, **kw) -> pd.DataFrame:
    """Bars of a driftless Gaussian random walk: next-day direction is unpredictable."""
    rng = np.random.default_rng(seed)
    return bars_from_returns(rng.normal(0.0, sigma, n), seed=seed, **kw)


def ar1_bars(
    n: int = 3000, *, phi: float = 0.8, seed: int = 0, sigma: float = 0.01, **kw
) -> pd.DataFrame:
    """Bars whose daily log returns follow r_t = phi * r_{t-1} + e_t."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, sigma, n)
    r = lfilter([1.0], [1.0, -phi], eps)  # r_t = phi * r_{t-1} + e_t, vectorised
    return bars_from_returns(r, seed=seed, **kw)


def garch_bars(
    n: int = 3000,
    *,
    omega: float = 2e-6,
    alpha: float = 0.10,
    beta: float = 0.88,
    seed: int = 0,
    **kw,
) -> pd.DataFrame:
    """Bars whose daily log returns follow a zero-mean GARCH(1,1).

    r_t = sigma_t * z_t, sigma2_t = omega + alpha * r_{t-1}^2 + beta * sigma2_{t-1}, started
    at the unconditional variance omega / (1 - alpha - beta). Direction is unpredictable,
    but volatility clusters, so a GARCH fit is identified (unlike on a random walk, whose
    constant variance makes the fitted volatility constant).
    """
    if not alpha + beta < 1.0:
        raise ValueError("alpha + beta must be below 1 for a stationary GARCH(1,1)")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    r = np.empty(n)
    sigma2 = omega / (1.0 - alpha - beta)
    for t in range(n):  # a recursion in r itself: no closed-form vectorisation
        r[t] = np.sqrt(sigma2) * z[t]
        sigma2 = omega + alpha * r[t] ** 2 + beta * sigma2
    return bars_from_returns(r, seed=seed, **kw)
