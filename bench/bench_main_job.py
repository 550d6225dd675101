"""Wall time of the main job, `fcast backtest AAPL`, and where the time goes.

Part 1 runs the real CLI in a subprocess, offline, on the bundled AAPL history (1984-2017,
27 walk-forward folds): start-up, data, features, walk-forward training, backtest and
report, for each `--models` entry, and `logreg` as the reference measured in the same run
(this machine is shared: compare ratios). Part 2 (`--profile`) runs the same walk-forward
in this process with timers on the pieces: Keras/backend start-up, each fold's `fit`
(first fold cold, the rest warm), prediction and feature building.

    .venv/bin/python bench/bench_main_job.py [--models lstm mlp] [--backend jax] [--profile]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

TICKER = "AAPL"


def cli_wall(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "forecast", *args], env=env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"fcast {' '.join(args)} failed: {proc.stderr.strip()[-2000:]}")
    return wall


def profile(model: str) -> None:
    """Time the pieces of one walk-forward run in this process."""
    import forecast.api as fc
    from forecast.features import pipeline
    from forecast.models import keras_base

    fits: list[tuple[float, int, bool]] = []
    spent = {"predict": 0.0, "features": 0.0}

    def timed(owner, name, record):
        original = getattr(owner, name)

        def wrapper(self, *a, **k):
            start = time.perf_counter()
            out = original(self, *a, **k)
            record(self, time.perf_counter() - start)
            return out

        setattr(owner, name, wrapper)

    timed(keras_base.KerasForecaster, "fit",
          lambda m, s: fits.append((s, m.n_epochs_, m.warm_started_)))
    timed(keras_base.KerasForecaster, "predict_proba",
          lambda m, s: spent.__setitem__("predict", spent["predict"] + s))
    for name in ("fit", "transform"):
        timed(pipeline.FeaturePipeline, name,
              lambda p, s: spent.__setitem__("features", spent["features"] + s))

    bars = fc.load(TICKER, source="bundled")
    start = time.perf_counter()
    from forecast.models.backend import keras

    keras()
    startup = time.perf_counter() - start
    start = time.perf_counter()
    preds = fc.walk_forward(bars, model)
    total = time.perf_counter() - start
    cold = [f for f in fits if not f[2]]
    warm = [f for f in fits if f[2]]
    fit_total = sum(f[0] for f in fits)
    print(f"\nprofile: {model} walk-forward on {TICKER}, {len(fits)} folds, "
          f"Keras on {keras().backend.backend()}")
    print(f"  Keras/backend import          {startup:7.1f} s")
    print(f"  walk-forward total            {total:7.1f} s")
    print(f"  fit, all folds                {fit_total:7.1f} s ({fit_total / total:.0%})")
    for label, group in (("cold", cold), ("warm", warm)):
        if group:
            secs = sum(f[0] for f in group)
            epochs = sum(f[1] for f in group)
            print(f"    {label} fits: {len(group):3d}, {secs:6.1f} s, {secs / len(group):5.2f} s/fold, "
                  f"{epochs} epochs ({secs / epochs:.2f} s/epoch incl. tracing)")
    print(f"  predict                       {spent['predict']:7.1f} s")
    print(f"  features (fit + transform)    {spent['features']:7.1f} s")
    other = total - fit_total - spent["predict"] - spent["features"]
    print(f"  other (windows, labels, ...)  {other:7.1f} s")
    print(f"  rows predicted {len(preds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lstm", "mlp"])
    parser.add_argument("--backend", default=None, help="Keras backend (default: tensorflow)")
    parser.add_argument("--profile", action="store_true", help="also time the pieces (first model)")
    args = parser.parse_args()
    env = {**os.environ, "FCAST_HOME": tempfile.mkdtemp(prefix="fcast-bench-"), "FCAST_OFFLINE": "1"}
    backend = ["--backend", args.backend] if args.backend else []
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    print(f"fcast backtest {TICKER} (bundled, full history), cpus: {os.cpu_count()}")
    reference = cli_wall(["backtest", TICKER, "--model", "logreg", "--no-plot"], env)
    print(f"  {'logreg':8} {reference:7.1f} s  (reference)")
    for model in args.models:
        wall = cli_wall(["backtest", TICKER, "--model", model, "--no-plot", *backend], env)
        print(f"  {model:8} {wall:7.1f} s  ({wall / reference:.1f}x logreg)")
    if args.profile:
        profile(args.models[0])


if __name__ == "__main__":
    main()
