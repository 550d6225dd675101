"""Feature-pipeline fit + transform time on 5,000 daily bars (target: under 50 ms).

Run: .venv/bin/python bench/bench_features.py [--bars 5000] [--repeats 15]
Prints the median and best of several runs for the default spec, and for reference the
spec with day-of-week and GARCH (whose fit is an `arch` maximum-likelihood estimate).
"""

from __future__ import annotations

import argparse
import statistics
import time

from forecast.data.synthetic import random_walk_bars
from forecast.features import FeaturePipeline, FeatureSpec


def time_fit_transform(bars, spec: FeatureSpec, repeats: int) -> list[float]:
    """Seconds taken by `FeaturePipeline(spec).fit(bars).transform(bars)`, per run."""
    FeaturePipeline(spec).fit(bars).transform(bars)  # warm caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        FeaturePipeline(spec).fit(bars).transform(bars)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    bars = random_walk_bars(args.bars, seed=0)
    specs = {
        "default": FeatureSpec.default(),
        "default+dow+garch": FeatureSpec(day_of_week=True, garch=True),
    }
    print(f"feature pipeline fit+transform, {args.bars} bars, {args.repeats} runs")
    for name, spec in specs.items():
        t = time_fit_transform(bars, spec, args.repeats)
        print(
            f"  {name:<18} {len(spec.columns()):>2} features  "
            f"median {1000 * statistics.median(t):6.1f} ms  best {1000 * min(t):6.1f} ms"
        )


if __name__ == "__main__":
    main()
