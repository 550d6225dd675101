"""An Alpha158-style factor set: Qlib's 158 daily factors, computed causally from OHLCV.

The families and column names follow Qlib's `Alpha158DL.get_feature_config` (default
config): 9 candle shapes (KMID .. KSFT2), 4 price ratios (OPEN0, HIGH0, LOW0, VWAP0) and
29 rolling operators over 5, 10, 20, 30 and 60 bars (ROC5 .. VSUMD60), in Qlib's order.
Every value at bar t reads bars up to t only.

Where fcast differs from Qlib (docs/FEATURES.md says the same):
* fcast bars have no VWAP: VWAP0 is the typical price (high + low + close) / 3 over close.
* A volume that divides is taken as volume + 1 share (Qlib: volume + 1e-12, or bare), so
  zero-volume bars (indices) give finite values: VMA, VSTD and CORD's volume ratio.
* Rolling operators need a full window (Qlib accepts partial ones at the start), so a
  column is NaN for its first w - 1 bars, or w where it reads a one-bar change.
* Undefined values are 0, not NaN (a row with a NaN is dropped): the correlations and
  RSQR of a flat window.
Every windowed statistic is computed from the window's values alone
(`forecast.features.window_ops`), so the whole set is `start_invariant`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOWS = (5, 10, 20, 30, 60)
KBAR = ("KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2")
PRICE = ("OPEN0", "HIGH0", "LOW0", "VWAP0")
# Qlib's rolling operators in its order; those in DIFF_OPS read a one-bar change.
ROLLING = ("ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD", "RANK", "RSV",
           "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD", "SUMP", "SUMN", "SUMD",
           "VMA", "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD")
DIFF_OPS = ("CORD", "CNTP", "CNTN", "CNTD", "SUMP", "SUMN", "SUMD", "WVMA", "VSUMP", "VSUMN", "VSUMD")
EPS = 1e-12  # Qlib's guard against a zero range


def columns() -> list[str]:
    """The 158 column names, in Qlib's order."""
    return [*KBAR, *PRICE, *(f"{op}{w}" for op in ROLLING for w in WINDOWS)]


def column_warmup(name: str) -> int:
    """Leading NaN bars of column `name`: 0 for candles and prices, w for ROCw and the
    operators on one-bar changes, w - 1 for the other rolling operators."""
    if name in KBAR or name in PRICE:
        return 0
    op = name.rstrip("0123456789")
    w = int(name[len(op):])
    return w if op == "ROC" or op in DIFF_OPS else w - 1


WARMUP = max(column_warmup(c) for c in columns())


def alpha158_features(bars: pd.DataFrame, spec=None) -> dict[str, np.ndarray]:
    """All 158 columns as float64 arrays, by name (see the module docstring)."""
    from forecast.features import window_ops as wo

    o, h, lo, c, v = (wo.as_float(bars[k]) for k in ("open", "high", "low", "close", "volume"))
    out: dict[str, np.ndarray] = {}
    rng = h - lo + EPS
    top, bottom = np.maximum(o, c), np.minimum(o, c)
    out.update(KMID=(c - o) / o, KLEN=(h - lo) / o, KMID2=(c - o) / rng, KUP=(h - top) / o,
               KUP2=(h - top) / rng, KLOW=(bottom - lo) / o, KLOW2=(bottom - lo) / rng,
               KSFT=(2 * c - h - lo) / o, KSFT2=(2 * c - h - lo) / rng)
    out.update(OPEN0=o / c, HIGH0=h / c, LOW0=lo / c, VWAP0=(h + lo + c) / 3.0 / c)

    prev_c = _lag(c, 1)
    prev_v = _lag(v, 1)
    dc, dv = c - prev_c, v - prev_v
    up = np.where(np.isnan(dc), np.nan, (dc > 0).astype(np.float64))
    down = np.where(np.isnan(dc), np.nan, (dc < 0).astype(np.float64))
    log_v = np.log(v + 1.0)
    dlog_v = np.log(v / (prev_v + 1.0) + 1.0)
    weighted = np.abs(c / prev_c - 1.0) * v
    per_op: dict[str, dict[int, np.ndarray]] = {op: {} for op in ROLLING}
    for w in WINDOWS:
        ma, sd = wo.window_mean_std(c, w)
        slope, r2, resid = wo.window_regression(c, w)
        hi, imax = wo.window_max(h, w)
        neg_low, imin = wo.window_max(-lo, w)
        low = -neg_low
        qtlu, qtld, rank = wo.window_order_stats(c, w, 0.8, 0.2)
        gain, loss, moved = (wo.window_sum(x, w) for x in _moves(dc))
        vgain, vloss, vmoved = (wo.window_sum(x, w) for x in _moves(dv))
        cntp, cntn = wo.window_sum(up, w) / w, wo.window_sum(down, w) / w
        vma, vsd = wo.window_mean_std(v, w)
        wma, wsd = wo.window_mean_std(weighted, w)
        values = {
            "ROC": _lag(c, w) / c, "MA": ma / c, "STD": sd / c, "BETA": slope / c, "RSQR": r2,
            "RESI": resid / c, "MAX": hi / c, "MIN": low / c,
            "QTLU": qtlu / c, "QTLD": qtld / c, "RANK": rank, "RSV": (c - low) / (hi - low + EPS),
            "IMAX": imax / w, "IMIN": imin / w, "IMXD": (imax - imin) / w,
            "CORR": wo.window_corr(c, log_v, w), "CORD": wo.window_corr(c / prev_c, dlog_v, w),
            "CNTP": cntp, "CNTN": cntn, "CNTD": cntp - cntn,
            "SUMP": gain / (moved + EPS), "SUMN": loss / (moved + EPS), "SUMD": (gain - loss) / (moved + EPS),
            "VMA": vma / (v + 1.0), "VSTD": vsd / (v + 1.0), "WVMA": wsd / (wma + EPS),
            "VSUMP": vgain / (vmoved + EPS), "VSUMN": vloss / (vmoved + EPS),
            "VSUMD": (vgain - vloss) / (vmoved + EPS),
        }
        for op, value in values.items():
            per_op[op][w] = value
    for op in ROLLING:
        for w in WINDOWS:
            out[f"{op}{w}"] = per_op[op][w]
    return {name: out[name] for name in columns()}


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    out[k:] = x[:-k]
    return out


def _moves(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gains, losses (as positive numbers) and absolute moves of one-bar changes `d`."""
    return np.maximum(d, 0.0), np.maximum(-d, 0.0), np.abs(d)
