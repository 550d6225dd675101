"""The Parquet store: round trip, merging, atomic writes, corrupted files, ticker paths."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from forecast.data.loader import load_bars
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.data.tickers import normalize_ticker
from forecast.data.yahoo import OVERLAP_DAYS, fetch_into_store
from forecast.errors import ConfigError, DataError, SourceError, StoreError, TickerError


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "home")


def test_round_trip_keeps_values_and_metadata(store):
    bars = random_walk_bars(100, seed=2)
    info = store.write(bars, "aapl", source="test")
    assert info.ticker == "AAPL" and info.rows == 100 and info.source == "test"
    back = store.read("AAPL")
    pd.testing.assert_frame_equal(back, bars, check_freq=False)
    assert store.info("AAPL").last == str(bars.index[-1].date())
    assert [i.ticker for i in store.list()] == ["AAPL"]


def test_default_home_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("FCAST_HOME", str(tmp_path / "h"))
    assert Store().home == tmp_path / "h"


def test_crash_during_write_leaves_earlier_file_intact(store, monkeypatch):
    good = random_walk_bars(50, seed=1)
    store.write(good, "AAPL")
    before = store.path("AAPL").read_bytes()
    import pyarrow.parquet as pq

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(StoreError, match="cannot write"):
        store.write(random_walk_bars(80, seed=9), "AAPL")
    assert store.path("AAPL").read_bytes() == before
    assert not [p for p in os.listdir(store.bars_dir) if p.endswith(".tmp")]
    assert len(store.read("AAPL")) == 50


def test_invalid_data_never_replaces_stored_data(store):
    store.write(random_walk_bars(20), "X")
    bad = random_walk_bars(20)
    bad.iloc[3, 3] = -1.0
    with pytest.raises(DataError, match="price <= 0"):
        store.write(bad, "X")
    assert len(store.read("X")) == 20


def test_corrupted_file_is_reported(store):
    store.write(random_walk_bars(20), "X")
    store.path("X").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="corrupted or unreadable"):
        store.read("X")
    entries = store.list()
    assert isinstance(entries[0], tuple) and "corrupted" in entries[0][1]


def test_refresh_fetches_only_missing_dates_and_merges(store):
    full = random_walk_bars(60, seed=4)
    store.write(full.iloc[:40], "X", source="yahoo")
    asked = []

    def fake_fetch(ticker, start, end):
        asked.append((pd.Timestamp(start), end))
        return full.loc[pd.Timestamp(start):]

    fetch_into_store("X", store, refresh=True, fetch=fake_fetch)
    # Only the days after the stored ones, plus a few stored days to check the basis.
    assert asked == [(full.index[39] - pd.Timedelta(days=OVERLAP_DAYS), None)]
    merged = store.read("X")
    assert len(merged) == 60
    np.testing.assert_allclose(merged["close"], full["close"])


def test_plain_fetch_overwrites_overlap_with_fresh_values(store):
    old = random_walk_bars(30, seed=5)
    store.write(old, "X", source="yahoo")
    fresh = old.iloc[10:].copy()
    fresh.iloc[-5:, fresh.columns.get_loc("volume")] += 1.0  # a corrected volume
    fetch_into_store("X", store, fetch=lambda t, s, e: fresh)
    merged = store.read("X")
    assert len(merged) == 30
    np.testing.assert_allclose(merged["volume"].iloc[10:], fresh["volume"])
    np.testing.assert_allclose(merged["close"].iloc[:10], old["close"].iloc[:10])


def test_split_between_downloads_triggers_full_refetch(store):
    """Yahoo rescales adjusted history after a split: stitching would fake a -50% day."""
    before = random_walk_bars(60, seed=4)
    store.write(before.iloc[:40], "X", source="yahoo")
    after = before.copy()
    after.loc[:, ["open", "high", "low", "close"]] *= 0.5  # whole history re-adjusted 2:1
    calls = []

    def fake_fetch(ticker, start, end):
        calls.append(start)
        return after.loc[pd.Timestamp(start):] if start is not None else after

    fetch_into_store("X", store, refresh=True, fetch=fake_fetch)
    stored = store.read("X")
    assert len(calls) == 2 and calls[1] == before.index[0]
    np.testing.assert_allclose(stored["close"], after["close"])
    worst_day = np.abs(np.log(stored["close"]).diff()).max()
    assert worst_day < 0.1


def test_yahoo_never_merges_into_bars_from_another_source(store):
    imported = random_walk_bars(30, seed=5)
    store.write(imported, "X", source="file:x.csv")
    with pytest.raises(SourceError, match="--replace"):
        fetch_into_store("X", store, fetch=lambda t, s, e: imported)
    assert store.info("X").source == "file:x.csv"
    fetch_into_store("X", store, replace=True, fetch=lambda t, s, e: imported.iloc[5:])
    assert store.info("X").source == "yahoo" and len(store.read("X")) == 25


@pytest.mark.parametrize("ticker", ["AAPL", "BRK-B", "^GSPC", "EURUSD=X", "bf.b"])
def test_valid_tickers(ticker):
    assert normalize_ticker(ticker) == ticker.upper()


@pytest.mark.parametrize(
    "ticker", ["../x", "a/b", "a\\b", "x\x00y", "bad\nname", "..", "", ".hidden", "A" * 40, "a b"]
)
def test_traversal_and_control_tickers_refused(ticker, store):
    with pytest.raises(TickerError, match="invalid ticker"):
        store.path(ticker)


def test_load_bars_prefers_store_then_bundled(store):
    bars = random_walk_bars(40)
    store.write(bars, "^GSPC", source="test")
    assert load_bars("^GSPC", store=store).attrs["source"] == "test"
    assert load_bars("^GSPC", store=store, source="bundled").attrs["source"] == "bundled"
    assert load_bars("^IXIC", store=store).attrs["source"] == "bundled"  # Yahoo unreachable


def test_load_bars_unknown_ticker_offline_names_ways_out(store):
    with pytest.raises(TickerError) as info:
        load_bars("ZZZZ", store=store)
    text = str(info.value)
    assert "fcast data import ZZZZ" in text and "--source bundled" in text


def test_load_bars_span_filter(store):
    bars = random_walk_bars(40)
    store.write(bars, "X")
    out = load_bars("X", store=store, start=bars.index[10], end=bars.index[19])
    assert len(out) == 10
    with pytest.raises(TickerError, match="no bars between"):
        load_bars("X", store=store, start="2100-01-01")


def test_yahoo_refusal_to_mix_sources_is_structured(store):
    store.write(random_walk_bars(30, seed=5), "X", source="file:x.csv")
    with pytest.raises(SourceError) as info:
        fetch_into_store("X", store, fetch=lambda t, s, e: random_walk_bars(30, seed=5))
    assert info.value.reason == "mixed_sources"
    assert info.value.detail == "the store holds bars from file:x.csv"


def test_load_bars_forced_store_never_asks_yahoo(store):
    store.write(random_walk_bars(40), "X", source="test")
    assert load_bars("X", store=store, source="store").attrs["source"] == "test"
    with pytest.raises(StoreError, match="not in the store"):
        load_bars("AAPL", store=store, source="store")
    with pytest.raises(ConfigError, match="unknown source 'web'; choose one of store, yahoo"):
        load_bars("X", store=store, source="web")
