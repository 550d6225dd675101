"""A universe walk-forward serially and on a local Ray cluster (`--workers N`), timed.

The Krauss, Do & Huck (2017) design on a slice of ../shared/data/us_liquid: features the
returns over 1..20 and 40, 60, ..., 240 days (window 1), target beats-median, one pooled
model per study period of 750 training and 250 trading days (cold refits: periods are
independent), for logreg and gbm. The slice: the `--tickers` highest-ranked members of
`--year`'s membership (default 100 of 2010), imported into a temporary FCAST_HOME with
their membership rows (as `fcast universe import` does), traded from `--start` so that
`--periods` study periods (default 3) are tested from `--year` on.

Prints, per model: the serial wall time, the time with `--workers` (cluster start-up
counted once, apart), the ratio, and whether the predictions are identical (every digit).
Skips cleanly without the data.

    .venv/bin/python bench/bench_portfolio_workers.py [--tickers 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "us_liquid"
SPEC = {"return_lags": [*range(1, 21), *range(40, 241, 20)], "vol_windows": [], "volume": False,
        "rsi": False, "macd": False, "bollinger": False, "atr": False, "hl_range": False, "gap": False}
PERIOD, TRAIN = 250, 750


def _slice(data: Path, year: int, n: int, folder: Path) -> tuple[Path, Path, list[str]]:
    """The top-`n` members of `year`: their bars and membership rows, as files to import."""
    membership = pd.read_csv(data / "membership.csv")
    tickers = membership[membership["year"] == year].sort_values("rank")["ticker"].head(n).tolist()
    bars = pd.read_parquet(data / "bars.parquet")
    bars = bars[bars["ticker"].isin(tickers)]
    bars_path, members_path = folder / "bars.parquet", folder / "membership.csv"
    bars.to_parquet(bars_path)
    membership[membership["ticker"].isin(tickers)].to_csv(members_path, index=False)
    return bars_path, members_path, tickers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--year", type=int, default=2010)
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models", default="logreg,gbm")
    args = parser.parse_args()
    if not ((args.data / "bars.parquet").is_file() and (args.data / "membership.csv").is_file()):
        print(f"skipped: {args.data} not found (bars.parquet, membership.csv)")
        return 0
    from forecast.data.universe_import import import_universe
    from forecast.evaluate.pooled import portfolio_walk_forward
    from forecast.experiment.executors import RayExecutor
    from forecast.portfolio.universe import load_universe

    with tempfile.TemporaryDirectory() as home:
        os.environ["FCAST_HOME"] = home  # the Ray workers get it too (they need nothing from it)
        bars, members, tickers = _slice(args.data, args.year, args.tickers, Path(home))
        import_universe("slice", bars, members, home=home)
        # Warm-up (240 days) and one training span before the first tested period, then the periods.
        first = pd.Timestamp(f"{args.year}-01-01")
        start = (first - pd.tseries.offsets.BDay(TRAIN + 260 + 40)).date()
        end = (first + pd.tseries.offsets.BDay(PERIOD * args.periods)).date()
        universe = load_universe("slice", home=home, start=str(start), end=str(end))
        n_bars = sum(len(b) for b in universe.bars.values())
        print(f"universe: {len(universe.bars)} of the top {args.tickers} members of {args.year}, "
              f"{start} to {end}, {n_bars:,} bars; {args.periods} study periods of {TRAIN} training and "
              f"{PERIOD} trading days, pooled, cold refits, target beats-median, 31 return features")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs")
        kwargs = dict(pooled=True, target="beats-median", spec=SPEC, window=1, train_window=TRAIN,
                      retrain_every=PERIOD, test_days=PERIOD * args.periods, seed=0)
        models = args.models.split(",")
        serial = {}
        for model in models:
            t0 = time.perf_counter()
            serial[model] = (portfolio_walk_forward(universe, model, **kwargs), time.perf_counter() - t0)
        t0 = time.perf_counter()
        with RayExecutor(workers=args.workers) as executor:
            startup = time.perf_counter() - t0
            print(f"local Ray cluster of {args.workers} CPUs: started in {startup:.1f} s")
            for model in models:
                t0 = time.perf_counter()
                frame = portfolio_walk_forward(universe, model, executor=executor, **kwargs)
                took = time.perf_counter() - t0
                want, serial_s = serial[model]
                same = frame.to_csv() == want.to_csv() and frame.attrs == want.attrs
                print(f"{model}: {want.attrs['n_folds']} folds, {len(want):,} forecasts; serial "
                      f"{serial_s:.1f} s, --workers {args.workers} {took:.1f} s "
                      f"({serial_s / took:.2f}x; {serial_s / (took + startup):.2f}x with the start-up); "
                      f"predictions identical: {same}")
        print(f"load average after the runs: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
