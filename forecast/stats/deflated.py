"""The Deflated Sharpe Ratio: the PSR of the best trial against the best that luck would give.

Reference: D. H. Bailey and M. López de Prado (2014), "The Deflated Sharpe Ratio:
Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
Portfolio Management 40(5), 94-107.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri  # Φ⁻¹; scipy.special is lighter to import than scipy.stats

from forecast.errors import ConfigError
from forecast.stats.sharpe import _moments, _returns, psr_from_moments

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant


def expected_max_sharpe(n_trials: int, var_trials: float) -> float:
    """Expected maximum of `n_trials` Sharpe ratio estimates when no trial has skill.

    SR0 = sqrt(V[SR_n])·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), γ the
    Euler-Mascheroni constant (Bailey & López de Prado 2014, eq. 4 / appendix: the
    extreme-value approximation to E[max] of N iid N(0, V) draws; it is about 1-2% above
    the exact expectation for N between 10 and 1000).

    `var_trials` is the variance *across trials* of their Sharpe ratios, in whatever units
    the result is wanted (per period for the DSR). N = 1 gives 0 (nothing was selected).
    """
    n = int(n_trials)
    if n < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    if var_trials < 0 or not math.isfinite(var_trials):
        raise ConfigError(f"var_trials must be a finite variance >= 0, got {var_trials}")
    if n == 1:
        return 0.0
    z = (1.0 - EULER_GAMMA) * ndtri(1.0 - 1.0 / n) + EULER_GAMMA * ndtri(1.0 - 1.0 / (n * math.e))
    return float(math.sqrt(var_trials) * z)


def deflated_sharpe_ratio(
    best_returns,
    trial_sharpes,
    periods: int = 252,
    n_trials: int | None = None,
) -> float:
    """Deflated Sharpe Ratio of the selected (best) trial.

    DSR = PSR(SR0): the probability that the best trial's true Sharpe ratio exceeds SR0,
    the Sharpe ratio that the best of N skill-less trials would show by chance
    (:func:`expected_max_sharpe`), corrected for the returns' skewness and kurtosis
    (Bailey & López de Prado 2014, eq. 2):

        DSR = Φ((SR̂ − SR0)·sqrt(T − 1) / sqrt(1 − γ3·SR̂ + (γ4 − 1)/4·SR̂²))

    Parameters
    ----------
    best_returns
        Per-period returns of the selected trial (T values).
    trial_sharpes
        **Annualised** Sharpe ratios of *all* trials, the selected one included; their
        sample variance (ddof=1) divided by `periods` is V[SR_n] per period. Why all of
        them: the paper's V[SR_n] is the dispersion of the whole search, and dropping the
        winner would understate it.
    periods
        Periods per year used to annualise `trial_sharpes`.
    n_trials
        Number of independent trials N; defaults to ``len(trial_sharpes)``. Pass a smaller
        "effective" N when the trials are strongly correlated (the paper estimates it by
        clustering).

    A DSR above 0.95 rejects "the best Sharpe ratio is luck" at 5%. NaN for fewer than 2 or
    constant returns.
    """
    sharpes = np.asarray(trial_sharpes, dtype=float).reshape(-1)
    sharpes = sharpes[np.isfinite(sharpes)]
    n = len(sharpes) if n_trials is None else int(n_trials)
    if n < 1:
        raise ConfigError("the DSR needs at least one trial Sharpe ratio")
    var_period = float(np.var(sharpes, ddof=1)) / periods if sharpes.size > 1 else 0.0
    sr0 = expected_max_sharpe(n, var_period)
    r = _returns(best_returns)
    sr, skew, kurt = _moments(r)
    if math.isnan(sr):
        return math.nan
    return psr_from_moments(sr, sr0, r.size, skew, kurt)
