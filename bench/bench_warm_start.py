"""Warm-started walk-forward against cold refits: accuracy over seeds, and wall time.

Each fold of a warm run continues from the previous fold's model for at most
`warm_epochs` epochs; a cold run builds a fresh network every fold and trains up to
`epochs`. Both see the same bars, features, folds and labels, so the question is whether
warm starting moves out-of-sample accuracy by more than the seed does. Prints one line
per run, then the mean and spread per mode.

    .venv/bin/python bench/bench_warm_start.py [--ticker AAPL] [--model lstm] [--seeds 0 1 2 3 4]

Defaults: the main job's data (bundled AAPL, full history), model and settings.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("FCAST_OFFLINE", "1")


def run(bars, model: str, seed: int, warm: bool) -> tuple[float, float, int]:
    import forecast.api as fc

    start = time.perf_counter()
    preds = fc.walk_forward(bars, model, model_params={"warm_start": warm}, seed=seed)
    wall = time.perf_counter() - start
    scored = preds[preds["actual_up"].notna()]
    hits = (scored["prob_up"] > 0.5) == (scored["actual_up"] == 1)
    return float(hits.mean()), wall, len(scored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticker", default="AAPL")
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    import forecast.api as fc

    bars = fc.load(args.ticker, source="bundled")
    span = f"{bars.index[0].date()}..{bars.index[-1].date()}"
    print(f"{args.ticker} {span}, {args.model}, cpus {os.cpu_count()}")
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for seed in args.seeds:
        for mode in ("warm", "cold"):
            acc, wall, n = run(bars, args.model, seed, mode == "warm")
            results[mode].append((acc, wall))
            print(f"seed {seed} {mode}: accuracy {acc:.4f} over {n} days, "
                  f"walk-forward {wall:.1f} s", flush=True)
    for mode, rows in results.items():
        acc, wall = np.array(rows).T
        print(f"{mode}: accuracy mean {acc.mean():.4f}, sd over seeds {acc.std(ddof=1):.4f}, "
              f"wall mean {wall.mean():.1f} s")
    cold, warm = (np.array(results[m])[:, 0] for m in ("cold", "warm"))
    diff = warm.mean() - cold.mean()
    se = np.sqrt(warm.var(ddof=1) / len(warm) + cold.var(ddof=1) / len(cold))
    print(f"warm - cold accuracy: {diff:+.4f} (SE of the difference over seeds {se:.4f})")
    speed = np.array(results["cold"])[:, 1].mean() / np.array(results["warm"])[:, 1].mean()
    print(f"cold / warm wall time: {speed:.2f}x")


if __name__ == "__main__":
    main()
