"""The experiment's verdict: is the best configuration more than the luck of having tried many?

Inputs are the configurations' daily returns (net of costs) and each one's buy-and-hold
returns over the same days. Every statistic is computed on the days all configurations
share, so that they are compared like with like:

- the Deflated Sharpe Ratio of the best configuration (Bailey & López de Prado 2014),
  with N = the number of configurations tried;
- the Probability of Backtest Overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu
  2017), when every ticker has at least `MIN_CONFIGS_FOR_PBO` configurations;
- Hansen's SPA test of all configurations against buy-and-hold (arch, stationary
  bootstrap, fixed seed), on each configuration's return minus its own ticker's buy-and-hold.
"""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd

from forecast.errors import ConfigError

MIN_CONFIGS_FOR_PBO = 4
PBO_SPLITS = 16
SPA_REPS = 1000
SPA_SEED = 0


def common_days(returns: dict[int, pd.Series]) -> pd.DataFrame:
    """Configurations' returns as columns, on the days every one of them has."""
    return pd.concat(returns, axis=1, join="inner").dropna() if returns else pd.DataFrame()


def judge(rows: list[dict], returns: dict[int, pd.Series], benchmarks: dict[int, pd.Series],
          *, spa_reps: int = SPA_REPS, tuning_trials: int = 0) -> dict:
    """`tests` of experiment.json: best, n_trials, dsr, pbo, spa and the verdict line.

    `rows` are the experiment's rows (those with status "ok" count as trials); `returns`
    and `benchmarks` map a row's index to its strategy's and its buy-and-hold's daily returns.
    `tuning_trials`: trials spent by [tune]'s nested searches behind those rows; they are
    trials too, so n_trials (and the DSR's N) is the configurations plus these.
    """
    from forecast.stats import (
        deflated_sharpe_ratio,
        probability_of_backtest_overfitting,
        sharpe_ratio,
        sharpe_se,
        spa_test,
        verdict_line,
    )

    ok = [i for i, row in enumerate(rows) if row.get("status") == "ok" and i in returns]
    n_trials = len(ok) + (tuning_trials if ok else 0)
    out: dict = {"n_trials": n_trials, "n_days": 0, "best": None, "dsr": None,
                 "pbo": {"value": None, "by_ticker": {}, "note": None},
                 "spa": {"pvalue": None, "note": None}, "verdict": None}
    if tuning_trials:  # only a spec with [tune] has them: every other experiment.json is as it was
        out.update(n_configurations=len(ok), tuning_trials=tuning_trials)
    if not ok:
        out["verdict"] = "no configuration finished: nothing to judge"
        return out
    strat = common_days({i: returns[i] for i in ok})
    bench = common_days({i: benchmarks[i] for i in ok}).reindex(strat.index)
    out["n_days"] = len(strat)
    if len(strat) < 10:
        out["verdict"] = (f"the configurations share only {len(strat)} days: too few to judge "
                          "(give the tickers overlapping spans)")
        return out

    sharpes = {i: sharpe_ratio(strat[i]) for i in ok}
    finite = {i: s for i, s in sharpes.items() if math.isfinite(s)}
    best = max(finite, key=finite.get) if finite else ok[0]
    out["best"] = {"row": best, "label": rows[best]["label"], "sharpe": sharpes[best],
                   "sharpe_se": sharpe_se(strat[best])}
    out["dsr"] = deflated_sharpe_ratio(strat[best], list(finite.values()) or [sharpes[best]],
                                       n_trials=n_trials)
    out["pbo"] = _pbo(rows, ok, strat, probability_of_backtest_overfitting)
    excess = strat - bench
    try:
        spa = spa_test(excess, pd.Series(0.0, index=excess.index), seed=SPA_SEED, reps=spa_reps)
        out["spa"] = {"pvalue": spa.pvalue, "lower": spa.lower, "upper": spa.upper, "n_obs": spa.n_obs,
                      "n_models": spa.n_models, "block_size": spa.block_size, "reps": spa.reps,
                      "seed": SPA_SEED, "note": None}
    except ConfigError as exc:
        out["spa"] = {"pvalue": None, "note": str(exc)}
    out["verdict"] = verdict_line(out["best"], n_trials, out["dsr"], out["pbo"]["value"],
                                  out["spa"]["pvalue"])
    return out


def _pbo(rows, ok, strat: pd.DataFrame, pbo_fn) -> dict:
    """PBO over all configurations (the choice the verdict is about), and per ticker."""
    per_ticker = Counter(rows[i]["ticker"] for i in ok)
    fewest = min(per_ticker.values())
    result: dict = {"value": None, "by_ticker": {}, "n_splits": PBO_SPLITS, "note": None}
    if fewest < MIN_CONFIGS_FOR_PBO:
        result["note"] = (f"PBO needs at least {MIN_CONFIGS_FOR_PBO} configurations per ticker "
                          f"(fewest: {fewest})")
        return result
    if len(strat) < 2 * PBO_SPLITS:
        result["note"] = f"PBO needs at least {2 * PBO_SPLITS} shared days, got {len(strat)}"
        return result
    matrix = strat.to_numpy(dtype=float)
    result["value"] = pbo_fn(matrix, n_splits=PBO_SPLITS).pbo
    for ticker in per_ticker:
        cols = [k for k, i in enumerate(strat.columns) if rows[i]["ticker"] == ticker]
        result["by_ticker"][ticker] = pbo_fn(matrix[:, cols], n_splits=PBO_SPLITS).pbo
    return result


def row_statistics(strategy_returns: pd.Series, benchmark_returns: pd.Series) -> dict:
    """Per-configuration significance: Sharpe SE (Mertens 2002), PSR against 0 and against
    buy-and-hold's Sharpe ratio over the same days (Bailey & López de Prado 2012)."""
    from forecast.stats import probabilistic_sharpe_ratio, psr_vs_benchmark, sharpe_se

    both = pd.concat([strategy_returns, benchmark_returns], axis=1, join="inner").dropna()
    s, b = both.iloc[:, 0], both.iloc[:, 1]
    return {
        "sharpe_se": sharpe_se(s),
        "psr": probabilistic_sharpe_ratio(s),
        "psr_vs_benchmark": psr_vs_benchmark(s, b),
    }
