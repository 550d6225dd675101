"""The numba loops of `forecast.features.cross_section` (rows are dates, columns tickers)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def centred_rank(x, member, order):
    """Per row (date): each value's average rank among the members' values (a non-member
    counted in as one more), as (r - 0.5) / n - 0.5; NaN where no member has a value.
    `order`: each row's argsort of the members' values, NaN elsewhere (NaN sorts last)."""
    n_dates, n = x.shape
    out = np.full((n_dates, n), np.nan)
    ranked = np.empty(n)
    for d in range(n_dates):
        k = 0
        for i in range(n):
            if member[d, i] and not np.isnan(x[d, i]):
                k += 1
        if k == 0:
            continue
        for q in range(k):
            ranked[q] = x[d, order[d, q]]
        # Members: one pass over the sorted values, ties sharing their average rank.
        j = 0
        while j < k:
            e = j
            while e + 1 < k and ranked[e + 1] == ranked[j]:
                e += 1
            r = (j + e) / 2.0 + 1.0
            for q in range(j, e + 1):
                out[d, order[d, q]] = (r - 0.5) / k - 0.5
            j = e + 1
        # Non-members: placed among the members as one more value.
        for i in range(n):
            v = x[d, i]
            if member[d, i] or np.isnan(v):
                continue
            less = np.searchsorted(ranked[:k], v, side="left")
            equal = np.searchsorted(ranked[:k], v, side="right") - less + 1
            r = less + (equal + 1) / 2.0
            out[d, i] = (r - 0.5) / (k + 1) - 0.5
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
