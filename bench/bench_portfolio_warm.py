"""Warm against cold Keras refits in a pooled portfolio walk-forward (offline, bundled data).

Runs `portfolio_walk_forward` with the MLP (`--epochs`, beats-median target) over a few
bundled tickers, cold (`warm_start=False`: a fresh network each fold) and warm (each fold
continues the previous fold's network), twice each in alternation, and prints wall seconds,
folds and out-of-sample accuracy with its standard error. Nothing is asserted.

    .venv/bin/python bench/bench_portfolio_warm.py [--start 2010-01-01] [--epochs 20]
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("FCAST_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TICKERS = ["AAPL", "MSFT", "KO", "IBM", "XOM", "GE"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2010-01-01")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--test-days", type=int, default=504)
    args = parser.parse_args()

    from forecast.evaluate.pooled import portfolio_walk_forward
    from forecast.portfolio.universe import load_universe

    universe = load_universe(TICKERS, source="bundled", start=args.start)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for warm in (False, True, False, True):
        began = time.perf_counter()
        out = portfolio_walk_forward(universe, "mlp", pooled=True, target="beats-median",
                                     model_params={"epochs": args.epochs, "warm_start": warm},
                                     test_days=args.test_days, retrain_every=63)
        seconds[warm].append(time.perf_counter() - began)
        known = out.dropna(subset=["actual_up"])
        acc = float(((known["prob_up"] > 0.5) == (known["actual_up"] > 0.5)).mean())
        se = math.sqrt(acc * (1 - acc) / len(known))
        print(f"{'warm' if warm else 'cold'}: {seconds[warm][-1]:6.1f} s, {out.attrs['n_folds']} folds, "
              f"accuracy {acc:.4f} ± {se:.4f} (n {len(known):,})", flush=True)
    ratio = sum(seconds[False]) / sum(seconds[True])
    print(f"{len(TICKERS)} tickers from {args.start}, pooled MLP ({args.epochs} epochs): "
          f"warm is {ratio:.2f}x faster than cold")


if __name__ == "__main__":
    main()
