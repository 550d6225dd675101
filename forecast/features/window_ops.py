"""Trailing-window statistics computed afresh for every window (numba loops).

Each value at bar t reads the `w` values ending at t and nothing else: no running sum is
carried from bar to bar, so the result is the same to the last bit whichever bar the series
starts at (what `Feature.start_invariant` promises). The cost is O(n * w) instead of O(n),
which for windows up to 60 bars is still fast in compiled loops.

A window holding a NaN (or not yet full) gives NaN. "Flat" windows (all values equal,
checked exactly) give 0 for correlations and regression statistics instead of 0 / 0.
Inputs must be contiguous float64 arrays (`as_float`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def as_float(values) -> np.ndarray:
    """A fresh writable contiguous float64 copy (one numba type, whatever pandas hands out)."""
    return np.array(values, dtype=np.float64)


@njit(cache=True)
def _has_nan(x, lo, hi):
    for i in range(lo, hi):
        if np.isnan(x[i]):
            return True
    return False


@njit(cache=True)
def _mean(x, lo, hi):
    s = 0.0
    for i in range(lo, hi):
        s += x[i]
    return s / (hi - lo)


@njit(cache=True)
def window_sum(x, w):
    """Sum of each window, added in time order."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(w - 1, n):
        s = 0.0
        for i in range(t - w + 1, t + 1):
            s += x[i]
        out[t] = s  # NaN propagates
    return out


@njit(cache=True)
def window_mean_std(x, w):
    """Mean and sample standard deviation (ddof 1, two passes) of each window."""
    n = x.shape[0]
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    for t in range(w - 1, n):
        lo = t - w + 1
        if _has_nan(x, lo, t + 1):
            continue
        m = _mean(x, lo, t + 1)
        ss = 0.0
        for i in range(lo, t + 1):
            d = x[i] - m
            ss += d * d
        mean[t] = m
        std[t] = np.sqrt(ss / (w - 1)) if w > 1 else np.nan
    return mean, std


@njit(cache=True)
def _flat(x, lo, hi):
    for i in range(lo + 1, hi):
        if x[i] != x[lo]:
            return False
    return True


@njit(cache=True)
def window_regression(y, w):
    """Least squares of the window's values on 1..w: slope, R-squared, and the residual of
    the last value (Qlib's Slope, Rsquare, Resi). A flat window gives 0, 0, 0."""
    n = y.shape[0]
    slope = np.full(n, np.nan)
    r2 = np.full(n, np.nan)
    resid = np.full(n, np.nan)
    xm = (w + 1) / 2.0
    sxx = w * (w * w - 1) / 12.0
    for t in range(w - 1, n):
        lo = t - w + 1
        if _has_nan(y, lo, t + 1):
            continue
        if _flat(y, lo, t + 1):
            slope[t] = 0.0
            r2[t] = 0.0
            resid[t] = 0.0
            continue
        ym = _mean(y, lo, t + 1)
        sxy = 0.0
        syy = 0.0
        for i in range(lo, t + 1):
            dy = y[i] - ym
            sxy += (i - lo + 1 - xm) * dy
            syy += dy * dy
        b = sxy / sxx
        slope[t] = b
        r2[t] = sxy * sxy / (sxx * syy)
        resid[t] = y[t] - (ym + b * (w - xm))
    return slope, r2, resid


@njit(cache=True)
def window_corr(a, b, w):
    """Pearson correlation of two series over each window; 0 where either is flat."""
    n = a.shape[0]
    out = np.full(n, np.nan)
    for t in range(w - 1, n):
        lo = t - w + 1
        if _has_nan(a, lo, t + 1) or _has_nan(b, lo, t + 1):
            continue
        if _flat(a, lo, t + 1) or _flat(b, lo, t + 1):
            out[t] = 0.0
            continue
        ma = _mean(a, lo, t + 1)
        mb = _mean(b, lo, t + 1)
        sab = 0.0
        saa = 0.0
        sbb = 0.0
        for i in range(lo, t + 1):
            da = a[i] - ma
            db = b[i] - mb
            sab += da * db
            saa += da * da
            sbb += db * db
        out[t] = sab / np.sqrt(saa * sbb)
    return out


@njit(cache=True)
def window_max(x, w):
    """The window's maximum and where it sits: 1 for the window's first (oldest) bar to w
    for bar t, the first of equal values (Qlib's IdxMax). The minimum: negate x."""
    n = x.shape[0]
    value = np.full(n, np.nan)
    where = np.full(n, np.nan)
    for t in range(w - 1, n):
        if _has_nan(x, t - w + 1, t + 1):
            continue
        lo = t - w + 1
        best = x[lo]
        k = 0
        for i in range(lo + 1, t + 1):
            if x[i] > best:
                best = x[i]
                k = i - lo
        value[t] = best
        where[t] = k + 1
    return value, where


@njit(cache=True)
def window_order_stats(x, w, q_high, q_low):
    """Per window: the `q_high` and `q_low` quantiles (linear interpolation, as pandas) and
    the percentile rank of the last value (average rank of ties / w, as pandas'
    `rank(pct=True)`). A sorted copy of each window is kept up to date by moving one value
    out and one in; it holds exactly the window's values, whatever came before."""
    n = x.shape[0]
    hi = np.full(n, np.nan)
    lo_q = np.full(n, np.nan)
    rank = np.full(n, np.nan)
    buf = np.empty(w)
    filled = 0  # valid values in buf: the run of non-NaN values ending at t, up to w
    for t in range(n):
        v = x[t]
        if np.isnan(v):
            filled = 0
            continue
        if filled == w:  # drop the value leaving the window
            old = x[t - w]
            j = np.searchsorted(buf[:filled], old)
            buf[j:filled - 1] = buf[j + 1:filled].copy()
            filled -= 1
        j = np.searchsorted(buf[:filled], v)
        buf[j + 1:filled + 1] = buf[j:filled].copy()
        buf[j] = v
        filled += 1
        if filled < w:
            continue
        hi[t] = _quantile(buf, w, q_high)
        lo_q[t] = _quantile(buf, w, q_low)
        less = np.searchsorted(buf, v, side="left")
        equal = np.searchsorted(buf, v, side="right") - less
        rank[t] = (less + (equal + 1) / 2.0) / w
    return hi, lo_q, rank


@njit(cache=True)
def _quantile(s, w, q):
    pos = q * (w - 1)
    k = int(np.floor(pos))
    if k >= w - 1:
        return s[w - 1]
    return s[k] + (s[k + 1] - s[k]) * (pos - k)
