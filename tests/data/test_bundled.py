"""The history bundled with fcast, its build script, and the store -> Yahoo -> bundled order."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_run import run

from forecast.data import yahoo
from forecast.data.bundled import (
    ARCH_SAMPLES,
    BUNDLE_PATH,
    bundle_metadata,
    bundled_tickers,
    describe_bundled,
    load_bundled,
    read_bundle,
)
from forecast.data.loader import load_bars
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import TickerError

ROOT = Path(__file__).resolve().parents[2]
DOW_2017 = ("AAPL AXP BA CAT CSCO CVX DIS DWDP GE GS HD IBM INTC JNJ JPM KO MCD MMM MRK MSFT "
            "NKE PFE PG TRV UNH UTX V VZ WMT XOM").split()
ETFS = ["SPY", "QQQ", "DIA", "IWM"]




def _build_script():
    spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "data" / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the bundle itself


def test_bundle_ships_the_dow_30_and_four_etfs_plus_arch_indices():
    tickers = bundled_tickers()
    assert set(DOW_2017 + ETFS) <= set(tickers) and set(ARCH_SAMPLES) <= set(tickers)
    assert len(tickers) >= 36
    assert BUNDLE_PATH.stat().st_size < 8_000_000  # "a few MB" of package data


def test_every_bundled_series_validates_and_ends_where_the_source_does():
    spans = {s.ticker: s for s in describe_bundled()}
    for ticker in DOW_2017 + ETFS:
        bars = load_bundled(ticker)
        assert bars.attrs["source"] == "bundled" and bars.index.is_monotonic_increasing
        assert spans[ticker].last == "2017-11-10" == str(bars.index[-1].date())
        assert spans[ticker].rows == len(bars) and spans[ticker].first == str(bars.index[0].date())
    assert spans["AAPL"].first == "1984-09-07"


def test_bundle_footer_names_its_source_and_bias():
    meta = bundle_metadata()
    assert "Marjanovic" in meta["source"] and "CC0" in meta["source"]
    assert meta["survivorship_biased"] is True
    assert len(meta["inputs_sha256"]) == 34
    # The vendor's broken rows were removed, and are listed (DWDP's dropped digits).
    assert "1989-01-16" in meta["removed_rows"]["DWDP"]
    assert pd.Timestamp("1989-01-16") not in load_bundled("DWDP").index


def test_unknown_bundled_ticker_is_a_clear_error():
    with pytest.raises(TickerError, match="not bundled"):
        load_bundled("ZZZZ")


def test_build_script_round_trips_source_csvs_exactly(tmp_path):
    """The build is exact (prices to 1e-5 as integers), drops broken rows, records inputs."""
    src = tmp_path / "daily"
    src.mkdir()
    originals = {}
    for seed, ticker in enumerate(["AAA", "BBB"]):
        frame = random_walk_bars(300, seed=seed, start_price=50.0 + 200 * seed).round(5)
        frame = frame.rename(columns=str.title).assign(OpenInt=0)
        frame.index.name = "Date"
        frame["Volume"] = frame["Volume"].astype("int64")
        originals[ticker] = frame
    broken = originals["BBB"].copy()
    broken.iloc[7, broken.columns.get_loc("Close")] = broken["Low"].iloc[7] / 10  # a lost digit
    for ticker, frame in {"AAA": originals["AAA"], "BBB": broken}.items():
        frame.to_csv(src / f"{ticker}.csv", float_format="%.5f")
    out = tmp_path / "bundle.parquet"
    _build_script().main(str(src), out)

    table = read_bundle(out)
    for ticker in originals:
        got = table.loc[table["ticker"] == ticker].set_index("date")
        want = pd.read_csv(src / f"{ticker}.csv", index_col="Date", parse_dates=True)
        if ticker == "BBB":
            want = want.drop(want.index[7])
        assert len(got) == len(want)
        for col in ("Open", "High", "Low", "Close", "Volume"):
            # Exact equality with what pandas parses from the CSV text: no rounding drift.
            np.testing.assert_array_equal(got[col.lower()].to_numpy(), want[col].to_numpy(float))
    meta = bundle_metadata(out)
    assert meta["removed_rows"] == {"BBB": [str(originals["BBB"].index[7].date())]}
    assert set(meta["inputs_sha256"]) == {"AAA.csv", "BBB.csv"}


# ---------------------------------------------------------------- resolution order


def _fake_yahoo(monkeypatch, bars=None, error=None):
    """Yahoo 'reachable', answering with `bars` or raising `error`; returns the call log."""
    calls = []

    def download(ticker, start, end):
        calls.append(ticker)
        if error is not None:
            raise error
        frame = bars.rename(columns=str.title)
        frame.index.name = "Date"
        return frame

    monkeypatch.setattr(yahoo, "yahoo_reachable", lambda timeout=2.0: True)
    monkeypatch.setattr(yahoo, "_download", download)
    return calls


def test_offline_bundled_ticker_falls_back_with_one_line(caplog):
    with caplog.at_level(logging.WARNING, logger="fcast"):
        bars = load_bars("AAPL")
    assert bars.attrs["source"] == "bundled" and len(bars) == 8364
    assert caplog.messages == [
        "AAPL: Yahoo Finance unreachable; using bundled history 1984-09-07 to 2017-11-10"
    ]
    assert not Store().has("AAPL")  # the fallback does not pose as stored data


def test_store_comes_first():
    mine = random_walk_bars(40, seed=3)
    Store().write(mine, "AAPL", source="test")
    assert load_bars("AAPL").attrs["source"] == "test"


def test_reachable_yahoo_comes_before_the_bundle(monkeypatch, caplog):
    fresh = random_walk_bars(30, seed=4, start="2024-01-02")
    calls = _fake_yahoo(monkeypatch, bars=fresh)
    with caplog.at_level(logging.WARNING, logger="fcast"):
        bars = load_bars("MSFT")
    assert calls == ["MSFT"] and bars.attrs["source"] == "yahoo" and len(bars) == 30
    assert Store().info("MSFT").source == "yahoo" and caplog.messages == []


def test_yahoo_failing_otherwise_also_falls_back_and_says_why(monkeypatch, caplog):
    _fake_yahoo(monkeypatch, error=RuntimeError("rate limit exceeded"))
    monkeypatch.setattr(yahoo.time, "sleep", lambda s: None)
    with caplog.at_level(logging.WARNING, logger="fcast"):
        bars = load_bars("KO")
    assert bars.attrs["source"] == "bundled"
    assert caplog.messages[0].startswith("KO: Yahoo Finance is rate limiting requests; using bundled")


@pytest.mark.parametrize("source", ["bundled", "sample"])
def test_source_bundled_forces_the_bundle_without_asking_yahoo(monkeypatch, source):
    calls = _fake_yahoo(monkeypatch, bars=random_walk_bars(30))
    assert load_bars("IBM", source=source).attrs["source"] == "bundled"
    assert load_bars("^GSPC", source=source).index[-1] == pd.Timestamp("2018-12-31")
    assert calls == []


def test_unbundled_ticker_offline_names_the_ways_out():
    with pytest.raises(TickerError) as info:
        load_bars("ZZZZ")
    text = str(info.value)
    assert "Yahoo Finance unreachable" in text
    assert "fcast data import ZZZZ" in text and "fcast data sample" in text


# ---------------------------------------------------------------- the CLI


def test_data_sample_lists_every_bundled_ticker_with_span_and_bias(capsys):
    code, out, _ = run(capsys, "data", "sample")
    assert code == 0
    for s in describe_bundled():
        assert f"{s.ticker} " in out and s.first in out
    assert out.count("2017-11-10") >= 34
    assert "survivorship-biased" in out and "Marjanovic" in out


def test_offline_backtest_runs_on_bundled_history_and_says_so(capsys):
    code, out, err = run(capsys, "backtest", "AAPL", "--model", "logreg", "--start", "2014-01-01",
                         "--test-days", "126")
    assert code == 0, err
    assert "AAPL: Yahoo Finance unreachable; using bundled history 1984-09-07 to 2017-11-10" in err
    assert "AAPL" in out and "buy" in out.lower()
