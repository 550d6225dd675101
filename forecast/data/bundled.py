"""Real daily history that ships with fcast, so everything works offline.

Two sets: the 34 US tickers converted by `data/build_bundle.py` into one Parquet file
(package data), and the two index series the `arch` package ships (^GSPC, ^IXIC).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from forecast.errors import TickerError

BUNDLE_PATH = Path(__file__).resolve().parent / "bundled" / "us_daily.parquet"
PRICE_SCALE = 100_000  # prices are stored as exact integers of 1e-5

SOURCE_NOTICE = (
    'Huge Stock Market Dataset (Boris Marjanovic, Kaggle, CC0 public domain; GitHub mirror '
    "guyr18/stock-market-big-data), daily OHLCV adjusted for splits and dividends, to 2017-11-10"
)
SURVIVORSHIP_NOTE = (
    "survivorship-biased: the Dow 30 members of November 2017 (plus SPY, QQQ, DIA, IWM), "
    "filled back in time"
)

# Ticker -> (arch.data module name, description) for the index samples `arch` ships.
ARCH_SAMPLES = {
    "^GSPC": ("sp500", "S&P 500 index (arch.data.sp500)"),
    "^IXIC": ("nasdaq", "NASDAQ Composite index (arch.data.nasdaq)"),
}


@dataclass(frozen=True)
class BundledSeries:
    ticker: str
    first: str
    last: str
    rows: int
    source: str


def read_bundle(path: Path = BUNDLE_PATH) -> pd.DataFrame:
    """The bundle as one long frame (ticker, date, open, high, low, close, volume)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise TickerError(f"the bundled history is missing ({path}); reinstall fcast")
    frame = pq.read_table(path).to_pandas()
    frame["ticker"] = frame["ticker"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"])
    for col in ("open", "high", "low", "close"):
        frame[col] = frame[col] / PRICE_SCALE
    frame["volume"] = frame["volume"].astype("float64")
    return frame


def bundle_metadata(path: Path = BUNDLE_PATH) -> dict:
    """The provenance `data/build_bundle.py` wrote into the bundle's footer."""
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata or {}
    return json.loads(raw.get(b"fcast_bundle", b"{}"))


@cache
def _table() -> pd.DataFrame:
    return read_bundle()


def bundled_tickers() -> tuple[str, ...]:
    """Every ticker fcast can serve offline: the converted universe, then arch's indices."""
    return (*sorted(_table()["ticker"].unique()), *ARCH_SAMPLES)


def is_bundled(ticker: str) -> bool:
    return ticker.upper() in bundled_tickers()


def load_bundled(ticker: str) -> pd.DataFrame:
    """Validated canonical bars of one bundled ticker."""
    from forecast.data.files import normalize_columns
    from forecast.data.frame import validate_bars

    key = ticker.upper()
    if key in ARCH_SAMPLES:
        raw = _arch_sample(ARCH_SAMPLES[key][0])
        return validate_bars(normalize_columns(raw, key), key, source="bundled")
    table = _table()
    rows = table.loc[table["ticker"] == key]
    if rows.empty:
        raise TickerError(f"{key}: not bundled; the bundled tickers are {', '.join(bundled_tickers())}")
    frame = rows.drop(columns="ticker").set_index("date")
    return validate_bars(frame, key, source="bundled")


def _arch_sample(name: str) -> pd.DataFrame:
    """The CSV `arch` ships for `name`, read directly: importing `arch.data` would import
    all of arch (seconds) just to list or load a sample."""
    import importlib.util

    spec = importlib.util.find_spec("arch")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise TickerError(f"the {name} sample needs the `arch` package; reinstall fcast")
    return pd.read_csv(Path(spec.submodule_search_locations[0]) / "data" / name / f"{name}.csv.gz")


def describe_bundled() -> list[BundledSeries]:
    """Span and source of every bundled ticker, for listings."""
    table = _table()
    spans = table.groupby("ticker", observed=True)["date"].agg(["min", "max", "size"])
    out = [
        BundledSeries(t, str(r["min"].date()), str(r["max"].date()), int(r["size"]), "Marjanovic (CC0)")
        for t, r in spans.iterrows()
    ]
    for ticker, (_, description) in ARCH_SAMPLES.items():
        bars = load_bundled(ticker)
        out.append(BundledSeries(ticker, str(bars.index[0].date()), str(bars.index[-1].date()),
                                 len(bars), description))
    return out
