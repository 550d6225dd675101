"""Backtests per second when re-scoring one cached forecast over strategy parameters x
costs: one at a time through `simulate(engine="vector")` (today's path) and batched
through `forecast.backtest.rescore`, in the same run, on bundled data (no ../shared).

The forecast is a fixed noisy momentum signal over the last ~10 years of a bundled ticker
(about 2,500 daily bars); the grids are strategy parameters (LongOnly thresholds and bands,
LongShort bounds, ProbabilitySized gain, cap and band) x commissions x slippages x minimum
fees. The one-at-a-time path runs a sample of each grid (it is slow). Both figures are
backtests per second of wall time through the public API with numba's caches warm (one run
of each first); the batched rows are checked against the sample.

    .venv/bin/python bench/bench_rescore.py [--ticker AAPL] [--years 10] [--sample 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from forecast.backtest import rescore, simulate
from forecast.data.bundled import load_bundled
from strategies import LongOnly, LongShort, ProbabilitySized

GRIDS = {
    LongOnly: {"threshold": [0.45, 0.48, 0.5, 0.52, 0.55], "rebalance_band": [0.0, 0.05]},
    LongShort: {"upper": [0.52, 0.55, 0.6], "lower": [0.4, 0.45, 0.48]},
    ProbabilitySized: {"gain": [1.0, 2.0, 4.0], "cap": [0.5, 1.0], "rebalance_band": [0.05, 0.2]},
}
COSTS = {"commission": [0.0, 0.0005, 0.001, 0.002], "slippage": [0.0, 0.0005, 0.001],
         "min_commission": [0.0, 1.0, 5.0]}


def forecast(bars: pd.DataFrame) -> pd.DataFrame:
    momentum = bars["close"].pct_change(5).fillna(0.0)
    rng = np.random.default_rng(7)
    prob = 1 / (1 + np.exp(-20 * momentum)) * 0.6 + rng.uniform(0, 0.4, len(bars))
    return pd.DataFrame({"prob_up": prob.clip(0, 1)}, index=bars.index).iloc[20:-1]


def one_at_a_time(bars, preds, cls, rows) -> tuple[float, list[dict]]:
    out = []
    t0 = time.perf_counter()
    for row in rows:
        params = {k: row[k] for k in GRIDS[cls]}
        costs = {k: row[k] for k in COSTS}
        out.append(simulate(bars, preds, cls, params, engine="vector", **costs).metrics["strategy"])
    return time.perf_counter() - t0, out


def worst_difference(table: pd.DataFrame, picked: list[int], metrics: list[dict]) -> float:
    worst = 0.0
    for i, m in zip(picked, metrics, strict=True):
        for key, want in m.items():
            got = table.at[i, key]
            if isinstance(want, float) and not isinstance(want, bool):
                if math.isnan(want) and math.isnan(got):
                    continue
                worst = max(worst, abs(got - want) / max(1.0, abs(want)))
            elif got != want:
                return math.inf
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticker", default="AAPL")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--sample", type=int, default=60, help="configurations run one at a time")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bars = load_bundled(args.ticker)
    bars = bars.iloc[-(args.years * 252 + 21):]
    preds = forecast(bars)
    print(f"{args.ticker}: {len(preds)} daily decisions, {preds.index[0].date()} to {preds.index[-1].date()}")
    for cls, grid in GRIDS.items():
        rescore(bars, preds, cls, {k: v[:1] for k, v in grid.items()}, {})  # warm: numba caches
        best = math.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            table = rescore(bars, preds, cls, grid, COSTS)
            best = min(best, time.perf_counter() - t0)
        n = len(table)
        picked = list(np.linspace(0, n - 1, min(args.sample, n)).astype(int))
        rows = [table.iloc[i] for i in picked]
        one_at_a_time(bars, preds, cls, rows[:1])  # warm
        slow, metrics = one_at_a_time(bars, preds, cls, rows)
        single, batched = len(rows) / slow, n / best
        print(f"{cls.__name__}: {n} configurations")
        print(f"  one at a time (simulate, vector): {single:8.1f} backtests/s  ({len(rows)} run)")
        print(f"  batched (rescore):                {batched:8.1f} backtests/s  (best of {args.repeat})")
        print(f"  ratio: {batched / single:.1f}x; worst relative difference "
              f"{worst_difference(table, picked, metrics):.1e}")


if __name__ == "__main__":
    main()
