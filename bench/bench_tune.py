"""Nested tuning against the planted mistake (trials scored on the test block), on random walks.

For each random walk: the out-of-sample accuracy of a tiny random forest whose `seed` is
tuned nested (each fold's search on its training span, inner walk-forward with the gap),
the same search scored on each fold's own test block (tests/tune_planted.py), and the
untuned model; then the wall time of each and the time per trial, relative to the untuned
walk-forward measured in the same run.

    .venv/bin/python bench/bench_tune.py [--walks 0 1 2] [--trials 30] [--retrain-every 21]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("FCAST_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--retrain-every", type=int, default=21)
    args = parser.parse_args()

    import tune_planted

    from forecast.data.synthetic import random_walk_bars
    from forecast.evaluate import direction_metrics, walk_forward
    from forecast.features.target import make_target
    from forecast.tune import TuneSettings, fold_models

    honest = fold_models.TunedFoldModels
    schedule = dict(window=5, test_days=252, retrain_every=args.retrain_every, seed=0)
    params = {"n_estimators": 3, "max_depth": 2}
    tune = TuneSettings(trials=args.trials, space={"seed": {"low": 0, "high": 100_000}}, metric="accuracy",
                        prune=False, inner_folds=2, inner_block=63)
    print(f"{args.trials} trials per fold, test blocks of {args.retrain_every} days, 252 test days")
    print("walk  untuned  nested  planted   (0.5 ± se)   wall: untuned  nested  planted   nested/untuned")
    for walk in args.walks:
        bars = random_walk_bars(1000, seed=walk)
        labels = make_target(bars, 1, 0.0, label="open").to_numpy()
        out = {}
        for mode in ("untuned", "nested", "planted"):
            fold_models.TunedFoldModels = tune_planted.peeking_models(labels) if mode == "planted" else honest
            start = time.perf_counter()
            pred = walk_forward(bars, "rf", model_params=params, tune=None if mode == "untuned" else tune,
                                **schedule)
            m = direction_metrics(pred["prob_up"], pred["actual_up"])
            out[mode] = (m["accuracy"], time.perf_counter() - start, m["n"])
        fold_models.TunedFoldModels = honest
        se = math.sqrt(0.25 / out["nested"][2])
        acc = "  ".join(f"{out[k][0]:6.3f}" for k in ("untuned", "nested", "planted"))
        wall = "  ".join(f"{out[k][1]:6.2f}s" for k in ("untuned", "nested", "planted"))
        print(f"{walk:4d}  {acc}   (se {se:.3f})   {wall}   {out['nested'][1] / out['untuned'][1]:6.1f}x")


if __name__ == "__main__":
    main()
