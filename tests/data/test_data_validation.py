"""Every validation rule of the canonical bar frame, and every bad file input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.data.files import read_bars_file
from forecast.data.frame import adjusted, validate_bars
from forecast.data.synthetic import random_walk_bars
from forecast.errors import DataError


@pytest.fixture
def bars():
    return random_walk_bars(30, seed=3)


def test_valid_frame_passes_and_is_canonical(bars):
    out = validate_bars(bars, "SYN")
    assert out.index.name == "date" and out.index.is_monotonic_increasing
    assert out.index.tz is None and out.index.is_unique
    assert list(out.columns) == ["open", "high", "low", "close", "volume"]
    assert all(dt == np.float64 for dt in out.dtypes)
    assert out.attrs["ticker"] == "SYN"


def test_empty_frame_rejected():
    with pytest.raises(DataError, match="no rows"):
        validate_bars(pd.DataFrame(), "X")


def test_missing_column_rejected(bars):
    with pytest.raises(DataError, match="missing column.*volume"):
        validate_bars(bars.drop(columns="volume"), "X")


def test_duplicate_date_named(bars):
    dup = pd.concat([bars.iloc[:5], bars.iloc[4:5], bars.iloc[5:]])
    day = bars.index[4].date()
    with pytest.raises(DataError, match=f"X: duplicate date {day}"):
        validate_bars(dup, "X")


def test_unsorted_dates_rejected(bars):
    shuffled = bars.iloc[[0, 2, 1, *range(3, len(bars))]]
    with pytest.raises(DataError, match="not sorted"):
        validate_bars(shuffled, "X")


def test_negative_price_named(bars):
    bad = bars.copy()
    bad.iloc[7, bad.columns.get_loc("low")] = -1.0
    with pytest.raises(DataError, match=f"price <= 0 on {bars.index[7].date()}"):
        validate_bars(bad, "X")


def test_high_below_low_rejected(bars):
    bad = bars.copy()
    bad.iloc[3, bad.columns.get_loc("high")] = bad["low"].iloc[3] * 0.9
    with pytest.raises(DataError, match="high below max\\(open, close\\)"):
        validate_bars(bad, "X")


def test_low_above_body_rejected(bars):
    bad = bars.copy()
    bad.iloc[3, bad.columns.get_loc("low")] = bad["high"].iloc[3]
    with pytest.raises(DataError, match="low above min\\(open, close\\)"):
        validate_bars(bad, "X")


def test_negative_volume_rejected(bars):
    bad = bars.copy()
    bad.iloc[2, bad.columns.get_loc("volume")] = -5
    with pytest.raises(DataError, match="negative volume"):
        validate_bars(bad, "X")


def test_partial_nan_row_rejected(bars):
    bad = bars.copy()
    bad.iloc[5, bad.columns.get_loc("close")] = np.nan
    with pytest.raises(DataError, match=f"missing open/high/low/close on {bars.index[5].date()}"):
        validate_bars(bad, "X")


def test_all_empty_rows_dropped_and_counted(bars):
    holey = bars.copy()
    holey.iloc[[4, 9]] = np.nan
    out = validate_bars(holey, "X")
    assert len(out) == len(bars) - 2
    assert out.attrs["dropped_empty_rows"] == 2


def test_adjusted_rescales_ohlc_by_adj_close(bars):
    frame = bars.copy()
    frame["adj_close"] = frame["close"] * np.linspace(0.5, 1.0, len(frame))
    out = adjusted(validate_bars(frame, "X"))
    assert "adj_close" not in out.columns
    np.testing.assert_allclose(out["close"], frame["adj_close"])
    np.testing.assert_allclose(out["open"] / out["close"], frame["open"] / frame["close"])


def _write_csv(tmp_path, text, name="bars.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_variant_headers_and_extra_columns(tmp_path):
    path = _write_csv(
        tmp_path,
        "Datetime,OPEN,High,low,Close,Adj Close,Volume,OpenInt\n"
        "2020-01-03,10,11,9,10.5,10.5,100,0\n"
        "2020-01-02,10,11,9,10,10,100,0\n",
    )
    out = read_bars_file(path, "X")
    assert list(out.index.strftime("%Y-%m-%d")) == ["2020-01-02", "2020-01-03"]
    assert "openint" not in out.columns and "OpenInt" not in out.columns


def test_csv_with_thousands_separators(tmp_path):
    path = _write_csv(
        tmp_path, 'Date,Open,High,Low,Close,Volume\n2020-01-02,"1,001.5","1,002",1000,1001,"1,234,567"\n'
    )
    out = read_bars_file(path, "X")
    assert out["volume"].iloc[0] == 1_234_567 and out["open"].iloc[0] == 1001.5


def test_csv_with_us_dates(tmp_path):
    path = _write_csv(tmp_path, "Date,Open,High,Low,Close,Volume\n01/02/2020,1,2,1,2,5\n")
    assert read_bars_file(path, "X").index[0] == pd.Timestamp("2020-01-02")


def test_csv_with_unnamed_date_index(tmp_path):
    frame = random_walk_bars(5).rename(columns=str.title)
    frame.index.name = None
    path = tmp_path / "x.csv"
    frame.to_csv(path)
    assert len(read_bars_file(path, "X")) == 5


def test_parquet_round_trip(tmp_path):
    frame = random_walk_bars(20)
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    out = read_bars_file(path, "X")
    np.testing.assert_allclose(out["close"], frame["close"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "cannot read|no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00garbage\x00\x01", "cannot read|no date column"),
        (b"Date,Open,High,Low\n2020-01-02,1,2,1\n", "missing column"),
        (b"Date,Open,High,Low,Close,Volume\nnot-a-date,1,2,1,2,5\n", "unparseable date"),
        (b"Price,Open,High,Low,Close,Volume\n1,1,2,1,2,5\n", "no date column"),
        (
            b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,1,2,5\n2020-01-02,1,2,1,2,5\n",
            "duplicate date 2020-01-02",
        ),
        (b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,1,-2,5\n", "price <= 0"),
        (b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,0.5,1,1,5\n", "high below"),
        (b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,1,abc,5\n", "close is not a number on 2020-01-02"),
        (b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,1,2,lots\n", "volume is not a number"),
    ],
)
def test_bad_files_raise_one_clear_data_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_bars_file(path, "BAD")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("BAD")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_bars_file(tmp_path / "nope.csv", "X")
