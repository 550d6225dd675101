"""The Sharpe ratio, its standard error and the Probabilistic Sharpe Ratio.

Units: every public function takes *per-period* returns (daily for fcast) and speaks
*annualised* Sharpe ratios at its boundary (``periods`` periods a year, 252 by default):
``SR_annual = SR_period * sqrt(periods)``, and standard errors scale the same way. The
formulas themselves are written for the per-period ratio, as in the papers; the
``*_from_moments`` helper takes and returns per-period quantities only.

References
----------
- A. W. Lo (2002), "The Statistics of Sharpe Ratios", Financial Analysts Journal 58(4).
- E. Mertens (2002), "Comments on Variance of the IID estimator in Lo (2002)", working
  paper, University of Basel.
- W. K. Newey and K. D. West (1987), "A Simple, Positive Semi-Definite, Heteroskedasticity
  and Autocorrelation Consistent Covariance Matrix", Econometrica 55(3).
- D. H. Bailey and M. López de Prado (2012), "The Sharpe Ratio Efficient Frontier",
  Journal of Risk 15(2).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from forecast.errors import ConfigError
from forecast.stats.returns import daily_rate

SEMethod = Literal["mertens", "lo", "iid"]


def _returns(returns) -> np.ndarray:
    """A 1-d float array of the finite returns (NaN/inf dropped, e.g. the first pct_change)."""
    r = np.asarray(returns, dtype=float)
    if r.ndim == 2 and 1 in r.shape:  # a one-column frame or a row vector
        r = r.reshape(-1)
    if r.ndim != 1:
        raise ConfigError(f"returns must be one-dimensional, got shape {np.shape(returns)}")
    return r[np.isfinite(r)]


def _moments(r: np.ndarray) -> tuple[float, float, float]:
    """(per-period Sharpe ratio, skewness γ3, kurtosis γ4 — not excess) of `r`.

    SR uses the sample standard deviation (ddof=1), as fcast's backtest metrics do; γ3 and
    γ4 are the plain moment ratios (biased estimators), as in Mertens (2002) and Bailey &
    López de Prado (2012). NaN when there are fewer than 2 returns or they are constant.
    """
    if r.size < 2:
        return math.nan, math.nan, math.nan
    sd = r.std(ddof=1)
    if not sd > 0:
        return math.nan, math.nan, math.nan
    d = r - r.mean()
    m2 = np.mean(d**2)
    skew = float(np.mean(d**3) / m2**1.5)
    kurt = float(np.mean(d**4) / m2**2)
    return float(r.mean() / sd), skew, kurt


def sharpe_ratio(returns, periods: int = 252, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio of per-period returns: mean / sd (ddof=1) * sqrt(periods).

    `risk_free`: an annual rate, compounded to one period and subtracted from each return
    (the backtest metrics pass theirs; 0 leaves the returns as they are). ``periods=1``
    gives the per-period ratio. NaN for fewer than 2 returns or constant returns.
    """
    sr, _, _ = _moments(_returns(returns) - daily_rate(risk_free, periods))
    return sr * math.sqrt(periods)


def newey_west_lags(n_obs: int) -> int:
    """Newey & West (1994) rule-of-thumb bandwidth for Bartlett weights: floor(4 (T/100)^(2/9))."""
    return int(math.floor(4.0 * (n_obs / 100.0) ** (2.0 / 9.0)))


def _lo_variance(r: np.ndarray, sr: float, lags: int) -> float:
    """Per-period asymptotic variance of SR (times T) by Lo's (2002, sec. 4) GMM estimator.

    θ = (μ, σ²) solves the moment conditions φ_t = (r_t − μ, (r_t − μ)² − σ²); SR = g(θ) =
    μ/σ; the delta method gives T·var(SR) = ∇g' Σ ∇g with ∇g = (1/σ, −μ/(2σ³)) and Σ the
    long-run covariance of φ_t, estimated with Newey-West (Bartlett) weights
    w_k = 1 − k/(lags+1). Since ∇g'φ_t is a scalar series, this is the Newey-West long-run
    variance of the influence function ψ_t = z_t − SR/2·(z_t² − 1), z_t = (r_t − μ)/σ, which
    is how it is computed here (with the same SR as the other methods, so that they agree).

    Why this covers both non-normality and autocorrelation: with ``lags=0``, var(ψ) is
    exactly Mertens' 1 − γ3·SR + (γ4 − 1)/4·SR²; the lag terms add the serial covariances of
    z_t and z_t², which inflate (positive autocorrelation) or shrink (negative) the SR's
    sampling error.
    """
    t = r.size
    d = r - r.mean()
    z = d / math.sqrt(np.mean(d**2))
    psi = z - 0.5 * sr * (z**2 - 1.0)
    lrv = float(psi @ psi) / t
    for k in range(1, min(lags, t - 1) + 1):
        lrv += 2.0 * (1.0 - k / (lags + 1.0)) * float(psi[k:] @ psi[:-k]) / t
    return lrv


def sharpe_se(
    returns,
    periods: int = 252,
    method: SEMethod = "mertens",
    lags: int | None = None,
) -> float:
    """Standard error of the annualised Sharpe ratio of per-period `returns`.

    Methods, all for the per-period ratio SR over T returns, then scaled by sqrt(periods):

    - ``"mertens"`` (default) — iid but non-normal returns (Mertens 2002):
      var(SR) = (1 + SR²/2 − γ3·SR + (γ4 − 3)/4·SR²) / T, with γ3 the skewness and γ4 the
      kurtosis (3 for the normal). Fat tails (γ4 > 3) and negative skew with a positive SR
      widen the error.
    - ``"lo"`` — non-normal *and* autocorrelated returns: Lo's (2002, sec. 4) GMM/delta-method
      estimator with a Newey-West covariance over `lags` lags (default: the Newey-West 1994
      rule floor(4 (T/100)^(2/9)), 7 lags for 2000 days). With ``lags=0`` it equals
      ``"mertens"``.
    - ``"iid"`` — Lo's (2002) formula for iid *normal* returns: var(SR) = (1 + SR²/2) / T
      (``"mertens"`` with γ3 = 0, γ4 = 3).

    Why Mertens is the default: daily strategy returns are visibly fat-tailed and skewed,
    which the iid-normal formula ignores, while their serial correlation is usually small;
    Mertens needs no bandwidth choice (Lo's HAC estimate does, and is noisier in short
    samples), and it is the same variance the Probabilistic and Deflated Sharpe ratios use,
    so an SE printed next to a PSR/DSR is consistent with it. Use ``"lo"`` for returns
    with real autocorrelation (smoothed or overlapping returns, illiquid assets).

    Caveat: scaling by sqrt(periods) is exact only for iid returns; Lo (2002) shows that
    autocorrelation also biases the sqrt(q) annualisation of SR itself. fcast annualises
    both SR and SE by sqrt(periods) so that the two stay comparable.

    NaN for fewer than 2 returns or constant returns.
    """
    r = _returns(returns)
    sr, skew, kurt = _moments(r)
    if math.isnan(sr):
        return math.nan
    t = r.size
    if method == "mertens":
        var = (1.0 + 0.5 * sr**2 - skew * sr + (kurt - 3.0) / 4.0 * sr**2) / t
    elif method == "iid":
        var = (1.0 + 0.5 * sr**2) / t
    elif method == "lo":
        q = newey_west_lags(t) if lags is None else int(lags)
        if q < 0:
            raise ConfigError(f"lags must be >= 0, got {lags}")
        var = _lo_variance(r, sr, q) / t
    else:
        raise ConfigError(f"unknown Sharpe SE method {method!r}: use 'mertens', 'lo' or 'iid'")
    return math.sqrt(max(var, 0.0)) * math.sqrt(periods)


def psr_from_moments(sr: float, benchmark_sr: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """Probabilistic Sharpe Ratio from summary statistics, all *per period*.

    PSR = Φ((SR − SR*)·sqrt(T − 1) / sqrt(1 − γ3·SR + (γ4 − 1)/4·SR²))
    (Bailey & López de Prado 2012, eq. 11), with `kurtosis` γ4 the plain (not excess)
    kurtosis. The denominator is Mertens' variance: (γ4 − 1)/4 = 1/2 + (γ4 − 3)/4.
    """
    if n_obs < 2:
        raise ConfigError(f"PSR needs at least 2 returns, got {n_obs}")
    denom = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if not denom > 0:
        # Only reachable with extreme skew and SR; the sampling variance cannot be <= 0.
        return math.nan
    from scipy.special import ndtr  # Φ; lazy: the backtest engine imports this module for sharpe_ratio

    z = (sr - benchmark_sr) * math.sqrt(n_obs - 1) / math.sqrt(denom)
    return float(ndtr(z))


def probabilistic_sharpe_ratio(returns, benchmark_sr: float = 0.0, periods: int = 252) -> float:
    """Probability that the true Sharpe ratio of `returns` exceeds `benchmark_sr`.

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier":
    PSR(SR*) = Φ((SR̂ − SR*)·sqrt(T − 1) / sqrt(1 − γ3·SR̂ + (γ4 − 1)/4·SR̂²)), on the
    per-period SR̂, skewness γ3 and kurtosis γ4 of the T returns.

    `benchmark_sr` is **annualised** (like every Sharpe ratio fcast prints) and converted
    to per period as benchmark_sr / sqrt(periods) before it enters the formula. Pass
    ``periods=1`` to give it per period. NaN for fewer than 2 or constant returns.
    """
    r = _returns(returns)
    sr, skew, kurt = _moments(r)
    if math.isnan(sr):
        return math.nan
    return psr_from_moments(sr, benchmark_sr / math.sqrt(periods), r.size, skew, kurt)


def psr_vs_benchmark(strategy_returns, benchmark_returns, periods: int = 252) -> float:
    """PSR of the strategy against the Sharpe ratio buy-and-hold achieved over the same span.

    SR* is the benchmark's sample Sharpe ratio (on the benchmark returns' finite values),
    then PSR(SR*) of the strategy as in :func:`probabilistic_sharpe_ratio`. Why this is
    only a first look: SR* is treated as known, although it is an estimate too; the two
    series' estimation errors are correlated, so a paired test (the SPA test in
    ``forecast.stats.spa``) is the stricter check.
    """
    bench_sr = sharpe_ratio(benchmark_returns, periods=periods)
    if math.isnan(bench_sr):
        return math.nan
    return probabilistic_sharpe_ratio(strategy_returns, benchmark_sr=bench_sr, periods=periods)
