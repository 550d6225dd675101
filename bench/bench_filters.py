"""The portfolio's universe filters on a large universe: the eligibility mask's cost.

Reads ../shared/data/us_liquid/bars.parquet (one file, a ticker column) and skips cleanly
when it is absent. Prints the reference (splitting the bars into per-ticker frames, what
any portfolio run does first), the mask with every filter on (min price 5, median dollar
volume over 20 bars >= 1e7, no extreme-move day), its ratio to the reference, and the share
of ticker-days (from each ticker's first bar) each filter keeps.

    .venv/bin/python bench/bench_filters.py [--data ../shared/data/us_liquid]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "us_liquid"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    path = args.data / "bars.parquet"
    if not path.is_file():
        print(f"skipped: {path} not found")
        return 0
    from forecast.portfolio.filters import FilterSettings, eligibility

    raw = pd.read_parquet(path)
    raw["date"] = pd.to_datetime(raw["date"])
    t0 = time.perf_counter()
    bars = {t: g.drop(columns="ticker").set_index("date").sort_index() for t, g in raw.groupby("ticker")}
    reference = time.perf_counter() - t0
    dates = pd.DatetimeIndex(sorted(raw["date"].unique()))
    tickers = sorted(bars)
    print(f"{len(tickers)} tickers x {len(dates)} days; reference (split into frames): {reference:.2f} s")
    listed = sum(int((dates >= b.index[0]).sum()) for b in bars.values())  # days from each first bar
    every = FilterSettings(min_price=5.0, min_dollar_volume=1e7, drop_extreme_moves=True)
    for name, settings in (("min price 5", FilterSettings(min_price=5.0)),
                           ("dollar volume 1e7 / 20 bars", FilterSettings(min_dollar_volume=1e7)),
                           ("no extreme move", FilterSettings(drop_extreme_moves=True)),
                           ("all three", every)):
        t0 = time.perf_counter()
        mask = eligibility(bars, dates, tickers, settings)
        took = time.perf_counter() - t0
        kept = mask.to_numpy().sum() / listed
        print(f"{name}: {took:.2f} s ({took / reference:.1f}x reference), keeps {kept:.1%} "
              "of ticker-days from each ticker's first bar")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
