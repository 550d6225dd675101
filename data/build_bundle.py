"""Rebuild fcast's bundled offline history from the source CSVs.

    .venv/bin/python data/build_bundle.py [SOURCE_DIR]     # default: ../shared/data/daily

Reads one `<SYMBOL>.csv` per ticker (columns Date,Open,High,Low,Close,Volume,OpenInt:
daily, adjusted for splits and dividends), validates each through fcast's own bar
validation, and writes `forecast/data/bundled/us_daily.parquet`: one long table
(ticker, date, open, high, low, close, volume) with the provenance in its footer.

Source: the "Huge Stock Market Dataset" by Boris Marjanovic (Kaggle, CC0 public domain),
files Data/Stocks/<sym>.us.txt and Data/ETFs/<sym>.us.txt, as mirrored on GitHub at
guyr18/stock-market-big-data, ending 2017-11-10. The 34 symbols are the Dow 30 of
November 2017 plus SPY, QQQ, DIA and IWM: a survivorship-biased universe (today's
members filled back in time).

The only repair: rows whose open, high, low or close breaks the OHLC bounds (a vendor
digit dropped, e.g. DWDP 8.8914 printed as 0.8914) are removed and listed in the footer.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecast.data.bundled import BUNDLE_PATH, PRICE_SCALE, SOURCE_NOTICE  # noqa: E402
from forecast.data.files import normalize_columns  # noqa: E402
from forecast.data.frame import PRICE_COLUMNS, validate_bars  # noqa: E402


def broken_rows(raw: pd.DataFrame) -> pd.Series:
    """Rows whose prices break low <= min(open, close) <= max(open, close) <= high."""
    o, h, lo, c = (raw[k] for k in ("Open", "High", "Low", "Close"))
    positive = (raw[["Open", "High", "Low", "Close"]] > 0).all(axis=1)
    return (lo > np.minimum(o, c)) | (h < np.maximum(o, c)) | ~positive


def load_one(path: Path) -> tuple[pd.DataFrame, list[str]]:
    ticker = path.stem.upper()
    raw = pd.read_csv(path)
    bad = broken_rows(raw)
    frame = normalize_columns(raw.loc[~bad], ticker)  # the mapping `fcast data import` uses
    return validate_bars(frame, ticker, source="bundled"), raw.loc[bad, "Date"].astype(str).tolist()


def main(source_dir: str = str(ROOT.parent / "shared" / "data" / "daily"), out: Path = BUNDLE_PATH) -> None:
    src, out = Path(source_dir), Path(out)
    files = sorted(src.glob("*.csv"))
    if not files:
        sys.exit(f"no CSV files in {src}")
    pieces, removed, digests = [], {}, {}
    for path in files:
        frame, dropped = load_one(path)
        if dropped:
            removed[frame.attrs["ticker"]] = dropped
        digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        pieces.append(frame.reset_index().assign(ticker=frame.attrs["ticker"]))
    long = pd.concat(pieces, ignore_index=True)[["ticker", "date", *PRICE_COLUMNS, "volume"]]
    # Exact and compact: the source has at most 5 decimals, so prices are stored as integers
    # of 1/PRICE_SCALE (int / PRICE_SCALE gives back the very float64 the CSV parses to).
    scaled = long[list(PRICE_COLUMNS)] * PRICE_SCALE
    if not np.allclose(scaled, scaled.round(), rtol=0, atol=1e-6):
        sys.exit(f"a price has more than {len(str(PRICE_SCALE)) - 1} decimals; raise PRICE_SCALE")
    long[list(PRICE_COLUMNS)] = scaled.round().astype("int64")
    long["volume"] = long["volume"].astype("int64")
    long["date"] = long["date"].dt.date
    table = pa.Table.from_pandas(long, preserve_index=False)
    table = table.cast(table.schema.set(0, pa.field("ticker", pa.dictionary(pa.int8(), pa.string()))))
    meta = {
        "source": SOURCE_NOTICE,
        "survivorship_biased": True,
        "price_scale": PRICE_SCALE,
        "removed_rows": removed,
        "inputs_sha256": digests,
    }
    table = table.replace_schema_metadata({b"fcast_bundle": json.dumps(meta).encode()})
    out.parent.mkdir(parents=True, exist_ok=True)
    delta = dict.fromkeys(["date", *PRICE_COLUMNS, "volume"], "DELTA_BINARY_PACKED")
    pq.write_table(table, out, compression="zstd", compression_level=19,
                   use_dictionary=["ticker"], column_encoding=delta)
    size = out.stat().st_size
    print(f"wrote {out}: {long['ticker'].nunique()} tickers, "
          f"{len(long):,} bars, {size / 1e6:.1f} MB; removed {sum(map(len, removed.values()))} "
          f"broken row(s) in {', '.join(removed) or 'none'}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
