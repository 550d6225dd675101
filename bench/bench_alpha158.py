"""The alpha158 set on a 500-name universe (issue 23's goal: under 60 s for ~1.5M bars).

Run: .venv/bin/python bench/bench_alpha158.py [--names 500] [--bars 3000] [--real]
Times, in one run on the same bars, what a universe walk-forward computes once per ticker
(`precompute`: every column over all its bars) for the `alpha158` preset (ret_1 + 158
columns) and, as the reference, the default feature set; then the cross-sectional rank of
the alpha158 columns across the tickers (FeatureSpec cross_section = "rank").

Bars are synthetic random walks (names x bars), or with --real the us_liquid bars in
../shared/data/us_liquid/bars.parquet from --start on (tickers whose bars fail the checks
are left out and counted). The numba loops are compiled (or loaded from their cache) on a
small frame first; that time is printed apart.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.synthetic import random_walk_bars
from forecast.errors import FcastError
from forecast.features import FeatureSpec
from forecast.features.cross_section import universe_columns
from forecast.features.pipeline import precompute

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "us_liquid" / "bars.parquet"


def synthetic(names: int, bars: int) -> dict[str, pd.DataFrame]:
    return {f"S{i:03d}": random_walk_bars(bars, seed=i, ticker=f"S{i:03d}") for i in range(names)}


def real(path: Path, start: str, names: int) -> dict[str, pd.DataFrame]:
    frame = pd.read_parquet(path)
    frame = frame[frame["date"] >= pd.Timestamp(start)]
    out = {}
    for ticker, group in frame.groupby("ticker", observed=True):
        bars = group.set_index("date").sort_index()[["open", "high", "low", "close", "volume"]]
        out[str(ticker)] = bars.astype("float64")
        if len(out) == names:
            break
    return out


def compute_all(universe: dict[str, pd.DataFrame], spec: FeatureSpec) -> tuple[float, dict, int]:
    """Seconds to precompute `spec` for every ticker, the columns, and tickers refused."""
    out, refused = {}, 0
    start = time.perf_counter()
    for ticker, bars in universe.items():
        try:
            out[ticker] = precompute(bars, spec)
        except FcastError:
            refused += 1
    return time.perf_counter() - start, out, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--bars", type=int, default=3000)
    parser.add_argument("--real", action="store_true", help=f"read {REAL.resolve()}")
    parser.add_argument("--start", default="2006-01-01", help="with --real: the first date kept")
    parser.add_argument("--no-cross-section", action="store_true")
    args = parser.parse_args()
    alpha = FeatureSpec.from_option("alpha158")
    default = FeatureSpec.default()

    warm = time.perf_counter()
    precompute(random_walk_bars(200, seed=0), alpha)
    print(f"numba compile / cache load: {time.perf_counter() - warm:.2f} s (once per process)")

    universe = real(REAL, args.start, args.names) if args.real else synthetic(args.names, args.bars)
    n_bars = sum(len(b) for b in universe.values())
    where = f"us_liquid from {args.start}" if args.real else "synthetic random walks"
    print(f"{len(universe)} names, {n_bars:,} bars ({where})")

    t_ref, _, _ = compute_all(universe, default)
    t_alpha, cols, refused = compute_all(universe, alpha)
    print(f"  default set  {len(default.columns()):>3} columns  {t_ref:6.2f} s")
    print(f"  alpha158     {len(alpha.columns()):>3} columns  {t_alpha:6.2f} s  "
          f"({t_alpha / t_ref:.1f}x the default set; {1e6 * t_alpha / n_bars:.1f} us a bar"
          + (f"; {refused} tickers refused by the bar checks" if refused else "") + ")")
    if args.no_cross_section:
        return
    tickers = sorted(cols)
    calendar = pd.DatetimeIndex(sorted(set().union(*(universe[t].index for t in tickers))))
    positions = [calendar.get_indexer(universe[t].index) for t in tickers]
    spec = FeatureSpec.from_dict({"preset": "alpha158", "cross_section": "rank"})
    start = time.perf_counter()
    out = universe_columns([cols[t] for t in tickers], positions, len(calendar), None, spec)
    t_cs = time.perf_counter() - start
    assert np.isfinite(out[0]["KMID"]).all()
    print(f"  cross-sectional rank of the 158 columns over {len(calendar):,} dates: {t_cs:6.2f} s")
    print(f"  alpha158 + rank total: {t_alpha + t_cs:6.2f} s (goal: under 60 s)")


if __name__ == "__main__":
    main()
