"""Bars are validated once, where they enter, and the ticker normalized once, in the loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast as fc
from forecast.backtest import simulate
from forecast.data import frame as frame_module
from forecast.data import tickers
from forecast.data.frame import ensure_bars, is_validated, span
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import DataError, TickerError
from forecast.features import FeaturePipeline, indicators
from strategies import LongOnly


def _predictions(bars: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"prob_up": rng.uniform(0, 1, stop - start)}, index=bars.index[start:stop])


def _count(monkeypatch, module, name: str) -> list[int]:
    calls = [0]
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_each_validator_runs_once_from_load_to_backtest(monkeypatch):
    Store().write(random_walk_bars(400, seed=4, ticker="SYN"), "SYN", source="test")
    canonical = _count(monkeypatch, frame_module, "_validate")
    feature_check = _count(monkeypatch, indicators, "_check_values")
    bars = fc.load("syn", start="2000-03-01")
    pipeline = FeaturePipeline().fit(bars.iloc[:200])
    pipeline.transform(bars.iloc[150:])
    simulate(bars, _predictions(bars, 250, 300), LongOnly)
    assert canonical[0] == 1  # the store read: where the bars entered
    assert feature_check[0] == 0


def test_row_slices_keep_the_stamp_and_changes_lose_it():
    bars = random_walk_bars(60)
    assert is_validated(bars) and is_validated(bars.iloc[5:20]) and is_validated(bars.iloc[::2])
    assert is_validated(span(bars, "2000-01-10", "2000-02-01"))
    changed = bars.copy(deep=False)
    changed["low"] = changed["high"]  # memory of another column
    for frame in (changed, bars * 2, bars.copy(), bars.iloc[::-1], bars.iloc[:0],
                  bars.assign(close=bars["close"] + 1), bars.drop(columns="volume"),
                  bars.rename(columns={"open": "close", "close": "open"})):
        assert not is_validated(frame)
    with pytest.raises(DataError, match="low above min"):
        ensure_bars(changed)
    assert ensure_bars(bars) is bars


def test_hand_made_invalid_bars_raise_the_same_errors():
    bars = random_walk_bars(120, seed=2)
    hand = pd.DataFrame(bars.to_numpy(), index=bars.index, columns=bars.columns)
    hand.attrs["ticker"] = "HAND"
    assert not is_validated(hand)
    bad = hand.copy()
    bad.iloc[30, bad.columns.get_loc("close")] = -1.0
    with pytest.raises(DataError, match="non-positive prices"):
        FeaturePipeline().fit(bad)
    with pytest.raises(DataError, match="HAND: price <= 0 on"):
        simulate(bad, _predictions(bars, 60, 100), LongOnly)
    with pytest.raises(DataError, match="sorted"):
        FeaturePipeline().fit(hand.iloc[::-1])
    with pytest.raises(DataError, match="bars must be a pandas DataFrame"):
        simulate(hand.to_numpy(), _predictions(bars, 60, 100), LongOnly)
    # A valid hand-made frame is validated by the engine, then used as validated.
    result = simulate(hand, _predictions(bars, 60, 100), LongOnly)
    assert result.ticker == "HAND"


class _CountingPattern:
    def __init__(self, pattern):
        self.pattern, self.calls = pattern, 0

    def fullmatch(self, text):
        self.calls += 1
        return self.pattern.fullmatch(text)


def test_the_loader_normalizes_the_ticker_once(monkeypatch):
    Store().write(random_walk_bars(300, seed=1, ticker="BRK-B"), "BRK-B", source="test")
    pattern = _CountingPattern(tickers._TICKER)
    monkeypatch.setattr(tickers, "_TICKER", pattern)
    bars = fc.load("brk-b")
    assert pattern.calls == 1 and bars.attrs["ticker"] == "BRK-B"
    assert (Store().home / "bars" / "BRK-B.parquet").is_file()  # the store key is unchanged
    with pytest.raises(TickerError, match="invalid ticker"):
        fc.load("../etc")
