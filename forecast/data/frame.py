"""The canonical daily-bar frame and the one validation every load and import goes through."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.data.stamp import is_stamped, stamp
from forecast.errors import ConfigError, DataError

PRICE_COLUMNS = ("open", "high", "low", "close")
COLUMNS = (*PRICE_COLUMNS, "volume")
OPTIONAL_COLUMNS = ("adj_close",)


def _where(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> str:
    return str(pd.Timestamp(frame.index[np.flatnonzero(np.asarray(mask))[0]]).date())


def validate_bars(frame: pd.DataFrame, ticker: str, source: str | None = None) -> pd.DataFrame:
    """Return `frame` as a checked canonical bar frame, or raise `DataError`.

    Rows that are entirely empty (some vendors emit them on holidays) are dropped and
    counted in ``attrs["dropped_empty_rows"]``; any other gap or inconsistency is an error
    naming the ticker, the date and the rule broken. The result is stamped as validated
    (forecast.data.stamp), so `ensure_bars` passes it and its row slices on unchecked.
    """
    return _validate(frame, ticker, source)


def is_validated(frame) -> bool:
    """Whether `frame` is, or is a row slice of, unmodified `validate_bars` output."""
    if not isinstance(frame, pd.DataFrame):
        return False
    return is_stamped(frame, [*COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in frame.columns)])


def ensure_bars(frame: pd.DataFrame, ticker: str | None = None, source: str | None = None) -> pd.DataFrame:
    """`frame` itself when already validated, else `validate_bars(frame)`: the one check
    for bars that did not come through a loader (a hand-made frame, a modified one)."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"bars must be a pandas DataFrame, got {type(frame).__name__}")
    if is_validated(frame):
        return frame
    return validate_bars(frame, ticker or str(frame.attrs.get("ticker", "bars")), source)


def _validate(frame: pd.DataFrame, ticker: str, source: str | None) -> pd.DataFrame:
    if frame is None or len(frame) == 0:
        raise DataError(f"{ticker}: no rows of data")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{ticker}: missing column(s) {', '.join(missing)}")
    keep = [*COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in frame.columns)]
    out = frame.loc[:, keep].copy()
    if not isinstance(out.index, pd.DatetimeIndex):
        raise DataError(f"{ticker}: the index is not made of dates")
    if out.index.tz is not None:
        out.index = out.index.tz_localize(None)
    outside = (out.index < pd.Timestamp.min) | (out.index > pd.Timestamp.max)
    if outside.any():
        raise DataError(f"{ticker}: date {out.index[outside][0].date()} is outside {EARLIEST_DATE.date()} to "
                        f"{LATEST_DATE.date()}, the dates fcast can represent")
    out.index = out.index.astype("datetime64[ns]")
    out.index.name = "date"
    try:
        out = out.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{ticker}: non-numeric values in the price or volume columns") from exc

    empty = out.isna().all(axis=1)
    dropped = int(empty.sum())
    out = out.loc[~empty]
    if len(out) == 0:
        raise DataError(f"{ticker}: every row is empty")
    if out.index.hasnans:
        raise DataError(f"{ticker}: a row has no date")
    # A bar's date is its exchange-local date: a time of day (16:00, say) is dropped, and
    # two bars on one date (intraday data) break the one-bar-per-date rule.
    days = out.index.normalize()
    dup = days.duplicated()
    if dup.any():
        what = "duplicate date" if (out.index == days).all() else "several bars (intraday?) on"
        raise DataError(f"{ticker}: {what} {_where(out, dup)}; fcast needs one bar per date")
    out.index = pd.DatetimeIndex(days, name="date")
    if not out.index.is_monotonic_increasing:
        step_back = np.r_[False, np.diff(out.index.asi8) < 0]
        raise DataError(f"{ticker}: dates not sorted at {_where(out, step_back)}")
    ohlc = out.loc[:, list(PRICE_COLUMNS)]
    nan_rows = ohlc.isna().any(axis=1)
    if nan_rows.any():
        raise DataError(f"{ticker}: missing open/high/low/close on {_where(out, nan_rows)}")
    non_positive = (ohlc <= 0).any(axis=1)
    if non_positive.any():
        raise DataError(f"{ticker}: price <= 0 on {_where(out, non_positive)}")
    body_low = np.minimum(out["open"], out["close"])
    body_high = np.maximum(out["open"], out["close"])
    bad_low = out["low"] > body_low
    if bad_low.any():
        raise DataError(f"{ticker}: low above min(open, close) on {_where(out, bad_low)}")
    bad_high = out["high"] < body_high
    if bad_high.any():
        raise DataError(f"{ticker}: high below max(open, close) on {_where(out, bad_high)}")
    out["volume"] = out["volume"].fillna(0.0)
    bad_volume = out["volume"] < 0
    if bad_volume.any():
        raise DataError(f"{ticker}: negative volume on {_where(out, bad_volume)}")
    if "adj_close" in out.columns:
        adj = out["adj_close"]
        if adj.isna().any() or (adj <= 0).any() or np.allclose(adj, out["close"]):
            # An adjusted close equal to close (indices) or unusable adds nothing.
            out = out.drop(columns="adj_close")
    out.attrs = {"ticker": ticker, "source": source or frame.attrs.get("source", "unknown")}
    out.attrs["dropped_empty_rows"] = dropped
    return stamp(out)  # `out` was copied from `frame`: no caller can reach its arrays


def adjusted(frame: pd.DataFrame) -> pd.DataFrame:
    """OHLC rescaled by adj_close / close so returns include splits and dividends.

    Frames without `adj_close` are already adjusted (or need no adjustment) and are
    returned unchanged. Volume is left as traded.
    """
    if "adj_close" not in frame.columns:
        return frame
    factor = frame["adj_close"] / frame["close"]
    out = frame.drop(columns="adj_close").copy()  # own arrays, so it may be stamped
    for col in PRICE_COLUMNS:
        out[col] = frame[col] * factor
    out.attrs = dict(frame.attrs)
    # A positive factor keeps valid bars valid: no second validation needed.
    return stamp(out) if is_validated(frame) else out


# The days a nanosecond Timestamp (every bar index) can hold; pandas parses dates beyond
# them at a coarser unit, which then fails to compare with the bars in obscure ways.
EARLIEST_DATE = pd.Timestamp.min.ceil("D")
LATEST_DATE = pd.Timestamp.max.floor("D")


def parse_date(value, name: str = "date") -> pd.Timestamp | None:
    """A user-given date as a Timestamp (None stays None); ConfigError when unparseable or
    outside the dates fcast can represent (1677-09-22 to 2262-04-11)."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"invalid {name} {value!r}: use YYYY-MM-DD") from None
    if pd.isna(stamp):
        raise ConfigError(f"invalid {name} {value!r}: use YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)  # bars carry exchange-local dates, without a zone
    if stamp < pd.Timestamp.min:
        raise ConfigError(f"{name} {value} is before {EARLIEST_DATE.date()}, "
                          "the earliest date fcast can represent")
    if stamp > pd.Timestamp.max:
        raise ConfigError(f"{name} {value} is after {LATEST_DATE.date()}, "
                          "the latest date fcast can represent")
    return stamp.as_unit("ns")


def span(frame: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Rows between `start` and `end` inclusive (either may be None)."""
    start, end = parse_date(start, "date"), parse_date(end, "date")
    out = frame.loc[start:end]
    out.attrs = dict(frame.attrs)
    return out
