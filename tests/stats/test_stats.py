"""forecast.stats: each estimator against a published example or an independent computation
(Monte Carlo sampling distributions, a brute-force CSCV), then two synthetic searches, one
with a planted skill and one of pure noise, judged end to end."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter
from scipy.stats import norm, rankdata

from forecast.errors import ConfigError
from forecast.stats import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    psr_from_moments,
    psr_vs_benchmark,
    sharpe_ratio,
    sharpe_se,
    spa_test,
    verdict_line,
)


def _row_sharpes(paths: np.ndarray) -> np.ndarray:
    """Per-period sample Sharpe ratio of every row (independent of forecast.stats)."""
    return paths.mean(axis=1) / paths.std(axis=1, ddof=1)


# --- Sharpe ratio and its standard error -------------------------------------------------


def test_sharpe_ratio_matches_pandas_and_drops_nan():
    r = pd.Series(np.random.default_rng(1).normal(0.0005, 0.01, 500))
    expected = r.mean() / r.std() * math.sqrt(252)
    assert sharpe_ratio(r) == pytest.approx(expected, rel=1e-12)
    assert sharpe_ratio(pd.concat([pd.Series([np.nan]), r])) == pytest.approx(expected, rel=1e-12)
    assert math.isnan(sharpe_ratio([0.01, 0.01, 0.01]))
    assert math.isnan(sharpe_se([0.01]))


def test_iid_se_is_lo_normal_formula():
    r = np.random.default_rng(2).normal(0.001, 0.01, 400)
    sr = r.mean() / r.std(ddof=1)
    assert sharpe_se(r, method="iid") == pytest.approx(math.sqrt((1 + sr**2 / 2) / 400) * math.sqrt(252))


@pytest.mark.parametrize(
    "kind, sr_true",
    [("normal", 0.1), ("right-skewed", 0.2), ("left-skewed", 0.2)],
)
def test_mertens_se_matches_monte_carlo_sampling_sd(kind, sr_true):
    # 2000 paths of 500 iid returns with a known per-period SR; the SR's sampling sd across
    # paths is the truth the analytic SE (averaged over paths) must match.
    rng = np.random.default_rng(3)
    n_paths, t = 2000, 500
    if kind == "normal":
        z = rng.standard_normal((n_paths, t))
    else:
        k = 2.0  # gamma(2): skewness 1.41, kurtosis 6
        z = (rng.gamma(k, size=(n_paths, t)) - k) / math.sqrt(k)
        z = z if kind == "right-skewed" else -z
    paths = sr_true + z  # unit sd, so the per-period SR is sr_true
    mc_sd = _row_sharpes(paths).std(ddof=1)
    mertens = np.mean([sharpe_se(p, periods=1) for p in paths[:400]])
    assert mertens == pytest.approx(mc_sd, rel=0.10)
    if kind != "normal":
        # The iid-normal formula misses the skew term by ~15% either way; Mertens does not.
        iid = np.mean([sharpe_se(p, periods=1, method="iid") for p in paths[:400]])
        assert abs(iid / mc_sd - 1) > 0.10
        assert abs(mertens / mc_sd - 1) < abs(iid / mc_sd - 1)


def test_lo_se_matches_ar1_sampling_sd_where_iid_formulas_do_not():
    # AR(1) returns with φ = 0.3: the SR's sampling sd is ~sqrt((1+φ)/(1-φ)) = 1.36 times the
    # iid value. Lo's HAC estimate must catch that; Mertens (iid) must not.
    rng = np.random.default_rng(4)
    n_paths, t, phi = 400, 2000, 0.3
    eps = rng.standard_normal((n_paths, t + 200))
    ar = lfilter([1.0], [1.0, -phi], eps, axis=1)[:, 200:]  # burn-in dropped
    ar /= math.sqrt(1.0 / (1.0 - phi**2))  # unit sd
    paths = 0.05 + ar
    mc_sd = _row_sharpes(paths).std(ddof=1)
    lo = np.mean([sharpe_se(p, periods=1, method="lo", lags=15) for p in paths[:200]])
    lo_default = np.mean([sharpe_se(p, periods=1, method="lo") for p in paths[:200]])
    mertens = np.mean([sharpe_se(p, periods=1) for p in paths[:200]])
    assert lo == pytest.approx(mc_sd, rel=0.10)
    assert lo_default == pytest.approx(mc_sd, rel=0.10)
    assert mertens / mc_sd < 0.8


def test_lo_with_no_lags_is_mertens():
    rng = np.random.default_rng(5)
    r = 0.001 + 0.01 * (rng.gamma(2.0, size=300) - 2.0)
    assert sharpe_se(r, method="lo", lags=0) == pytest.approx(sharpe_se(r, method="mertens"), rel=1e-10)


def test_unknown_se_method_is_a_config_error():
    with pytest.raises(ConfigError):
        sharpe_se(np.arange(10.0), method="bootstrap")


# --- Probabilistic Sharpe Ratio -----------------------------------------------------------


def test_psr_on_normal_returns_is_the_gaussian_closed_form():
    rng = np.random.default_rng(6)
    r = rng.normal(0.0006, 0.01, 1500)
    sr = r.mean() / r.std(ddof=1)
    bench_annual = 0.5
    bench = bench_annual / math.sqrt(252)
    closed = norm.cdf((sr - bench) * math.sqrt(1500 - 1) / math.sqrt(1 + sr**2 / 2))  # γ3=0, γ4=3
    assert probabilistic_sharpe_ratio(r, benchmark_sr=bench_annual) == pytest.approx(closed, abs=0.01)
    # benchmark_sr given per period with periods=1 is the same thing.
    assert probabilistic_sharpe_ratio(r, benchmark_sr=bench, periods=1) == pytest.approx(
        probabilistic_sharpe_ratio(r, benchmark_sr=bench_annual)
    )


def test_psr_is_calibrated_when_the_true_sharpe_equals_the_benchmark():
    # Under H0 (true SR = SR*) PSR is ~uniform: it exceeds 0.95 in ~5% of samples.
    rng = np.random.default_rng(7)
    sr_true = 0.05
    paths = sr_true + rng.standard_normal((2000, 250))
    psr = np.array([probabilistic_sharpe_ratio(p, benchmark_sr=sr_true, periods=1) for p in paths])
    assert np.mean(psr > 0.95) == pytest.approx(0.05, abs=0.02)
    assert np.mean(psr) == pytest.approx(0.5, abs=0.03)


def test_psr_vs_benchmark_of_buy_and_hold_itself_is_one_half():
    r = np.random.default_rng(8).normal(0.0004, 0.01, 750)
    assert psr_vs_benchmark(r, r) == pytest.approx(0.5)
    assert psr_vs_benchmark(r + 0.001, r) > 0.95


# --- Deflated Sharpe Ratio ----------------------------------------------------------------


def test_dsr_reproduces_the_papers_numerical_example():
    # Bailey & López de Prado (2014), sec. "A numerical example": N = 100 trials, V[SR_n] = 1/2
    # annualised, 250 days a year -> SR0 = 0.1132 per day; best SR 2.5 annualised over
    # T = 1250 days with skewness -3 and kurtosis 10 -> DSR = 0.9004.
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert psr_from_moments(2.5 / math.sqrt(250), sr0, 1250, -3.0, 10.0) == pytest.approx(0.9004, abs=5e-4)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_max_sharpe_matches_monte_carlo_max_of_normals(n_trials):
    rng = np.random.default_rng(9)
    mc = rng.standard_normal((4000, n_trials)).max(axis=1).mean()
    assert expected_max_sharpe(n_trials, 1.0) == pytest.approx(mc, rel=0.03)
    assert expected_max_sharpe(n_trials, 4.0) == pytest.approx(2 * mc, rel=0.03)


def test_expected_max_sharpe_matches_monte_carlo_max_of_sample_sharpes():
    # The quantity that matters: the best of N skill-less backtests' sample Sharpe ratios.
    rng = np.random.default_rng(10)
    reps, n, t = 800, 20, 250
    srs = _row_sharpes(rng.normal(0.0, 0.01, (reps * n, t))).reshape(reps, n)
    mc_max = srs.max(axis=1).mean()
    assert expected_max_sharpe(n, srs.var(ddof=1)) == pytest.approx(mc_max, rel=0.05)


def test_expected_max_sharpe_edge_cases():
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 0.0) == 0.0
    with pytest.raises(ConfigError):
        expected_max_sharpe(0, 1.0)


def test_dsr_with_one_trial_is_the_psr_against_zero():
    r = np.random.default_rng(11).normal(0.0005, 0.01, 500)
    assert deflated_sharpe_ratio(r, [sharpe_ratio(r)]) == pytest.approx(probabilistic_sharpe_ratio(r))


# --- Probability of Backtest Overfitting --------------------------------------------------


def _pbo_brute_force(m: np.ndarray, s: int) -> tuple[float, np.ndarray]:
    """CSCV written the slow, literal way (Bailey et al. 2017, sec. 2)."""
    t, n = m.shape
    rows = t // s
    m = m[t - rows * s :]
    blocks = [m[i * rows : (i + 1) * rows] for i in range(s)]
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        j = np.vstack([blocks[i] for i in combo])
        jbar = np.vstack([blocks[i] for i in range(s) if i not in combo])
        r_is = j.mean(0) / j.std(0, ddof=1)
        r_oos = jbar.mean(0) / jbar.std(0, ddof=1)
        n_star = int(np.argmax(r_is))
        omega = rankdata(r_oos)[n_star] / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    logits = np.array(logits)
    return float(np.mean(logits <= 0)), logits


def test_pbo_matches_a_brute_force_cscv():
    m = np.random.default_rng(12).normal(0.0, 0.01, (63, 5))  # 63 rows, 6 blocks of 10: 3 dropped
    m[:, 2] += 0.002
    res = probability_of_backtest_overfitting(m, n_splits=6)
    pbo, logits = _pbo_brute_force(m, 6)
    assert res.n_combinations == 20 and res.n_rows == 60
    assert res.pbo == pytest.approx(pbo)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-9)


def test_pbo_rejects_bad_inputs():
    m = np.zeros((100, 1))
    with pytest.raises(ConfigError):
        probability_of_backtest_overfitting(m)  # one configuration
    with pytest.raises(ConfigError):
        probability_of_backtest_overfitting(np.random.default_rng(0).normal(size=(20, 4)))  # too few rows
    with pytest.raises(ConfigError):
        probability_of_backtest_overfitting(np.random.default_rng(0).normal(size=(200, 4)), n_splits=5)
    bad = np.random.default_rng(0).normal(size=(200, 4))
    bad[3, 1] = np.nan
    with pytest.raises(ConfigError):
        probability_of_backtest_overfitting(bad)


# --- SPA ----------------------------------------------------------------------------------


def test_spa_is_deterministic_and_handles_a_copy_of_the_benchmark():
    rng = np.random.default_rng(13)
    idx = pd.bdate_range("2020-01-01", periods=300)
    bench = pd.Series(rng.normal(0.0003, 0.01, 300), index=idx)
    strat = pd.DataFrame(rng.normal(0.0, 0.01, (300, 3)), index=idx, columns=list("abc"))
    strat["hold"] = bench  # identical to buy-and-hold: no variance in the loss differential
    a = spa_test(strat, bench, seed=1, reps=200)
    b = spa_test(strat, bench, seed=1, reps=200)
    assert a == b
    assert 0.0 <= a.lower <= a.consistent <= a.upper <= 1.0
    assert spa_test(strat[["hold"]], bench, reps=50).pvalue == 1.0


# --- Two searches, end to end -------------------------------------------------------------


def _search(skill: bool) -> dict:
    """20 configurations x 2000 days; with `skill`, configuration 0 has a real drift."""
    rng = np.random.default_rng(0)
    t, n = 2000, 20
    returns = pd.DataFrame(rng.normal(0.0, 0.01, (t, n)), columns=[f"cfg{i}" for i in range(n)])
    if skill:
        returns["cfg0"] += 0.0015  # true Sharpe ratio 0.15 a day, 2.4 a year
    bench = pd.Series(rng.normal(0.0, 0.01, t))
    sharpes = returns.apply(sharpe_ratio)
    best = sharpes.idxmax()
    dsr = deflated_sharpe_ratio(returns[best], sharpes.to_numpy())
    pbo = probability_of_backtest_overfitting(returns).pbo
    spa = spa_test(returns, bench, seed=0, reps=1000).pvalue
    info = {"label": best, "sharpe": sharpes[best], "sharpe_se": sharpe_se(returns[best])}
    return {"best": best, "dsr": dsr, "pbo": pbo, "spa": spa, "line": verdict_line(info, n, dsr, pbo, spa)}


@pytest.fixture(scope="module")
def planted():
    return _search(skill=True)


@pytest.fixture(scope="module")
def noise():
    return _search(skill=False)


def test_planted_skill_is_found(planted):
    assert planted["best"] == "cfg0"
    assert planted["dsr"] > 0.95
    assert planted["pbo"] < 0.3
    assert planted["spa"] < 0.05
    assert planted["line"].endswith(": evidence of skill beyond buy-and-hold after costs")
    assert planted["line"].startswith("best: cfg0 Sharpe 2.")
    assert "; 20 trials: DSR " in planted["line"]


def test_pure_noise_is_not_skill(noise):
    assert noise["dsr"] < 0.95
    assert noise["pbo"] > 0.3
    assert noise["spa"] > 0.05
    assert noise["line"].endswith(": no evidence of skill beyond buy-and-hold after costs")


# --- Verdict wording ----------------------------------------------------------------------


def test_verdict_line_wording():
    best = {"label": "MSFT lstm long-short", "sharpe": 0.91, "sharpe_se": 0.35}
    assert verdict_line(best, 48, 0.31, 0.62, 0.44) == (
        "best: MSFT lstm long-short Sharpe 0.91 ± 0.35; 48 trials: DSR 0.31, PBO 0.62, SPA p = 0.44: "
        "no evidence of skill beyond buy-and-hold after costs"
    )
    assert verdict_line(best, 48, 0.97, None, 0.003) == (
        "best: MSFT lstm long-short Sharpe 0.91 ± 0.35; 48 trials: DSR 0.97, PBO n/a, SPA p < 0.01: "
        "evidence of skill beyond buy-and-hold after costs"
    )
    # A high DSR alone is not enough, nor is a low SPA p-value alone.
    assert "no evidence" in verdict_line(best, 48, 0.97, 0.1, 0.2)
    assert "no evidence" in verdict_line(best, 48, 0.5, 0.1, 0.01)
    # Both pass but the in-sample pick is unreliable: said so.
    assert "looks overfit (PBO >= 0.5)" in verdict_line(best, 48, 0.97, 0.7, 0.01)
    assert verdict_line({"label": "x", "sharpe": 1.0}, 1, float("nan"), None, None) == (
        "best: x Sharpe 1.00; 1 trial: DSR n/a, PBO n/a, SPA p = n/a: "
        "no evidence of skill beyond buy-and-hold after costs"
    )
