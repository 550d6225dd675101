"""Raw features for a whole universe: every ticker of us_liquid, and one study period's members.

Reads ../shared/data/us_liquid/bars.parquet (and membership.csv) directly and skips cleanly
when it is absent. Times `forecast.features.pipeline.raw_features` (the unscaled, trailing
features a walk-forward now computes once per ticker) for

- every ticker (871), with the default FeatureSpec and with the Krauss et al. spec
  (return_lags 1..20, 40, 60, ..., 240, everything else off; 31 columns);
- one study period (the members of `--year`, bars from `--days` trading days before the
  year's end), the Krauss spec (the issue quotes 3.5 s with pandas for 578k samples).

The reference printed beside it: reading bars.parquet with pandas. Target (issue 22):
features for all 871 tickers under 30 s.

    .venv/bin/python bench/bench_universe_features.py [--data ../shared/data/us_liquid] [--year 2010]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "us_liquid"
KRAUSS_LAGS = (*range(1, 21), *range(40, 241, 20))


def krauss_spec():
    from forecast.features.spec import FeatureSpec

    return FeatureSpec(return_lags=KRAUSS_LAGS, vol_windows=(), volume=False, rsi=False, macd=False,
                       bollinger=False, atr=False, hl_range=False, gap=False)


def per_ticker(raw: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each ticker's bars, indexed by date, as the store hands them out."""
    raw = raw.sort_values(["ticker", "date"])
    out = {}
    for ticker, frame in raw.groupby("ticker", observed=True, sort=True):
        bars = frame.drop(columns="ticker").set_index("date")
        prices = bars[["open", "high", "low", "close"]].to_numpy()
        if not (prices > 0).all():  # the import refuses these; so does the feature check
            continue
        bars.index = pd.DatetimeIndex(bars.index).as_unit("ns")
        out[str(ticker)] = bars
    return out


def time_features(bars: dict[str, pd.DataFrame], spec) -> tuple[float, int, int]:
    from forecast.features.pipeline import raw_features

    t0 = time.perf_counter()
    rows = cols = 0
    for frame in bars.values():
        feats = raw_features(frame, spec)
        rows += len(feats)
        cols = feats.shape[1]
    return time.perf_counter() - t0, rows, cols


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--year", type=int, default=2010)
    parser.add_argument("--days", type=int, default=1240, help="study period: 240 look-back + 750 + 250")
    args = parser.parse_args()
    path, membership = args.data / "bars.parquet", args.data / "membership.csv"
    if not (path.is_file() and membership.is_file()):
        print(f"skipped: {args.data} not found (bars.parquet, membership.csv)")
        return 0
    from forecast.features.spec import FeatureSpec

    t0 = time.perf_counter()
    raw = pd.read_parquet(path)
    read_s = time.perf_counter() - t0
    print(f"reference: pd.read_parquet of {len(raw):,} bars: {read_s:.2f} s")
    bars = per_ticker(raw)
    print(f"{len(bars)} tickers with sound prices of {raw['ticker'].nunique()}")
    for name, spec in (("default spec", FeatureSpec()), ("Krauss spec", krauss_spec())):
        secs, rows, cols = time_features(bars, spec)
        print(f"features, all {len(bars)} tickers, {name} ({cols} columns, {rows:,} rows): "
              f"{secs:.1f} s ({secs / read_s:.0f}x the read; target < 30 s)")

    members = pd.read_csv(membership)
    names = [t for t in members.loc[members["year"] == args.year, "ticker"].astype(str) if t in bars]
    end = pd.Timestamp(f"{args.year}-12-31")
    dates = raw.loc[raw["date"] <= end, "date"].drop_duplicates().sort_values()
    start = dates.iloc[-args.days] if len(dates) >= args.days else dates.iloc[0]
    period = {t: bars[t].loc[(bars[t].index >= start) & (bars[t].index <= end)] for t in names}
    period = {t: b for t in names if len(b := period[t]) > max(KRAUSS_LAGS)}
    secs, rows, cols = time_features(period, krauss_spec())
    samples = sum(len(b) - max(KRAUSS_LAGS) for b in period.values())
    print(f"features, one study period ({len(period)} members of {args.year}, {args.days} days from "
          f"{start.date()}, {samples:,} samples, {cols} columns): {secs:.2f} s (issue: 3.5 s with pandas)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
