"""Point-in-time universe membership: who is a member on which day.

Every membership is held as intervals `ticker, start, end` (both ends included). A
membership file gives them either as `year,ticker` rows (extra columns allowed): a member
of year Y is a member on every day of calendar year Y, or as `ticker,start,end` rows (an
empty end: still a member). Whether a file's choice of members used only data known at
the time is the file's business (us_liquid's year Y comes from year Y-1's volumes); here a
day's membership reads the intervals covering that day and nothing later.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, FcastError

YEARS, INTERVALS, BARS = "years", "intervals", "bars"
# The open end of an interval ("still a member").
OPEN_END = pd.Timestamp("2262-04-11")


def _bad(path, message: str) -> ConfigError:
    return ConfigError(f"membership file {Path(path).name}: {message}")


def read_membership(path: str | Path) -> tuple[str, pd.DataFrame]:
    """(kind, intervals) from a membership file (CSV, or Parquet): kind is `years` or
    `intervals`; intervals has columns ticker, start, end (datetime64, end inclusive).
    One ConfigError line for anything malformed."""
    from forecast.data.tickers import normalize_ticker

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            parquet = handle.read(4) == b"PAR1"
        raw = pd.read_parquet(path) if parquet else pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise ConfigError(f"membership file not found: {path}") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _bad(path, f"cannot read it: {first}") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if "ticker" in raw.columns and "year" in raw.columns:
        kind = YEARS
    elif {"ticker", "start", "end"} <= set(raw.columns):
        kind = INTERVALS
    else:
        raise _bad(path, "needs the columns year,ticker or ticker,start,end "
                   f"(it has {','.join(raw.columns)})")
    if raw.empty:
        raise _bad(path, "has no rows")
    tickers = []
    for row, given in enumerate(raw["ticker"], start=2):
        try:
            tickers.append(str(normalize_ticker(str(given) if pd.notna(given) else "")))
        except FcastError as exc:
            raise _bad(path, f"row {row}: {exc}") from None
    if kind == YEARS:
        years = pd.to_numeric(raw["year"], errors="coerce")
        bad = years.isna() | (years != years.round()) | (years < 1678) | (years > 2261)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise _bad(path, f"row {row + 2}: year {raw['year'].iloc[row]!r} is not a year")
        years = years.astype(int).to_numpy()
        start = pd.to_datetime(pd.Series(years).astype(str) + "-01-01")
        end = pd.to_datetime(pd.Series(years).astype(str) + "-12-31")
    else:
        start = _dates(path, raw["start"], "start", allow_empty=False)
        end = _dates(path, raw["end"], "end", allow_empty=True).fillna(OPEN_END)
        backwards = (end < start).to_numpy()
        if backwards.any():
            row = int(np.flatnonzero(backwards)[0])
            raise _bad(path, f"row {row + 2}: end {end.iloc[row].date()} is before start "
                       f"{start.iloc[row].date()}")
    out = pd.DataFrame({"ticker": tickers, "start": start.to_numpy(), "end": end.to_numpy()})
    return kind, out.drop_duplicates().sort_values(["start", "ticker"], kind="stable").reset_index(drop=True)


def _dates(path, values: pd.Series, name: str, *, allow_empty: bool) -> pd.Series:
    empty = values.isna() | (values.astype("string").str.strip() == "")
    parsed = pd.to_datetime(values.where(~empty), format="ISO8601", errors="coerce")
    bad = parsed.isna() & ~empty if allow_empty else parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise _bad(path, f"row {row + 2}: {name} {values.iloc[row]!r} is not a date (use YYYY-MM-DD)")
    return pd.Series(parsed.dt.normalize().to_numpy(), dtype="datetime64[ns]")


def members_on(intervals: pd.DataFrame, date) -> list[str]:
    """The sorted tickers whose intervals cover `date`."""
    day = pd.Timestamp(date).normalize()
    hit = (intervals["start"] <= day) & (intervals["end"] >= day)
    return sorted(set(intervals.loc[hit, "ticker"]))


def member_mask(intervals: pd.DataFrame, dates, tickers) -> pd.DataFrame:
    """Booleans, one row per date and one column per ticker: member on that day.

    Each interval marks the dates from its start to its end, both included: a difference
    array over the date positions, summed once."""
    dates = pd.DatetimeIndex(dates)
    if not dates.is_monotonic_increasing:
        raise ValueError("member_mask needs sorted dates")
    tickers = list(tickers)
    column = {t: i for i, t in enumerate(tickers)}
    rows = intervals[intervals["ticker"].isin(column)]
    counts = np.zeros((len(dates) + 1, len(tickers)), dtype=np.int32)
    if len(rows):
        day = _ns(dates.normalize())  # one unit for all three: pandas picks any of s..ns
        first = np.searchsorted(day, _ns(rows["start"]), "left")
        past = np.searchsorted(day, _ns(rows["end"]), "right")
        col = rows["ticker"].map(column).to_numpy()
        np.add.at(counts, (first, col), 1)
        np.add.at(counts, (past, col), -1)
    covered = np.cumsum(counts[:-1], axis=0) > 0
    return pd.DataFrame(covered, index=dates, columns=pd.Index(tickers, name="ticker"))


def _ns(values) -> np.ndarray:
    return np.asarray(values).astype("datetime64[ns]").astype(np.int64)


def years_of(intervals: pd.DataFrame) -> list[int]:
    """Every calendar year some interval touches (open ends stop at the last start's year)."""
    if intervals.empty:
        return []
    last = max(intervals["start"].max(), intervals.loc[intervals["end"] < OPEN_END, "end"].max()
               if (intervals["end"] < OPEN_END).any() else intervals["start"].max())
    return list(range(intervals["start"].min().year, last.year + 1))


def members_in_year(intervals: pd.DataFrame, year: int) -> list[str]:
    """Tickers that are members on some day of calendar year `year`."""
    first, last = pd.Timestamp(f"{year}-01-01"), pd.Timestamp(f"{year}-12-31")
    hit = (intervals["start"] <= last) & (intervals["end"] >= first)
    return sorted(set(intervals.loc[hit, "ticker"]))
