"""Daily bars from CSV and Parquet files, whatever the common column spelling."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from forecast.data.frame import validate_bars
from forecast.errors import DataError

# Normalized header (lower case, letters and digits only) -> canonical column.
_ALIASES = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjclose": "adj_close",
    "adjustedclose": "adj_close",
    "volume": "volume",
    "vol": "volume",
}
_DATE_NAMES = {"date", "datetime", "timestamp", "time", "day"}


def _key(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _parse_dates(values: pd.Series | pd.Index, ticker: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.DatetimeIndex(values)
    text = pd.Series(values, dtype="string").str.strip()
    for fmt in ("ISO8601", "%m/%d/%Y"):
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return pd.DatetimeIndex(parsed)
    bad = text[pd.to_datetime(text, format="ISO8601", errors="coerce").isna()].iloc[0]
    raise DataError(f"{ticker}: unparseable date {bad!r} (use YYYY-MM-DD or MM/DD/YYYY)")


def _read_raw(path: Path, ticker: str) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{ticker}: file not found: {path}") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError,
            ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{ticker}: cannot read {path.name}: {first}") from exc


def normalize_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Map a vendor's columns onto the canonical names and a sorted date index."""
    frame = raw
    date_cols = [c for c in frame.columns if _key(c) in _DATE_NAMES]
    if date_cols:
        dates = _parse_dates(frame[date_cols[0]], ticker)
    elif len(frame.columns) and str(frame.columns[0]).startswith("Unnamed"):
        dates = _parse_dates(frame.iloc[:, 0], ticker)  # an index saved without a name
    elif isinstance(frame.index, pd.DatetimeIndex) or _key(frame.index.name) in _DATE_NAMES:
        dates = _parse_dates(frame.index, ticker)
    else:
        raise DataError(f"{ticker}: no date column (expected Date, Datetime or timestamp)")
    renamed = {}
    for col in frame.columns:
        target = _ALIASES.get(_key(col))
        if target and target not in renamed.values():
            renamed[col] = target
    out = frame.loc[:, list(renamed)].rename(columns=renamed)
    out.index = dates
    out.index.name = "date"
    for col in out.columns:
        raw_values = out[col]
        if pd.api.types.is_numeric_dtype(raw_values):
            continue  # parsed by pandas' own (exact) float reader
        # Text columns: allow thousands separators ("1,234,567"); pandas' `thousands=`
        # option would switch every column to a less exact float parser.
        text = raw_values.astype("string").str.strip().str.replace(",", "", regex=False)
        out[col] = pd.to_numeric(text, errors="coerce")
        # A cell that held text but is no number is a data fault, never a silent NaN/0.
        garbled = out[col].isna() & raw_values.notna() & (text != "")
        if garbled.any():
            first = garbled.to_numpy().nonzero()[0][0]
            raise DataError(
                f"{ticker}: {col} is not a number on {out.index[first].date()}: "
                f"{raw_values.iloc[first]!r}"
            )
    # Vendors write newest-first as often as oldest-first: order is not a data fault.
    return out.sort_index(kind="stable")


def read_bars_file(path: str | Path, ticker: str) -> pd.DataFrame:
    """Read, normalize and validate a CSV or Parquet file of daily bars."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{ticker}: {path} is a folder, not a file")
    raw = _read_raw(path, ticker)
    if raw.empty:
        raise DataError(f"{ticker}: {path.name} has no rows")
    frame = normalize_columns(raw, ticker)
    return validate_bars(frame, ticker, source=f"file:{path.name}")
