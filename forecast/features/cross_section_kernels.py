"""The numba loops of `forecast.features.cross_section` (rows are dates, columns tickers)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def centred_rank(x, member):
    """Per row (date): each value's average rank among the members' values (a non-member
    counted in as one more), as (r - 0.5) / n - 0.5; NaN where no member has a value."""
    n_dates, n = x.shape
    out = np.full((n_dates, n), np.nan)
    pool = np.empty(n)
    for d in range(n_dates):
        k = 0
        for i in range(n):
            if member[d, i] and not np.isnan(x[d, i]):
                pool[k] = x[d, i]
                k += 1
        if k == 0:
            continue
        ranked = np.sort(pool[:k])
        for i in range(n):
            v = x[d, i]
            if np.isnan(v):
                continue
            less = np.searchsorted(ranked, v, side="left")
            equal = np.searchsorted(ranked, v, side="right") - less
            size = k
            if not member[d, i]:  # placed among the members as one more value
                equal += 1
                size += 1
            r = less + (equal + 1) / 2.0
            out[d, i] = (r - 0.5) / size - 0.5
    return out


@njit(cache=True)
def zscore(x, member):
    """Per row (date): (x - mean) / std over the members' values (ddof 1); 0 without spread."""
    n_dates, n = x.shape
    out = np.full((n_dates, n), np.nan)
    for d in range(n_dates):
        k = 0
        s = 0.0
        lo = np.inf
        hi = -np.inf
        for i in range(n):
            if member[d, i] and not np.isnan(x[d, i]):
                s += x[d, i]
                k += 1
                lo = min(lo, x[d, i])
                hi = max(hi, x[d, i])
        if k == 0:
            continue
        mean = s / k
        ss = 0.0
        for i in range(n):
            if member[d, i] and not np.isnan(x[d, i]):
                ss += (x[d, i] - mean) ** 2
        # Equal values: no spread (checked exactly, not through a rounded variance).
        sd = np.sqrt(ss / (k - 1)) if k > 1 and hi > lo else 0.0
        for i in range(n):
            if not np.isnan(x[d, i]):
                out[d, i] = (x[d, i] - mean) / sd if sd > 0 else 0.0
    return out
