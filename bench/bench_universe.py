"""Importing a 500-name universe into the store, and loading one year's members.

Reads ../shared/data/us_liquid (871 tickers, 4.1M bars, a year,rank,ticker,dollar_volume
membership file) and skips cleanly when it is absent. Into a fresh temporary FCAST_HOME:

- the reference: reading bars.parquet with pandas (what any import must at least do);
- `import_universe` (every ticker validated and checked as `fcast data import` does, one
  batch written all-or-nothing), split into its time and its ratio to the reference;
- a second import over the first (every ticker replaced);
- loading the members of one year (default 2010, 500 names) through `StoredUniverse.load`.

Targets (issue 22): import under 60 s; one year's members under 3 s.

    .venv/bin/python bench/bench_universe.py [--data ../shared/data/us_liquid] [--year 2010]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "us_liquid"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--year", type=int, default=2010)
    args = parser.parse_args()
    bars, membership = args.data / "bars.parquet", args.data / "membership.csv"
    if not (bars.is_file() and membership.is_file()):
        print(f"skipped: {args.data} not found (bars.parquet, membership.csv)")
        return 0
    from forecast.data.universe_import import import_universe
    from forecast.data.universes import open_universe

    t0 = time.perf_counter()
    raw = pd.read_parquet(bars)
    read_s = time.perf_counter() - t0
    print(f"reference: pd.read_parquet of {len(raw):,} bars: {read_s:.2f} s")
    del raw
    with tempfile.TemporaryDirectory() as home:
        t0 = time.perf_counter()
        summary = import_universe("us_liquid", bars, membership, home=home)
        import_s = time.perf_counter() - t0
        print(f"import: {len(summary.imported)} tickers, {summary.bars:,} bars, "
              f"{len(summary.refused)} refused, warnings "
              + ", ".join(f"{k} {len(v)}" for k, v in summary.warnings.items())
              + f": {import_s:.1f} s ({import_s / read_s:.0f}x the read; target < 60 s)")
        reasons: dict[str, list[str]] = {}
        for ticker, reason in summary.refused.items():
            reasons.setdefault(reason.split(" on ")[0], []).append(ticker)
        for reason, tickers in reasons.items():
            print(f"  refused {len(tickers)}: {reason} ({', '.join(tickers[:6])})")
        t0 = time.perf_counter()
        again = import_universe("us_liquid", bars, membership, home=home)
        print(f"import again (replacing {len(again.replaced)} tickers): {time.perf_counter() - t0:.1f} s")
        universe = open_universe("us_liquid", home)
        t0 = time.perf_counter()
        members = universe.members_in_year(args.year)
        loaded = universe.load(members)
        load_s = time.perf_counter() - t0
        rows = sum(len(f) for f in loaded.values())
        print(f"load the {len(loaded)} members of {args.year} ({rows:,} bars): {load_s:.2f} s "
              f"({load_s / read_s:.1f}x the read of all bars; target < 3 s)")
        t0 = time.perf_counter()
        mask = universe.mask(pd.bdate_range(f"{args.year - 5}-01-01", f"{args.year}-12-31"))
        print(f"members-by-day mask {mask.shape}: {time.perf_counter() - t0:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
