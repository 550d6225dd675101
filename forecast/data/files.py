"""Daily bars from CSV and Parquet files, whatever the common column spelling."""

from __future__ import annotations

import bz2
import gzip
import lzma
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

_SPREADSHEETS = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers"}
# Zip (xlsx, ods) and OLE2 (xls) containers, whatever the file is called.
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_DELIMITERS = (",", ";", "\t", "|")

# A UTC offset after a time of day ("09:30:00-04:00", "00:00Z"): the wall-clock time before
# it is the exchange-local time, whose date is the bar's date.
_OFFSET = re.compile(r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")

# How a number's text shows its decimal mark. "1,234" and "1.234" say nothing: one
# separator before exactly three digits may be either a decimal or a thousands mark.
_AMBIGUOUS = r"[+-]?[1-9]\d{0,2}[.,]\d{3}"
_POINT = r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?|\d*\.\d+(?:[eE][+-]?\d+)?)"  # 1,234.5 0.575
_COMMA = r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?|\d*,\d+(?:[eE][+-]?\d+)?)"  # 1.234,5 0,575
# Thousands separators besides the other mark: spaces, no-break spaces, apostrophes.
_GROUPING = r"[\s\u00a0\u202f']"


def _key(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _parse_dates(values: pd.Series | pd.Index, ticker: str) -> pd.DatetimeIndex:
    """Dates as exchange-local wall-clock times, with no time zone."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = pd.DatetimeIndex(values)
        return dates.tz_localize(None) if dates.tz is not None else dates
    text = pd.Series(values, dtype="string").str.strip()
    # Offsets change at daylight saving time; converting to UTC would shift dates.
    local = text.str.replace(_OFFSET, r"\1", regex=True)
    for fmt in ("ISO8601", "%m/%d/%Y", "%d.%m.%Y"):
        parsed = pd.to_datetime(local, format=fmt, errors="coerce")
        if parsed.notna().all():
            return pd.DatetimeIndex(parsed)
    bad = text[pd.to_datetime(local, format="ISO8601", errors="coerce").isna()].iloc[0]
    raise DataError(
        f"{ticker}: unparseable date {bad!r} (use YYYY-MM-DD, MM/DD/YYYY or DD.MM.YYYY)"
    )


def _head_line(path: Path) -> str:
    """The first non-blank line of a (possibly compressed) text file, or ''."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="replace").lstrip("\ufeff")
    return next((line for line in head.splitlines() if line.strip()), "")


def _delimiter(header: str) -> str:
    """The delimiter the header line uses most (quoted names ignored); comma by default."""
    bare = re.sub(r'"[^"]*"', "", header)
    best = max(_DELIMITERS, key=bare.count)  # ties go to the first, the comma
    return best if bare.count(best) else ","


def _read_raw(path: Path, ticker: str) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
        if suffix in _SPREADSHEETS or (suffix != ".zip" and magic.startswith(_SPREADSHEET_MAGIC)):
            raise DataError(
                f"{ticker}: {path.name} is a spreadsheet, a format fcast does not read; "
                "save it as CSV or Parquet"
            )
        if suffix in (".parquet", ".pq") or magic.startswith(b"PAR1"):
            return pd.read_parquet(path)
        header = "" if suffix == ".zip" else _head_line(path)
        hint = re.fullmatch(r"\s*sep=(.)\s*", header)  # Excel's "sep=;" first line
        sep = hint.group(1) if hint else _delimiter(header)
        # All text: numbers are parsed once their decimal mark is known.
        raw = pd.read_csv(path, sep=sep, dtype=str, skiprows=1 if hint else None)
        raw.attrs["sep"] = sep
        return raw
    except FileNotFoundError:
        raise DataError(f"{ticker}: file not found: {path}") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError,
            EOFError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{ticker}: cannot read {path.name}: {first}") from exc


def _decimal_mark(cells: pd.Series, ticker: str, comma_by_default: bool) -> str:
    """"." or "," as the file's numbers show it; DataError when they show both."""
    text = pd.Series(cells.dropna().unique(), dtype="string").str.replace(_GROUPING, "", regex=True)
    clear = text[~text.str.fullmatch(_AMBIGUOUS)]
    point = clear[clear.str.fullmatch(_POINT)]
    comma = clear[clear.str.fullmatch(_COMMA)]
    if len(point) and len(comma):
        raise DataError(
            f"{ticker}: numbers mix decimal commas ({comma.iloc[0]!r}) and decimal points "
            f"({point.iloc[0]!r}); use one decimal mark throughout"
        )
    if len(comma):
        return ","
    if len(point):
        return "."
    # Only "1,234"-like cells: ";" files come from locales that write decimal commas.
    return "," if comma_by_default else "."


def normalize_columns(raw: pd.DataFrame, ticker: str, sep: str | None = None) -> pd.DataFrame:
    """Map a vendor's columns onto the canonical names and a sorted date index.

    Timestamps keep their exchange-local time of day (validate_bars turns them into
    dates). Numbers stored as text may use either decimal mark, read from the file
    itself; `sep` is the file's delimiter, the tie-breaker when no number settles it.
    """
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
    texts = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    if texts:
        cells = pd.concat([out[c].astype("string").str.strip() for c in texts])
        mark = _decimal_mark(cells, ticker, comma_by_default=sep == ";")
    for col in texts:
        raw_values = out[col]
        # The other mark is a thousands separator ("1,234,567" or "1.234.567").
        text = raw_values.astype("string").str.strip().str.replace(_GROUPING, "", regex=True)
        if mark == ",":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            text = text.str.replace(",", "", regex=False)
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


def daily(frame: pd.DataFrame, ticker: str, *, aggregate: bool = False) -> pd.DataFrame:
    """`frame` with one bar per exchange-local date; intraday bars only when `aggregate`.

    Aggregation per date: open first, high max, low min, close last, volume summed.
    """
    days = frame.index.normalize()
    if days.hasnans or not days.has_duplicates or (frame.index == days).all():
        return frame  # daily; missing or repeated dates are validate_bars' to report
    if not aggregate:
        counts = days.value_counts(sort=False)
        day = counts.index[(counts > 1).to_numpy().argmax()]
        raise DataError(
            f"{ticker}: intraday data ({counts[day]} bars on {day.date()}); fcast works on daily "
            f"bars: import it with `fcast data import {ticker} FILE --aggregate-daily` to "
            "combine them into one bar per day"
        )
    groups = frame.groupby(days, sort=True)
    out = pd.DataFrame({
        "open": groups["open"].first(),
        "high": groups["high"].max(),
        "low": groups["low"].min(),
        "close": groups["close"].last(),
        "volume": groups["volume"].sum(min_count=1),  # a day with no volume stays empty
    })
    if "adj_close" in frame.columns:
        out["adj_close"] = groups["adj_close"].last()
    out.index.name = "date"
    return out


def read_bars_file(path: str | Path, ticker: str, *, aggregate_daily: bool = False) -> pd.DataFrame:
    """Read, normalize and validate a CSV or Parquet file of daily bars.

    Intraday bars are refused unless `aggregate_daily`; suspicious but valid data (see
    forecast.data.checks) is logged as warnings.
    """
    from forecast.data.checks import warn_suspicious

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{ticker}: {path} is a folder, not a file")
    raw = _read_raw(path, ticker)
    if raw.empty:
        raise DataError(f"{ticker}: {path.name} has no rows")
    frame = bars_from_raw(raw, ticker, source=f"file:{path.name}", sep=raw.attrs.get("sep"),
                          aggregate_daily=aggregate_daily)
    warn_suspicious(frame, ticker)
    return frame


def bars_from_raw(raw: pd.DataFrame, ticker: str, *, source: str, sep: str | None = None,
                  aggregate_daily: bool = False) -> pd.DataFrame:
    """A file's rows (as read, with a vendor's column spelling) as validated daily bars: the
    one path of `fcast data import` and `fcast universe import`."""
    frame = normalize_columns(raw, ticker, sep=sep)
    if {"open", "high", "low", "close", "volume"} <= set(frame.columns):
        frame = daily(frame, ticker, aggregate=aggregate_daily)
    return validate_bars(frame, ticker, source=source)
