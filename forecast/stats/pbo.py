"""Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV).

Reference: D. H. Bailey, J. M. Borwein, M. López de Prado and Q. J. Zhu (2017), "The
Probability of Backtest Overfitting", Journal of Computational Finance 20(4), 39-69.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from forecast.errors import ConfigError


@dataclass(frozen=True)
class PBOResult:
    """CSCV outcome.

    pbo: share of the splits whose in-sample winner ranks at or below the out-of-sample
    median (logit <= 0). logits: λ_c for every split c. rel_ranks: ω̄_c, the winner's
    out-of-sample rank / (N + 1). n_combinations: C(S, S/2). n_splits: S. n_rows: rows used.
    """

    pbo: float
    logits: np.ndarray
    rel_ranks: np.ndarray
    n_combinations: int
    n_splits: int
    n_rows: int


def _performance(sums: np.ndarray, sumsq: np.ndarray, n: int, metric: str) -> np.ndarray:
    """Sharpe ratio (mean / sd, ddof=1) or mean of each column from its sums over n rows."""
    mean = sums / n
    if metric == "mean":
        return mean
    var = np.maximum(sumsq - n * mean**2, 0.0) / (n - 1)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A constant column: SR 0 if it never moves from 0, otherwise ±inf (it ranks first/last).
        return np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), np.sign(mean) * np.inf)


def probability_of_backtest_overfitting(
    perf_matrix,
    n_splits: int = 16,
    metric: Literal["sharpe", "mean"] = "sharpe",
) -> PBOResult:
    """PBO of picking the in-sample best of N configurations (Bailey et al. 2017, CSCV).

    `perf_matrix` is T×N: rows are time periods in order, columns the per-period returns of
    N configurations (a DataFrame or a 2-d array). The procedure:

    1. Cut the rows into S = `n_splits` contiguous blocks of equal size (the T mod S oldest
       rows are dropped so that blocks are equal, as the method requires).
    2. For each of the C(S, S/2) ways to pick S/2 blocks as the in-sample set J (the other
       S/2 blocks, J̄, are out-of-sample): take n* = argmax of the in-sample performance
       (Sharpe ratio, or mean), and ω̄ = rank of n* among the N out-of-sample performances
       / (N + 1) (rank 1 = worst, N = best, ties averaged).
    3. λ = ln(ω̄ / (1 − ω̄)); PBO = share of splits with λ <= 0, i.e. where the in-sample
       winner does no better than the out-of-sample median.

    Why symmetric: every block is in-sample in exactly half the splits, so each split's
    complement is also a split, and no arbitrary train/test cut decides the answer.

    About 0.5 means the selection carries no information (pure noise); near 0 means the
    in-sample winner keeps winning. S = 16 gives 12,870 splits.

    Raises ConfigError for fewer than 2 configurations, an odd or < 2 `n_splits`, fewer
    than 2 rows per block, or non-finite values.
    """
    m = np.asarray(perf_matrix, dtype=float)
    if m.ndim != 2:
        raise ConfigError(f"perf_matrix must be 2-d (periods x configurations), got shape {m.shape}")
    t, n = m.shape
    if n < 2:
        raise ConfigError(f"PBO needs at least 2 configurations to choose among, got {n}")
    if n_splits < 2 or n_splits % 2:
        raise ConfigError(f"n_splits must be an even number >= 2, got {n_splits}")
    if metric not in ("sharpe", "mean"):
        raise ConfigError(f"unknown PBO metric {metric!r}: use 'sharpe' or 'mean'")
    block = t // n_splits
    if block < 2:
        raise ConfigError(
            f"PBO with {n_splits} splits needs at least {2 * n_splits} periods (2 per block), got {t}"
        )
    if not np.isfinite(m).all():
        raise ConfigError("perf_matrix holds NaN or infinite values: drop or fill them first")

    used = m[t - block * n_splits :]  # drop the oldest rows so that blocks are equal
    blocks = used.reshape(n_splits, block, n)
    block_sums = blocks.sum(axis=1)  # S x N
    block_sumsq = (blocks**2).sum(axis=1)
    total_sums, total_sumsq = block_sums.sum(axis=0), block_sumsq.sum(axis=0)

    half = n_splits // 2
    combos = np.array(list(itertools.combinations(range(n_splits), half)))  # C x S/2
    in_sample = np.zeros((len(combos), n_splits))
    np.put_along_axis(in_sample, combos, 1.0, axis=1)
    is_sums, is_sumsq = in_sample @ block_sums, in_sample @ block_sumsq  # C x N
    rows_half = half * block
    perf_is = _performance(is_sums, is_sumsq, rows_half, metric)
    perf_oos = _performance(total_sums - is_sums, total_sumsq - is_sumsq, rows_half, metric)

    best = np.argmax(perf_is, axis=1)  # first of tied winners, as argmax does
    chosen = perf_oos[np.arange(len(combos)), best][:, None]
    # Average rank, 1 = worst: (number strictly below) + (number tied, itself included + 1) / 2.
    rank = (perf_oos < chosen).sum(axis=1) + ((perf_oos == chosen).sum(axis=1) + 1) / 2.0
    rel = rank / (n + 1.0)
    logits = np.log(rel / (1.0 - rel))
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        rel_ranks=rel,
        n_combinations=math.comb(n_splits, half),
        n_splits=n_splits,
        n_rows=block * n_splits,
    )
