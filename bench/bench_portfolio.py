"""Speed of the portfolio pipeline on the bundled Dow 30 (offline): the ranking backtest
engine, and pooled against per-ticker training.

It prints, in one run on the same machine:

- the universe: tickers, calendar days and ticker-days (bars) from `--start`;
- pooled walk-forward training (`portfolio_walk_forward(..., pooled=True)`) against one
  model per ticker (`pooled=False`), same universe, model and test span (the default 20%,
  folds of 63 days): wall and CPU (user, system) seconds, folds, model fits, training
  samples (summed over every fit) and samples per second, and the split of the wall time
  between the per-ticker feature work (`fold_windows`: pipeline fit and transform, windows)
  and the model fits (the rest is the join, sort and label look-ups);
- the backtest engine (`forecast.portfolio.engine.run_portfolio`, on backtrader, one feed
  per ticker) for each built-in strategy (top-k, long-short, topk-dropout, k=5), twice:
  on the pooled model's forecasts (the test span), and on a synthetic prob frame that
  covers every ticker's every bar from `--start` (uniform random, seed 0): wall seconds,
  ticker-days processed (calendar days from the first prediction x tickers; the cells
  with a bar and a prediction in brackets) and ticker-days per second.

The counts of samples and fits come from wrapping the walk-forward loop's `fit_model` and
`fold_windows` (`forecast.evaluate.walkforward`) in this process (timers only, no change to
what runs). Times are wall-clock; nothing is asserted about them.

    .venv/bin/python bench/bench_portfolio.py [--start 1990-01-01] [--tickers 30]
        [--model logreg|mlp] [--epochs 3] [--blas-threads N] [--quick]

`--quick`: 10 tickers from 2005, one synthetic strategy. `--blas-threads N` runs
everything under `threadpoolctl.threadpool_limits(N)` (BLAS and OpenMP pools).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np
import pandas as pd

from forecast.evaluate import pooled as pooled_mod
from forecast.evaluate import walkforward as loop
from forecast.portfolio.engine import run_portfolio
from forecast.portfolio.universe import load_universe
from strategies.portfolio import PORTFOLIO_STRATEGIES


class Counters:
    """Wraps the walk-forward loop's fit_model and fold_windows: counts fits and samples, sums times."""

    def __init__(self):
        self.fits = self.samples = 0
        self.fit_s = self.features_s = 0.0
        self._fit, self._fold = loop.fit_model, loop.fold_windows

    def __enter__(self):
        def fit_model(est, X, y, *a, **kw):
            t = time.perf_counter()
            try:
                return self._fit(est, X, y, *a, **kw)
            finally:
                self.fit_s += time.perf_counter() - t
                self.fits += 1
                self.samples += len(y)

        def fold_windows(*a, **kw):
            t = time.perf_counter()
            try:
                return self._fold(*a, **kw)
            finally:
                self.features_s += time.perf_counter() - t

        loop.fit_model, loop.fold_windows = fit_model, fold_windows
        return self

    def __exit__(self, *exc):
        loop.fit_model, loop.fold_windows = self._fit, self._fold


def timed(fn):
    c0, t0 = os.times(), time.perf_counter()
    out = fn()
    wall, c1 = time.perf_counter() - t0, os.times()
    return out, wall, c1.user - c0.user, c1.system - c0.system


def walk_forward(universe, model, model_params, pooled: bool):
    with Counters() as c:
        preds, wall, user, sys_ = timed(lambda: pooled_mod.portfolio_walk_forward(
            universe, model, pooled=pooled, model_params=model_params))
    label = "pooled    " if pooled else "per-ticker"
    print(f"  {label}: {wall:8.1f} s wall (user {user:6.1f}, sys {sys_:5.1f}), "
          f"{preds.attrs['n_folds']} folds, {c.fits:5d} fits, {c.samples:>10,d} samples, "
          f"{c.samples / wall:>9,.0f} samples/s; features {c.features_s:6.1f} s, "
          f"fits {c.fit_s:6.1f} s, rest {wall - c.features_s - c.fit_s:5.1f} s; "
          f"{len(preds):,} forecasts")
    return preds, wall


def engine_runs(bars, prob, strategies, label):
    has_bar = pd.DataFrame({t: pd.Series(True, index=b.index) for t, b in bars.items()})
    has_bar = has_bar.reindex(prob.index).fillna(False).astype(bool)
    cells = int((has_bar & prob.reindex(columns=has_bar.columns).notna()).to_numpy().sum())
    print(f"engine on {label}:")
    for name in strategies:
        cls = PORTFOLIO_STRATEGIES[name]
        res, wall, user, sys_ = timed(lambda cls=cls: run_portfolio(bars, prob, cls, {"k": 5}))
        days = len(res.equity)
        rows = days * len(res.settings["tickers"])
        print(f"  {name:13s}: {wall:7.1f} s wall (user {user:6.1f}, sys {sys_:4.1f}), "
              f"{days:,} days x {len(res.settings['tickers'])} tickers = {rows:,} ticker-days "
              f"({cells:,} with bar+prob), {rows / wall:>8,.0f} ticker-days/s, "
              f"{days / wall:6.0f} days/s, {res.metrics['strategy']['n_fills']:,} fills")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", default=None,
                    help="first bar date (default 1990-01-01; --quick 2005-01-01)")
    ap.add_argument("--tickers", type=int, default=None,
                    help="first N Dow 30 tickers (default 30; --quick 10)")
    ap.add_argument("--model", default="logreg", help="registry model name (logreg, mlp, ...)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs for keras models (mlp, ...)")
    ap.add_argument("--blas-threads", type=int, default=None, help="threadpool_limits for the whole run")
    ap.add_argument("--quick", action="store_true", help="10 tickers from 2005, one synthetic strategy")
    ap.add_argument("--skip-per-ticker", action="store_true", help="time the pooled walk-forward only")
    args = ap.parse_args()
    start = args.start or ("2005-01-01" if args.quick else "1990-01-01")
    n = args.tickers or (10 if args.quick else 30)
    sklearn = ("logreg", "gbm", "majority", "momentum")
    model_params = None if args.model in sklearn else {"epochs": args.epochs}

    limits = contextlib.nullcontext()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.blas_threads)
    with limits:
        from forecast.portfolio.universe import bundled_universe as named

        universe, load_s, _, _ = timed(
            lambda: load_universe(named("dow30")[:n], source="bundled", start=start))
        bars_n = sum(len(b) for b in universe.bars.values())
        print(f"universe: {len(universe.bars)} tickers, {len(universe.calendar):,} calendar days "
              f"({universe.calendar[0].date()} .. {universe.calendar[-1].date()}), {bars_n:,} ticker-days, "
              f"loaded in {load_s:.1f} s; model {args.model}"
              f"{'' if model_params is None else f' {model_params}'}, "
              f"BLAS threads {args.blas_threads or 'default'}")

        print("walk-forward (default test span: last 20% of the calendar, retrain every 63 days):")
        preds, pooled_s = walk_forward(universe, args.model, model_params, pooled=True)
        if not args.skip_per_ticker:
            _, single_s = walk_forward(universe, args.model, model_params, pooled=False)
            print(f"  per-ticker / pooled wall time: {single_s / pooled_s:.2f}x")

        strategies = list(PORTFOLIO_STRATEGIES)
        prob = preds["prob_up"].unstack("ticker")
        engine_runs(universe.bars, prob, strategies, "the pooled forecasts (test span)")

        rng = np.random.default_rng(0)
        synth = pd.DataFrame(rng.uniform(size=(len(universe.calendar), len(universe.bars))),
                             index=universe.calendar, columns=list(universe.bars))
        engine_runs(universe.bars, synth, strategies[1:2] if args.quick else strategies,
                    f"synthetic probs, every bar from {start}")


if __name__ == "__main__":
    main()
