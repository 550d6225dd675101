"""Stored universes: membership files, point-in-time members, the all-or-nothing import."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from forecast.data import membership as ms
from forecast.data.files import read_bars_file
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.data.universe_import import import_universe
from forecast.data.universes import UniverseStore, open_universe
from forecast.errors import ConfigError, DataError

TICKERS = ("AAA", "BBB", "CCC", "DDD")


def long_file(path, tickers=TICKERS, n=600, start="2001-01-02"):
    frames = []
    for i, ticker in enumerate(tickers):
        bars = random_walk_bars(n, seed=i, start=start).reset_index()
        bars.insert(0, "ticker", ticker)
        frames.append(bars)
    frame = pd.concat(frames, ignore_index=True)
    frame.to_parquet(path, index=False) if str(path).endswith(".parquet") else frame.to_csv(path, index=False)
    return frame


YEAR_ROWS = [(2001, "AAA"), (2001, "BBB"), (2002, "BBB"), (2002, "CCC"), (2003, "DDD"), (2003, "ZZZ")]


def year_file(path, rows=YEAR_ROWS):
    pd.DataFrame({"year": [y for y, _ in rows], "rank": range(len(rows)), "ticker": [t for _, t in rows]}
                 ).to_csv(path, index=False)
    return path


def snapshot(home):
    """Every file under `home` (lock files aside: they stay, empty) and its bytes."""
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


# --- membership files -------------------------------------------------------------------


def point_in_time_errors(mask: pd.DataFrame, rows) -> list[str]:
    """Independent check of a year membership: member on d iff (d.year, ticker) is a row."""
    wanted = set(rows)
    errors = []
    for day in mask.index:
        for ticker in mask.columns:
            if bool(mask.at[day, ticker]) != ((day.year, ticker) in wanted):
                errors.append(f"{ticker} {day.date()}")
    return errors


def test_year_membership_is_point_in_time(tmp_path):
    kind, intervals = ms.read_membership(year_file(tmp_path / "m.csv"))
    assert kind == ms.YEARS
    dates = pd.bdate_range("2000-12-25", "2004-01-09")
    mask = ms.member_mask(intervals, dates, ["AAA", "BBB", "CCC", "DDD", "ZZZ"])
    assert point_in_time_errors(mask, YEAR_ROWS) == []
    assert ms.members_on(intervals, "2001-12-31") == ["AAA", "BBB"]
    assert ms.members_on(intervals, "2002-01-01") == ["BBB", "CCC"]
    assert ms.members_on(intervals, "2000-12-29") == []


def test_point_in_time_check_catches_next_years_members(tmp_path):
    """The check above fails on a membership that reads the next year's rows (a leak)."""
    leaked = [(y - 1, t) for y, t in YEAR_ROWS]
    _, intervals = ms.read_membership(year_file(tmp_path / "m.csv", leaked))
    mask = ms.member_mask(intervals, pd.bdate_range("2000-12-25", "2004-01-09"), ["AAA", "BBB", "CCC"])
    assert point_in_time_errors(mask, YEAR_ROWS)


def test_interval_membership_ends_included_and_open_end(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("ticker,start,end\nAAA,2001-03-05,2001-03-07\nbbb,2001-03-07,\n")
    kind, intervals = ms.read_membership(path)
    assert kind == ms.INTERVALS
    dates = pd.bdate_range("2001-03-02", "2001-03-12")
    mask = ms.member_mask(intervals, dates, ["AAA", "BBB"])
    expect_a = (dates >= "2001-03-05") & (dates <= "2001-03-07")
    np.testing.assert_array_equal(mask["AAA"].to_numpy(), expect_a)
    np.testing.assert_array_equal(mask["BBB"].to_numpy(), dates >= "2001-03-07")
    assert ms.members_on(intervals, "2030-01-01") == ["BBB"]


@pytest.mark.parametrize(("text", "needle"), [
    ("year,name\n2001,AAA\n", "needs the columns year,ticker or ticker,start,end"),
    ("year,ticker\n20x1,AAA\n", "row 2: year '20x1' is not a year"),
    ("ticker,start,end\nAAA,2001-13-01,\n", "row 2: start '2001-13-01' is not a date"),
    ("ticker,start,end\nAAA,2001-03-01,2001-02-01\n", "row 2: end 2001-02-01 is before start 2001-03-01"),
    ("year,ticker\n2001,A A\n", "row 2:"),
])
def test_bad_membership_files_are_one_line(tmp_path, text, needle):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match="membership file m.csv: ") as info:
        ms.read_membership(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


# --- import ----------------------------------------------------------------------------


def test_import_stores_each_ticker_as_data_import_would(tmp_path):
    frame = long_file(tmp_path / "bars.csv")
    summary = import_universe("u", tmp_path / "bars.csv", year_file(tmp_path / "m.csv"), home=tmp_path / "h")
    assert sorted(summary.imported) == list(TICKERS) and summary.refused == {}
    assert summary.without_bars == ["ZZZ"] and summary.bars == 4 * 600
    store = Store(tmp_path / "h")
    for ticker in TICKERS:
        one = frame[frame["ticker"] == ticker].drop(columns="ticker")
        one.to_csv(tmp_path / f"{ticker}.csv", index=False)
        expect = read_bars_file(tmp_path / f"{ticker}.csv", ticker)
        pd.testing.assert_frame_equal(store.read(ticker), expect, check_freq=False)
    universe = open_universe("u", tmp_path / "h")
    assert universe.tickers == list(TICKERS) and universe.kind == ms.YEARS
    assert universe.members("2002-06-03") == ["BBB", "CCC"]
    assert universe.is_member("bbb", "2002-06-03") and not universe.is_member("AAA", "2002-06-03")
    assert universe.members_in_year(2003) == ["DDD", "ZZZ"] and universe.without_bars() == ["ZZZ"]
    loaded = universe.load(universe.members_in_year(2002))
    assert list(loaded) == ["BBB", "CCC"] and all(len(b) == 600 for b in loaded.values())


def test_refused_tickers_carry_data_imports_reason(tmp_path):
    frame = long_file(tmp_path / "bars.parquet")
    bad = frame.index[frame["ticker"] == "CCC"][5]
    frame.loc[bad, "high"] = 0.01  # below the open: validate_bars refuses it
    jump = frame.index[frame["ticker"] == "BBB"][50:]
    frame.loc[jump, ["open", "high", "low", "close"]] *= 3  # a split-like move: a warning only
    frame.to_parquet(tmp_path / "bars.parquet", index=False)
    summary = import_universe("u", tmp_path / "bars.parquet", home=tmp_path / "h")
    one = frame[frame["ticker"] == "CCC"].drop(columns="ticker")
    one.to_csv(tmp_path / "CCC.csv", index=False)
    with pytest.raises(DataError) as info:
        read_bars_file(tmp_path / "CCC.csv", "CCC")
    assert summary.refused == {"CCC": str(info.value).removeprefix("CCC: ")}
    assert summary.warnings == {"extreme move": ["BBB"]}
    universe = open_universe("u", tmp_path / "h")
    assert universe.tickers == ["AAA", "BBB", "DDD"] and universe.kind == ms.BARS
    assert universe.meta["refused"] == summary.refused
    # without a membership file: a member from the first bar to the last
    first, last = universe.spans().loc["AAA", ["first", "last"]]
    assert universe.is_member("AAA", first) and universe.is_member("AAA", last)
    assert not universe.is_member("AAA", first - pd.Timedelta(days=1))
    assert not universe.is_member("AAA", last + pd.Timedelta(days=1))


def test_folder_of_per_ticker_files(tmp_path):
    folder = tmp_path / "bars"
    folder.mkdir()
    for i, ticker in enumerate(("AAA", "BRK.B")):
        bars = random_walk_bars(100, seed=i).rename(columns=str.title).rename_axis("Date")
        bars.to_csv(folder / f"{ticker}.csv")
    (folder / "notes.md").write_text("not bars")
    summary = import_universe("u", folder, home=tmp_path / "h")
    assert sorted(summary.imported) == ["AAA", "BRK.B"]


def test_nothing_imported_is_an_error_and_writes_nothing(tmp_path):
    frame = long_file(tmp_path / "bars.parquet", tickers=("AAA",))
    frame["high"] = frame["low"] / 2
    frame.to_parquet(tmp_path / "bars.parquet", index=False)
    with pytest.raises(DataError, match="nothing imported: all 1 ticker"):
        import_universe("u", tmp_path / "bars.parquet", home=tmp_path / "h")
    assert snapshot(tmp_path / "h") == {} if (tmp_path / "h").exists() else True


def test_no_ticker_column_and_bad_names(tmp_path):
    random_walk_bars(50).to_csv(tmp_path / "one.csv")
    with pytest.raises(DataError, match="no ticker column"):
        import_universe("u", tmp_path / "one.csv", home=tmp_path)
    with pytest.raises(ConfigError, match="invalid universe name"):
        import_universe("../x", tmp_path / "one.csv", home=tmp_path)
    with pytest.raises(ConfigError, match="bundled universe"):
        import_universe("dow30", tmp_path / "one.csv", home=tmp_path)


def test_shorter_history_is_refused_unless_replace(tmp_path):
    home = tmp_path / "h"
    Store(home).write(random_walk_bars(900, seed=0, start="2000-01-03"), "AAA")
    long_file(tmp_path / "bars.parquet")
    summary = import_universe("u", tmp_path / "bars.parquet", home=home)
    assert "would lose history (add --replace)" in summary.refused["AAA"]
    assert len(Store(home).read("AAA")) == 900
    summary = import_universe("u", tmp_path / "bars.parquet", home=home, replace=True)
    assert "AAA" in summary.replaced and len(Store(home).read("AAA")) == 600


def _prepared(tmp_path):
    """A store holding AAA (replaced by the import) and universe u (version 1)."""
    home = tmp_path / "h"
    tmp_path.mkdir(exist_ok=True)
    long_file(tmp_path / "v1.parquet", tickers=("AAA", "BBB"), n=300)
    import_universe("u", tmp_path / "v1.parquet", home=home)
    long_file(tmp_path / "v2.parquet")
    return home, tmp_path / "v2.parquet", year_file(tmp_path / "m.csv")


def _count_replaces(tmp_path) -> int:
    home, bars, members = _prepared(tmp_path / "count")
    calls = []
    real = os.replace
    import forecast.data.store_batch as sb

    sb.os.replace = lambda *a: (calls.append(a), real(*a))[1]
    try:
        import_universe("u", bars, members, home=home)
    finally:
        sb.os.replace = real
    return len(calls)


@pytest.mark.slow
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_at_any_rename_leaves_the_store_as_before(tmp_path, monkeypatch, error):
    total = _count_replaces(tmp_path)
    assert total >= 7  # 4 tickers (2 with a backup move) and the universe folder's swap
    real = os.replace
    for fail_at in range(1, total + 1):
        home, bars, members = _prepared(tmp_path / str(fail_at))
        before = snapshot(home)
        calls = []

        def flaky(*args, fail_at=fail_at, calls=calls):
            calls.append(args)
            if len(calls) == fail_at:
                raise error
            return real(*args)

        monkeypatch.setattr(os, "replace", flaky)
        with pytest.raises(type(error)):
            import_universe("u", bars, members, home=home)
        monkeypatch.setattr(os, "replace", real)
        assert snapshot(home) == before, f"failure at rename {fail_at} of {total}"
        assert open_universe("u", home).tickers == ["AAA", "BBB"]


def test_failure_while_staging_leaves_the_store_as_before(tmp_path, monkeypatch):
    home, bars, members = _prepared(tmp_path)
    before = snapshot(home)
    real = Store.table
    seen = []

    def table(self, frame, ticker, source=None):
        seen.append(ticker)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real(self, frame, ticker, source)

    monkeypatch.setattr(Store, "table", table)
    with pytest.raises(KeyboardInterrupt):
        import_universe("u", bars, members, home=home)
    assert snapshot(home) == before


def test_bundled_dow30_is_a_universe_without_import(tmp_path):
    universe = open_universe("dow30", tmp_path)
    assert len(universe.tickers) == 30 and "SPY" not in universe.tickers
    assert universe.kind == ms.BARS and universe.source == "bundled"
    assert len(universe.members("2010-06-01")) == 30
    assert UniverseStore(tmp_path).names() == []
    mask = universe.mask(pd.bdate_range("2017-11-06", "2017-11-17"))
    assert mask.loc["2017-11-10"].all() and not mask.loc["2017-11-13"].any()


def test_a_killed_batchs_staging_folder_is_removed_by_the_next(tmp_path):
    home = tmp_path / "h"
    dead = home / "bars" / ".batch.99999999.x1.tmp"  # no process has that id
    (dead / "replaced").mkdir(parents=True)
    (dead / "AAA.parquet").write_bytes(b"half")
    long_file(tmp_path / "bars.parquet")
    import_universe("u", tmp_path / "bars.parquet", home=home)
    assert not dead.exists()
    assert sorted(p.name for p in (home / "bars").iterdir() if not p.name.endswith(".lock")) == [
        f"{t}.parquet" for t in TICKERS]
