"""Nested tuning with the folds' searches serial and on a local Ray cluster, timed.

`fcast tune`'s API on a bundled ticker: `--model` (default gbm) tuned with `--trials` per
fold over `--folds` folds (test span = folds x retrain_every), serially and with
`RayExecutor(workers=N)` (the cluster's start-up timed apart). Prints both wall times,
their ratio, and whether the forecasts and the tuning record are identical.

    .venv/bin/python bench/bench_tune_workers.py [--ticker KO] [--model gbm] [--trials 10]
        [--folds 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticker", default="KO")
    ap.add_argument("--model", default="gbm")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--retrain-every", type=int, default=63)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from forecast.data.bundled import load_bundled
    from forecast.evaluate.walkforward import walk_forward
    from forecast.experiment import RayExecutor
    from forecast.tune import TuneSettings

    bars = load_bundled(args.ticker)
    schedule = dict(test_days=args.folds * args.retrain_every, retrain_every=args.retrain_every)

    def tuned(executor=None):
        t0 = time.perf_counter()
        pred = walk_forward(bars, args.model, tune=TuneSettings(trials=args.trials, executor=executor),
                            **schedule)
        return pred, time.perf_counter() - t0

    serial, t_serial = tuned()
    t0 = time.perf_counter()
    with RayExecutor(workers=args.workers) as cluster:
        start_up = time.perf_counter() - t0
        parallel, t_parallel = tuned(cluster)
    same = serial.equals(parallel) and json.dumps(serial.attrs, sort_keys=True, default=str) == json.dumps(
        parallel.attrs, sort_keys=True, default=str)
    n = serial.attrs["tune"]["trials"]
    print(f"{args.ticker} {args.model}: {n} trials over {args.folds} folds")
    print(f"serial {t_serial:.1f} s; {args.workers} workers {t_parallel:.1f} s (+{start_up:.1f} s cluster "
          f"start-up); ratio workers/serial {t_parallel / t_serial:.2f}; identical {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
