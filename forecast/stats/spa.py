"""Hansen's test of Superior Predictive Ability: does any configuration beat buy-and-hold?

A thin wrapper around :class:`arch.bootstrap.SPA`.

References
----------
- P. R. Hansen (2005), "A Test for Superior Predictive Ability", Journal of Business &
  Economic Statistics 23(4), 365-380.
- H. White (2000), "A Reality Check for Data Snooping", Econometrica 68(5), 1097-1126.
- D. N. Politis and J. P. Romano (1994), "The Stationary Bootstrap", JASA 89(428).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.errors import ConfigError


@dataclass(frozen=True)
class SPAResult:
    """SPA p-values (see :func:`spa_test`); `pvalue` is the consistent one, the one to report."""

    consistent: float
    lower: float
    upper: float
    n_obs: int
    n_models: int
    block_size: int
    reps: int

    @property
    def pvalue(self) -> float:
        return self.consistent


def spa_test(
    strategy_returns,
    benchmark_returns,
    seed: int = 0,
    reps: int = 1000,
    block_size: int | None = None,
) -> SPAResult:
    """Test H0 "no configuration has a higher expected return than the benchmark".

    `strategy_returns` is T×N (a DataFrame, columns = configurations, or a 2-d array) and
    `benchmark_returns` T values (a Series or a 1-d array) of per-period returns, net of
    costs. Pandas inputs are aligned on their index (inner join); rows with any NaN are
    dropped. Losses are the negated returns, so "lower loss" is "higher return"; the test
    is studentized and uses the stationary bootstrap with mean block length `block_size`
    (arch's default sqrt(T) when None) and `reps` replications, seeded with `seed` (arch
    builds a numpy default_rng from it), so the result is deterministic.

    Returns the three p-values of Hansen (2005), which differ in how models that are worse
    than the benchmark are recentred: ``lower`` (never recentre those: anti-conservative),
    ``upper`` (always: White's Reality Check, conservative) and ``consistent`` (recentre
    only those not significantly worse: Hansen's recommended p-value).

    Why the SPA and not a t-test on the best column: the p-value accounts for the maximum
    being taken over all N configurations (data snooping), and poor configurations do not
    dilute the test as much as in White's Reality Check.
    """
    if isinstance(strategy_returns, pd.DataFrame) and isinstance(benchmark_returns, pd.Series):
        joined = strategy_returns.join(benchmark_returns.rename("__benchmark__"), how="inner").dropna()
        models = joined.drop(columns="__benchmark__").to_numpy(dtype=float)
        bench = joined["__benchmark__"].to_numpy(dtype=float)
    else:
        models = np.asarray(strategy_returns, dtype=float)
        bench = np.asarray(benchmark_returns, dtype=float).reshape(-1)
        if models.ndim == 1:
            models = models[:, None]
        if models.ndim != 2 or models.shape[0] != bench.shape[0]:
            raise ConfigError(
                f"strategy returns {models.shape} and benchmark returns {bench.shape} must have the same rows"
            )
        keep = np.isfinite(models).all(axis=1) & np.isfinite(bench)
        models, bench = models[keep], bench[keep]
    t, k = models.shape
    if k < 1:
        raise ConfigError("the SPA test needs at least one configuration")
    if t < 10:
        raise ConfigError(f"the SPA test needs at least 10 common periods, got {t}")
    if reps < 1:
        raise ConfigError(f"reps must be >= 1, got {reps}")
    if block_size is not None and block_size < 1:
        raise ConfigError(f"block_size must be >= 1, got {block_size}")

    # Why: a configuration identical to the benchmark (e.g. always fully invested) has a loss
    # differential of zero variance, which breaks the studentization; it cannot beat the
    # benchmark, so it is left out, and with nothing left the null stands (p = 1).
    differs = np.ptp(models - bench[:, None], axis=0) > 0
    if not differs.any():
        return SPAResult(1.0, 1.0, 1.0, n_obs=t, n_models=k, block_size=block_size or 0, reps=reps)
    models = models[:, differs]

    from arch.bootstrap import SPA  # lazy: arch takes about a second to import

    spa = SPA(-bench, -models, block_size=block_size, reps=reps, bootstrap="stationary", seed=seed)
    spa.compute()
    p = spa.pvalues
    return SPAResult(
        consistent=float(p["consistent"]),
        lower=float(p["lower"]),
        upper=float(p["upper"]),
        n_obs=t,
        n_models=k,
        block_size=int(spa.block_size),
        reps=reps,
    )
