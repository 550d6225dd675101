"""Importing real-world files: decimal commas, delimiters, intraday and zoned timestamps,
suspicious data, replacing a stored history, and the messages when something fails."""

from __future__ import annotations

import logging
import math
import os
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_run import run

from forecast.data import yahoo
from forecast.data.checks import suspicious
from forecast.data.files import read_bars_file
from forecast.data.frame import validate_bars
from forecast.data.store import STALE_TMP_SECONDS, Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import DataError, StoreError

HEADER = ("Date", "Open", "High", "Low", "Close", "Volume")




def write_rows(tmp_path, rows, sep=",", name="bars.csv", header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join(sep.join(r) for r in [header, *rows]) + "\n")
    return path


def bars_csv(tmp_path, frame, name="bars.csv"):
    out = frame.rename(columns=str.title)
    out.index.name = "Date"
    path = tmp_path / name
    out.to_csv(path)
    return path


# --- 1. decimal commas -------------------------------------------------------------


def european(value: float, decimals: int) -> str:
    """`value` as a European spreadsheet writes it: "1.234,56" (written by hand here)."""
    whole, frac = f"{value:.{decimals}f}".split(".") if decimals else (f"{value:.0f}", "")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    text = ".".join([whole, *groups])
    return f"{text},{frac}" if decimals else text


@pytest.mark.parametrize("level", [174.0, 2345.0])  # with and without thousands separators
def test_semicolon_file_with_decimal_commas_reads_exact_values(tmp_path, level):
    bars = random_walk_bars(40, seed=11, start_price=level)
    rows = [
        [str(d.date()), *(european(r[c], 2) for c in ("open", "high", "low", "close")),
         european(r["volume"], 0)]
        for d, r in bars.iterrows()
    ]
    out = read_bars_file(write_rows(tmp_path, rows, sep=";"), "X")
    for col in ("open", "high", "low", "close"):
        np.testing.assert_allclose(out[col], bars[col].round(2), rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["volume"], bars["volume"].round(0))


def test_quoted_decimal_commas_in_a_comma_file_are_not_thousands(tmp_path):
    rows = [["2020-01-02", '"174,48"', '"175,10"', '"173,90"', '"174,50"', "1000"]]
    out = read_bars_file(write_rows(tmp_path, rows), "X")
    assert out["open"].iloc[0] == 174.48 and out["close"].iloc[0] == 174.5


def test_decimal_commas_with_a_varying_number_of_decimals(tmp_path):
    rows = [["2020-01-02", "174,48", "175,1", "173,9", "174,5", "1000"],
            ["2020-01-03", "174,5", "176", "174", "175,8", "1200"]]
    out = read_bars_file(write_rows(tmp_path, rows, sep=";"), "X")
    assert out["low"].tolist() == [173.9, 174.0] and out["high"].tolist() == [175.1, 176.0]


def test_ambiguous_separators_follow_the_files_decimal_mark(tmp_path):
    # "1.234" is a thousands group once "174,5" shows the decimal mark is a comma.
    rows = [["2020-01-02", "174,5", "175", "174", "174,5", "1.234"]]
    out = read_bars_file(write_rows(tmp_path, rows, sep=";"), "X")
    assert out["volume"].iloc[0] == 1234 and out["open"].iloc[0] == 174.5
    # ... and "1,234" is one in a comma file whose prices use decimal points.
    rows = [["2020-01-02", "174.5", "175", "174", "174.5", '"1,234"']]
    out = read_bars_file(write_rows(tmp_path, rows, name="us.csv"), "X")
    assert out["volume"].iloc[0] == 1234


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["0.575", "0.59", "0.57", "0.582"], [0.575, 0.59, 0.57, 0.582]),  # a zero leads no group
        (["0,575", "0,59", "0,57", "0,582"], [0.575, 0.59, 0.57, 0.582]),
        (["1.5", "2", "1", "1.75"], [1.5, 2, 1, 1.75]),
    ],
)
@pytest.mark.parametrize("volume", ["1.5e+06", "1,5E+06"])
def test_small_prices_and_scientific_volumes(tmp_path, cells, expected, volume):
    if ("," in volume) != ("," in "".join(cells)):
        expected = None  # one decimal mark in the prices, the other in the volume
    rows = [["2020-01-02", *(f'"{c}"' for c in cells), f'"{volume}"']]
    path = write_rows(tmp_path, rows)
    if expected is None:
        with pytest.raises(DataError, match="mix decimal commas"):
            read_bars_file(path, "X")
        return
    out = read_bars_file(path, "X")
    assert out.iloc[0, :4].tolist() == expected and out["volume"].iloc[0] == 1_500_000


def test_mixed_decimal_marks_are_refused_by_name(tmp_path):
    rows = [["2020-01-02", "174,48", "175.10", "173,90", "174,50", "1000"]]
    with pytest.raises(DataError, match="mix decimal commas .*'174,48'.* decimal points .*'175.10'"):
        read_bars_file(write_rows(tmp_path, rows, sep=";"), "X")


def test_european_dates(tmp_path):
    rows = [["03.01.2020", "1", "2", "1", "2", "5"], ["02.01.2020", "1", "2", "1", "2", "5"]]
    out = read_bars_file(write_rows(tmp_path, rows, sep=";"), "X")
    assert list(out.index) == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]


def test_cli_imports_decimal_comma_file_at_the_right_scale(capsys, tmp_path):
    rows = [["2020-01-02", "174,48", "175,10", "173,90", "174,50", "1000"]]
    code, _, err = run(capsys, "data", "import", "X", str(write_rows(tmp_path, rows, sep=";")))
    assert code == 0, err
    assert Store().read("X")["close"].iloc[0] == 174.5


# --- 2. delimiters -----------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_delimiter_is_detected(tmp_path, sep):
    bars = random_walk_bars(20, seed=5)
    frame = bars.rename(columns=str.title)
    frame.index.name = "Date"
    path = tmp_path / "bars.txt"
    frame.to_csv(path, sep=sep)
    out = read_bars_file(path, "X")
    # pandas writes floats with repr, so the values come back exactly.
    pd.testing.assert_frame_equal(out, bars, check_freq=False)


def test_excel_sep_hint_line(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text("sep=;\nDate;Open;High;Low;Close;Volume\n2020-01-02;1,5;2;1;2;5\n")
    assert read_bars_file(path, "X")["open"].iloc[0] == 1.5


# --- 3. intraday timestamps --------------------------------------------------------

INTRADAY = [
    ["2020-01-02 09:30:00", "10", "11", "9", "10.5", "100"],
    ["2020-01-02 10:30:00", "10.5", "12", "10", "11", "150"],
    ["2020-01-02 15:30:00", "11", "11.2", "8.5", "9", "70"],
    ["2020-01-03 09:30:00", "11", "11.5", "10", "10.5", "100"],
]


def test_intraday_file_is_refused_and_store_untouched(capsys, tmp_path):
    path = write_rows(tmp_path, INTRADAY, header=("Datetime", *HEADER[1:]))
    code, _, err = run(capsys, "data", "import", "X", str(path))
    assert code == 1 and err.count("\n") == 1
    assert "intraday" in err and "3 bars on 2020-01-02" in err and "--aggregate-daily" in err
    assert not Store().has("X")


def test_aggregate_daily_builds_daily_ohlcv(capsys, tmp_path):
    path = write_rows(tmp_path, INTRADAY, header=("Datetime", *HEADER[1:]))
    code, _, err = run(capsys, "data", "import", "X", str(path), "--aggregate-daily")
    assert code == 0, err
    stored = Store().read("X")
    # By hand from the rows above, per date: first open, max high, min low, last close, sum.
    by_day: dict[str, list[list[float]]] = {}
    for stamp, *values in INTRADAY:
        by_day.setdefault(stamp[:10], []).append([float(v) for v in values])
    expected = {
        day: [rows[0][0], max(r[1] for r in rows), min(r[2] for r in rows), rows[-1][3],
              sum(r[4] for r in rows)]
        for day, rows in by_day.items()
    }
    assert [str(d.date()) for d in stored.index] == list(expected)
    assert stored.to_numpy().tolist() == list(expected.values())


def test_aggregation_follows_time_order_not_file_order(tmp_path):
    rows = list(reversed(INTRADAY))  # newest first
    path = write_rows(tmp_path, rows, header=("Datetime", *HEADER[1:]))
    out = read_bars_file(path, "X", aggregate_daily=True)
    assert out.loc["2020-01-02", "open"] == 10 and out.loc["2020-01-02", "close"] == 9


def test_validation_refuses_two_bars_on_one_date():
    bars = random_walk_bars(5)
    stamps = bars.index.tolist()
    stamps[1] = stamps[0] + pd.Timedelta(hours=14)  # same date, another time
    bars.index = pd.DatetimeIndex(stamps)
    with pytest.raises(DataError, match=f"several bars .* on {stamps[0].date()}"):
        validate_bars(bars, "X")


def test_daily_bars_stamped_with_a_time_keep_their_date(tmp_path):
    rows = [["2020-01-02 16:00:00", "1", "2", "1", "2", "5"],
            ["2020-01-03 16:00:00", "1", "2", "1", "2", "5"]]
    out = read_bars_file(write_rows(tmp_path, rows), "X")
    assert list(out.index) == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]


# --- 4. time zones -----------------------------------------------------------------


def test_offsets_across_a_dst_change_give_local_dates(tmp_path):
    rows = [["2020-03-06 09:30:00-05:00", "1", "2", "1", "2", "5"],
            ["2020-03-09 09:30:00-04:00", "1", "2", "1", "2", "5"]]
    out = read_bars_file(write_rows(tmp_path, rows, header=("Datetime", *HEADER[1:])), "X")
    assert [str(d.date()) for d in out.index] == ["2020-03-06", "2020-03-09"]


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2020-01-02T00:00:00+01:00", "2020-01-02"),  # in UTC: 2020-01-01 23:00
        ("2020-01-02 16:00:00-05:00", "2020-01-02"),
        ("2020-01-02 20:00:00-05:00", "2020-01-02"),  # in UTC: 2020-01-03 01:00
        ("2020-01-02T00:00:00Z", "2020-01-02"),
    ],
)
def test_zoned_daily_bar_keeps_its_local_date(tmp_path, stamp, day):
    rows = [[stamp, "1", "2", "1", "2", "5"]]
    out = read_bars_file(write_rows(tmp_path, rows), "X")
    assert str(out.index[0].date()) == day and out.index.tz is None


def test_parquet_with_zoned_timestamps_gives_local_dates(tmp_path):
    bars = random_walk_bars(10, seed=2)
    zoned = bars.copy()
    # 01:00 in Tokyo is 16:00 UTC the day before.
    zoned.index = (bars.index + pd.Timedelta(hours=1)).tz_localize("Asia/Tokyo")
    path = tmp_path / "bars.parquet"
    zoned.to_parquet(path)
    out = read_bars_file(path, "X")
    assert list(out.index) == list(bars.index)


# --- 5. suspicious data ------------------------------------------------------------


@pytest.fixture
def caught(caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="fcast.data")
    # The CLI, when a test ran it before, stops fcast's records from reaching caplog.
    monkeypatch.setattr(logging.getLogger("fcast"), "propagate", True)
    return caplog


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fcast.data"]


def test_clean_file_imports_without_warnings(tmp_path, caught):
    read_bars_file(bars_csv(tmp_path, random_walk_bars(300, seed=4)), "X")
    assert warnings_of(caught) == []


def test_unadjusted_split_is_one_warning_naming_the_date(tmp_path, caught):
    bars = random_walk_bars(200, seed=4)
    bars.iloc[120:, :4] /= 7  # a 7:1 split left unadjusted: -86%
    read_bars_file(bars_csv(tmp_path, bars), "X")
    [line] = warnings_of(caught)
    expected = math.expm1(np.log(bars["close"].iloc[120] / bars["close"].iloc[119]))
    assert f"{bars.index[120].date()} ({expected:+.0%})" in line and "split" in line


def test_adj_close_makes_a_split_unsuspicious(tmp_path, caught):
    bars = random_walk_bars(200, seed=4)
    bars["adj_close"] = bars["close"].copy()
    bars.iloc[:120, :4] *= 7  # prices before a 7:1 split, adjusted close continuous
    read_bars_file(bars_csv(tmp_path, bars.rename(columns={"adj_close": "Adj Close"})), "X")
    assert warnings_of(caught) == []


def test_each_kind_warns_once_with_a_few_dates(tmp_path, caught):
    bars = random_walk_bars(400, seed=6)
    today = pd.Timestamp.today().normalize()
    # The Saturdays after five different Fridays, and two weekdays after today.
    weekend = [d + pd.Timedelta(days=5 - d.dayofweek) for d in bars.index[100:125:5]]
    future = [today + pd.offsets.BDay(300), today + pd.offsets.BDay(301)]
    spikes = bars.index[[200, 250]]
    gap_end = bars.index[300]
    bars.loc[spikes, "volume"] *= 1000
    frame = bars.drop(index=bars.index[260:300])  # 40 bars (56 days) missing
    # Each added bar repeats the bar before it: no price move, no volume spike.
    extra = pd.DataFrame([frame.loc[:d].iloc[-1] for d in [*weekend, *future]],
                         index=pd.DatetimeIndex([*weekend, *future]))
    frame = pd.concat([frame, extra]).sort_index()
    read_bars_file(bars_csv(tmp_path, frame), "X")
    lines = warnings_of(caught)
    assert len(lines) == 4  # weekend, future, gap, volume: each once
    text = "\n".join(lines)
    assert all(line.startswith("warning: X: ") for line in lines)
    saturdays = [f"{d.date()} (Sat)" for d in weekend]
    assert ", ".join(saturdays[:3]) + " and 2 more" in text
    assert all(str(d.date()) in text for d in future)
    gap_start = frame.index[frame.index.get_loc(gap_end) - 1]
    assert f"{gap_start.date()} to {gap_end.date()} ({(gap_end - gap_start).days} days)" in text
    assert all(str(d.date()) in text for d in spikes)


def test_volume_over_a_trillion_is_absurd():
    bars = random_walk_bars(30)
    bars.iloc[3, bars.columns.get_loc("volume")] = 2e12
    [line] = suspicious(bars, "X")
    assert "absurd volume" in line and str(bars.index[3].date()) in line


def test_cli_prints_one_warning_line_per_kind(capsys, tmp_path):
    bars = random_walk_bars(200, seed=4)
    bars.iloc[120:, :4] /= 7
    code, _, err = run(capsys, "data", "import", "X", str(bars_csv(tmp_path, bars)))
    assert code == 0
    assert err.count("warning: X: 1 one-day close move") == 1


def test_data_check_on_stored_data(capsys):
    store = Store()
    store.write(random_walk_bars(300, seed=4), "GOOD")
    bad = random_walk_bars(300, seed=4)
    bad.iloc[150:, :4] /= 7
    store.write(bad, "BAD")
    code, out, err = run(capsys, "data", "check", "good", "BAD")
    assert code == 0, err
    assert "GOOD: no problems found" in out
    assert "warning: BAD: 1 one-day close move" in out and str(bad.index[150].date()) in out


def test_data_check_unknown_ticker_is_one_error_line(capsys):
    Store().write(random_walk_bars(50), "GOOD")
    code, out, err = run(capsys, "data", "check", "NOSUCH", "GOOD")
    assert code == 1 and "GOOD: no problems found" in out
    assert err.startswith("error: NOSUCH: not in the store") and err.count("\n") == 1


# --- 6. replacing a stored history -------------------------------------------------


def test_import_that_would_shrink_history_is_refused(capsys, tmp_path):
    long = random_walk_bars(300, seed=3)
    assert run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long, "long.csv")))[0] == 0
    before = Store().path("X").read_bytes()
    short = bars_csv(tmp_path, long.iloc[-100:], "short.csv")
    code, _, err = run(capsys, "data", "import", "X", str(short))
    assert code == 1 and err.count("\n") == 1 and "--replace" in err
    assert f"300 bars {long.index[0].date()} to {long.index[-1].date()}" in err
    assert f"100 bars {long.index[-100].date()} to {long.index[-1].date()}" in err
    assert Store().path("X").read_bytes() == before


@pytest.mark.parametrize("cut", [slice(0, 250), slice(50, 300)])  # ends earlier, starts later
def test_a_shorter_span_is_refused_even_with_as_many_rows(capsys, tmp_path, cut):
    long = random_walk_bars(300, seed=3)
    run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long.iloc[25:275], "a.csv")))
    before = Store().path("X").read_bytes()
    code, _, err = run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long.iloc[cut])))
    assert code == 1 and "would lose stored history" in err
    assert Store().path("X").read_bytes() == before


def test_replace_option_replaces_and_reports(capsys, tmp_path):
    long = random_walk_bars(300, seed=3)
    run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long, "long.csv")))
    short = bars_csv(tmp_path, long.iloc[-100:], "short.csv")
    code, out, _ = run(capsys, "data", "import", "X", str(short), "--replace")
    assert code == 0 and len(Store().read("X")) == 100
    assert (f"replaced 300 bars {long.index[0].date()} to {long.index[-1].date()} (file:long.csv) "
            f"with 100 bars {long.index[-100].date()}") in out


def test_growing_history_is_replaced_with_a_report(capsys, tmp_path):
    long = random_walk_bars(300, seed=3)
    run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long.iloc[:200], "a.csv")))
    code, out, _ = run(capsys, "data", "import", "X", str(bars_csv(tmp_path, long, "b.csv")))
    assert code == 0 and "replaced 200 bars" in out and "with 300 bars" in out
    assert len(Store().read("X")) == 300


def test_unreadable_stored_file_needs_replace(capsys, tmp_path):
    Store().write(random_walk_bars(50), "X")
    Store().path("X").write_bytes(b"not parquet")
    path = str(bars_csv(tmp_path, random_walk_bars(20)))
    code, _, err = run(capsys, "data", "import", "X", path)
    assert code == 1 and "unreadable" in err and "--replace" in err
    assert Store().path("X").read_bytes() == b"not parquet"
    assert run(capsys, "data", "import", "X", path, "--replace")[0] == 0
    assert len(Store().read("X")) == 20


# --- 7. messages -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bars.xlsx", "bars.csv"])  # an Excel file, however named
def test_spreadsheet_is_named_as_unsupported(capsys, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100)  # a zip container
    code, _, err = run(capsys, "data", "import", "X", str(path))
    assert code == 1 and err.count("\n") == 1
    assert "spreadsheet" in err and "CSV or Parquet" in err and "no rows" not in err


def test_read_only_store_is_one_store_error_line(capsys, tmp_path, monkeypatch):
    store = Store()
    store.write(random_walk_bars(20), "X")
    before = store.path("X").read_bytes()
    os.chmod(store.bars_dir, 0o555)
    try:
        if os.access(store.bars_dir, os.W_OK):  # root ignores the mode: fail as others would
            def denied(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", denied)
        with pytest.raises(StoreError, match=f"cannot write to the store directory {store.bars_dir}"):
            store.write(random_walk_bars(30), "X")
        path = str(bars_csv(tmp_path, random_walk_bars(30)))
        code, _, err = run(capsys, "data", "import", "X", path)
    finally:
        os.chmod(store.bars_dir, 0o755)
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err
    assert err.startswith("error: X: cannot write to the store directory")
    assert store.path("X").read_bytes() == before


def test_stale_temporary_files_are_removed_on_the_next_write():
    store = Store()
    store.write(random_walk_bars(20), "X")
    old = store.bars_dir / ".X.abcd1234.tmp"  # an older fcast's name, an hour old
    fresh = store.bars_dir / ".Y.efgh5678.tmp"  # maybe a write in progress: kept
    dead = store.bars_dir / f".X.{2**22 + 12345}.ijkl9012.tmp"  # pid above Linux's maximum
    live = store.bars_dir / f".Z.{os.getpid()}.mnop3456.tmp"  # this process writing
    for path in (old, fresh, dead, live):
        path.write_bytes(b"partial")
    hour_ago = os.path.getmtime(old) - STALE_TMP_SECONDS - 60
    os.utime(old, (hour_ago, hour_ago))
    store.write(random_walk_bars(25), "X")
    assert not old.exists() and not dead.exists()
    assert fresh.exists() and live.exists()
    assert len(store.read("X")) == 25


def test_store_validation_error_names_the_ticker_once():
    store = Store()
    store.write(random_walk_bars(20), "X")
    table = pq.read_table(store.path("X"))
    frame = table.to_pandas()
    frame.iloc[3, frame.columns.get_loc("low")] = -1.0  # written behind the store's back
    damaged = pa.Table.from_pandas(frame).replace_schema_metadata(table.schema.metadata)
    pq.write_table(damaged, store.path("X"))
    with pytest.raises(StoreError) as info:
        store.read("X")
    assert str(info.value).count("X: ") == 1 and "price <= 0" in str(info.value)


@pytest.fixture
def yahoo_says_delisted(monkeypatch):
    """A reachable Yahoo whose yfinance raises the way it does for unknown symbols."""
    def download(ticker, start, end):
        raise RuntimeError(f"${ticker}: possibly delisted; no timezone found")

    monkeypatch.setattr(yahoo, "_download", download)
    monkeypatch.setattr(yahoo, "yahoo_reachable", lambda: True)


@pytest.mark.parametrize(
    "command",
    [["data", "fetch", "nosuch"], ["data", "show", "NOSUCH"],
     ["data", "show", "NOSUCH", "--source", "yahoo"]],
)
def test_error_lines_name_the_ticker_once(capsys, yahoo_says_delisted, command):
    code, _, err = run(capsys, *command)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: NOSUCH: ") and err.count("NOSUCH: ") == 1
    assert "possibly delisted" in err


def test_missing_file_names_the_ticker_once(capsys, tmp_path):
    code, _, err = run(capsys, "data", "import", "NOSUCH", str(tmp_path / "missing.csv"))
    assert code == 1 and err.count("NOSUCH") == 1 and "file not found" in err
