"""Wall time of a fixed experiment on the bundled universe: serial, on Ray, and cached.

The grid: the Dow 30 (bundled, offline) x {logreg, mlp} x 3 strategies x 2 cost levels,
from `--start` (2010 by default: about 1,980 bars a ticker, 6 walk-forward folds). It
prints, in one run on the same machine:

- the wall time of the whole experiment serial (in-process), and with `--workers 2` (a
  local Ray cluster started by fcast, included in the time), each with a cold cache;
- whether the two gave identical rows;
- the wall time of the second, cached run (nothing trains), and the backtests per second
  when re-scoring cached predictions (configurations / that wall time, bars loading and
  the trial statistics included);
- the peak resident memory of the Ray workers (TensorFlow is large).

    .venv/bin/python bench/bench_experiment.py [--start 2010-01-01] [--tickers 30] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time


def spec(tickers: int, start: str):
    from forecast.experiment import ExperimentSpec
    from forecast.portfolio.universe import bundled_universe

    return ExperimentSpec.from_dict({
        "name": "bench",
        "tickers": bundled_universe("dow30")[:tickers],
        "start": start,
        "models": [{"name": "logreg"}, {"name": "mlp"}],
        "strategies": [{"name": "long-only"}, {"name": "long-short"}, {"name": "probability-sized"}],
        "costs": {"commission": [0.0005, 0.002], "slippage": [0.0005]},
    })


class PeakWorkerMemory:
    """Samples the resident memory of Ray worker processes every 0.5 s."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        import psutil

        while not self._stop.wait(0.5):
            for proc in psutil.process_iter(["cmdline", "memory_info"]):
                cmd = " ".join(proc.info["cmdline"] or [])
                if "default_worker.py" in cmd or cmd.startswith("ray::"):
                    self.peak = max(self.peak, proc.info["memory_info"].rss)


def timed(label: str, spec_, **kwargs):
    from forecast.experiment import run_experiment

    began = time.perf_counter()
    result = run_experiment(spec_, source="bundled", **kwargs)
    wall = time.perf_counter() - began
    failed = len(result.failed)
    cache = result.cache
    print(f"{label:<34} {wall:8.1f} s  trained {cache['trained']:>3}, cached {cache['hits']:>3}, "
          f"{len(result.rows)} configurations, {failed} failed", flush=True)
    return result, wall


def rescoring(grid, cache) -> None:
    """Backtests per second on cached predictions alone (the vector engine, every configuration)."""
    import forecast.api as fc

    n, seconds = 0, 0.0
    for task in grid.tasks():
        bars = fc.load(task.ticker, source="bundled", start=grid.start, end=grid.end)
        predictions = fc.predict(bars, task.model.name, cache=cache, **grid.walk_forward_kwargs(task.seed))
        assert predictions.provenance.get("cache") == "hit"
        for config in grid.configurations():
            if config.task != task:
                continue
            began = time.perf_counter()
            fc.run_backtest(bars, predictions, strategy=config.strategy.name, params=config.strategy.params,
                            commission=config.commission, slippage=config.slippage)
            seconds += time.perf_counter() - began
            n += 1
    print(f"{'':<34} {n / seconds:,.1f} backtests/s re-scoring cached predictions ({n} backtests, "
          f"{seconds:.2f} s, forecast metrics included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="2010-01-01")
    parser.add_argument("--tickers", type=int, default=30)
    parser.add_argument("--no-ray", action="store_true", help="skip the --workers 2 run")
    args = parser.parse_args()
    os.environ.setdefault("FCAST_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from forecast.cache import PredictionCache
    from forecast.experiment import RayExecutor, SerialExecutor

    grid = spec(args.tickers, args.start)
    n_strategies = len(grid.expanded_strategies())
    print(f"grid: {len(grid.tickers)} tickers x {len(grid.models)} models x {n_strategies} "
          f"strategies x {len(grid.commissions)} costs = {len(grid.configurations())} configurations, "
          f"{len(grid.tasks())} walk-forward runs, from {args.start}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as serial_home, tempfile.TemporaryDirectory() as ray_home:
        serial, serial_wall = timed("serial, cold cache", grid, executor=SerialExecutor(),
                                    cache=PredictionCache(serial_home))
        if not args.no_ray:
            with PeakWorkerMemory() as memory:
                on_ray, ray_wall = timed("--workers 2 (Ray), cold cache", grid,
                                         executor=RayExecutor(workers=2), cache=PredictionCache(ray_home))
            same = [{k: v for k, v in r.items() if k != "cache"} for r in on_ray.rows] == \
                   [{k: v for k, v in r.items() if k != "cache"} for r in serial.rows]
            print(f"{'':<34} speed-up {serial_wall / ray_wall:.2f}x; rows identical to serial: {same}; "
                  f"peak worker RSS {memory.peak / 2**20:,.0f} MiB")
        cached, cached_wall = timed("second run, cached", grid, executor=SerialExecutor(),
                                    cache=PredictionCache(serial_home))
        print(f"{'':<34} {len(cached.rows) / cached_wall:,.1f} configurations/s for the whole cached run "
              f"(loading, cache reads, backtests, statistics); {serial_wall / cached_wall:.1f}x faster")
        rescoring(grid, PredictionCache(serial_home))
        print(cached.tests["verdict"])


if __name__ == "__main__":
    main()
