"""Fit time of `lgbm` (LightGBM) against `gbm` (scikit-learn's histogram gradient boosting) on
the same pooled arrays: one study period of a 500-name universe, 750 training days, 31 features
(the latest row of each window, as both models read by default).

Prints each model's fit seconds (best of --repeat), its accuracy on a held-out tail (a sanity
check that both fit the same signal), and the ratio lgbm / gbm:
at each model's defaults, and with lgbm grown like gbm's default (100 trees of depth 3, at
most 8 leaves, no subsampling). Both run on --threads
threads (default 1, the models' own default for `lgbm`; `gbm` is limited with threadpoolctl).

    .venv/bin/python bench/bench_lgbm.py [--names 500 --days 750 --features 31 --threads 1 --repeat 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from forecast.models.registry import make_model


def pooled_arrays(names: int, days: int, n_features: int, seed: int = 0):
    """Windows of length 1 (the latest row), a weak linear signal plus noise in the label."""
    rng = np.random.default_rng(seed)
    n = names * days
    X = rng.normal(size=(n, 1, n_features)).astype(np.float64)
    score = X[:, -1, :3] @ np.array([0.3, -0.2, 0.1]) + rng.normal(size=n)
    return X, (score > 0).astype(int)


def time_fit(name: str, params: dict, X, y, X_test, y_test, repeat: int) -> tuple[float, float]:
    best = float("inf")
    for _ in range(repeat):
        model = make_model(name, **params)
        start = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - start)
    accuracy = float(((model.predict_proba(X_test)[:, 1] > 0.5) == y_test).mean())
    return best, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--days", type=int, default=750)
    parser.add_argument("--features", type=int, default=31)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    X, y = pooled_arrays(args.names, args.days, args.features)
    X_test, y_test = pooled_arrays(50, 250, args.features, seed=1)
    print(f"{len(X):,} samples x {args.features} features, {args.threads} thread(s)")
    with threadpool_limits(limits=args.threads):
        gbm, gbm_acc = time_fit("gbm", {}, X, y, X_test, y_test, args.repeat)
        lgbm, lgbm_acc = time_fit("lgbm", {"n_jobs": args.threads}, X, y, X_test, y_test, args.repeat)
        like_gbm = {"n_jobs": args.threads, "n_estimators": 100, "max_depth": 3, "num_leaves": 8,
                    "learning_rate": 0.1, "subsample": 1.0, "colsample_bytree": 1.0}
        same, same_acc = time_fit("lgbm", like_gbm, X, y, X_test, y_test, args.repeat)
    print(f"gbm  (100 trees, depth 3):           {gbm:7.2f} s  accuracy {gbm_acc:.3f}")
    print(f"lgbm (200 trees, 31 leaves):         {lgbm:7.2f} s  accuracy {lgbm_acc:.3f}")
    print(f"lgbm (100 trees, depth 3, as gbm):   {same:7.2f} s  accuracy {same_acc:.3f}")
    print(f"lgbm / gbm fit time, defaults: {lgbm / gbm:.2f}; same trees: {same / gbm:.2f}")


if __name__ == "__main__":
    main()
