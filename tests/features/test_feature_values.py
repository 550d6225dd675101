"""Every standard feature against an independent numpy computation written here, and
each feature's declared warm-up against where its values really start."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.features import FeatureSpec, raw_features
from forecast.features.builtin import STANDARD

# Non-default windows, so a window mixed up with another would show.
SPEC = FeatureSpec(
    return_lags=(1, 3), vol_windows=(4, 9), volume_window=6, rsi_window=5, macd_fast=4,
    macd_slow=9, macd_signal=3, bb_window=7, bb_k=1.5, atr_window=6, day_of_week=True,
)


@pytest.fixture(scope="module")
def bars():
    return random_walk_bars(400, seed=11)


@pytest.fixture(scope="module")
def raw(bars):
    return raw_features(bars, SPEC)


def wilder(x: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """Exponential smoothing y_t = (1 - alpha) y_{t-1} + alpha x_t, seeded with the first
    non-NaN x, NaN until n values have been seen."""
    out = np.full(len(x), np.nan)
    start = int(np.argmax(~np.isnan(x)))
    y = x[start]
    for t in range(start, len(x)):
        if t > start:
            y = (1 - alpha) * y + alpha * x[t]
        if t - start + 1 >= n:
            out[t] = y
    return out


def trailing(x: np.ndarray, n: int, fn) -> np.ndarray:
    """fn over each window of the last n values (NaN until n are available)."""
    out = np.full(len(x), np.nan)
    for t in range(n - 1, len(x)):
        out[t] = fn(x[t - n + 1 : t + 1])
    return out


def close(bars):
    return bars["close"].to_numpy()


def test_returns_and_realised_volatility(bars, raw):
    c = close(bars)
    np.testing.assert_allclose(raw["ret_3"].to_numpy()[3:], np.log(c[3:] / c[:-3]), rtol=1e-12, atol=1e-14)
    r = np.concatenate([[np.nan], np.diff(np.log(c))])
    expected = trailing(r, 9, lambda w: np.std(w, ddof=1))
    np.testing.assert_allclose(raw["rvol_9"].to_numpy(), expected, rtol=1e-10)


def test_rsi_is_wilders(bars, raw):
    delta = np.concatenate([[np.nan], np.diff(close(bars))])
    gain = wilder(np.where(np.isnan(delta), np.nan, np.maximum(delta, 0.0)), 5, 1 / 5)
    loss = wilder(np.where(np.isnan(delta), np.nan, np.maximum(-delta, 0.0)), 5, 1 / 5)
    expected = 100 * gain / (gain + loss)
    np.testing.assert_allclose(raw["rsi"].to_numpy(), expected, rtol=1e-10)
    assert np.isnan(expected[:5]).all() and not np.isnan(expected[5:]).any()


def test_rsi_is_50_without_moves_and_100_with_only_gains(bars):
    flat = bars.copy()
    flat["close"] = 10.0
    assert (raw_features(flat, SPEC)["rsi"].dropna() == 50.0).all()
    rising = bars.copy()
    rising["close"] = np.linspace(10, 20, len(bars))
    np.testing.assert_allclose(raw_features(rising, SPEC)["rsi"].dropna(), 100.0, rtol=1e-12)


def test_macd_and_signal(bars, raw):
    c = close(bars)
    fast = wilder(c, 9, 2 / (4 + 1))  # the fast EMA only starts counting with the slow one
    slow = wilder(c, 9, 2 / (9 + 1))
    macd = (fast - slow) / c
    signal = wilder(macd, 3, 2 / (3 + 1))
    np.testing.assert_allclose(raw["macd"].to_numpy(), macd, rtol=1e-10)
    np.testing.assert_allclose(raw["macd_signal"].to_numpy(), signal, rtol=1e-10)


def test_atr_is_wilders_true_range_over_close(bars, raw):
    c, h, lo = close(bars), bars["high"].to_numpy(), bars["low"].to_numpy()
    prev = np.concatenate([[np.nan], c[:-1]])
    tr = np.maximum.reduce([h - lo, np.abs(h - prev), np.abs(lo - prev)])  # NaN at bar 0
    expected = wilder(tr, 6, 1 / 6) / c
    np.testing.assert_allclose(raw["atr"].to_numpy(), expected, rtol=1e-10)


def test_bollinger_percent_b(bars, raw):
    c = close(bars)
    mid = trailing(c, 7, np.mean)
    sd = trailing(c, 7, lambda w: np.std(w, ddof=1))
    expected = (c - (mid - 1.5 * sd)) / (2 * 1.5 * sd)
    np.testing.assert_allclose(raw["bb_pctb"].to_numpy(), expected, rtol=1e-9)


def test_volume_features(bars, raw):
    lv = np.log(1.0 + bars["volume"].to_numpy())
    np.testing.assert_allclose(raw["log_volume"].to_numpy(), lv, rtol=1e-12)
    np.testing.assert_allclose(raw["dlog_volume"].to_numpy()[1:], np.diff(lv), rtol=1e-12, atol=1e-12)
    z = trailing(lv, 6, lambda w: (w[-1] - w.mean()) / np.std(w, ddof=1))
    np.testing.assert_allclose(raw["volume_z"].to_numpy(), z, rtol=1e-9, atol=1e-12)


def test_range_gap_and_day_of_week(bars, raw):
    c, o = close(bars), bars["open"].to_numpy()
    np.testing.assert_allclose(raw["gap"].to_numpy()[1:], np.log(o[1:] / c[:-1]), rtol=1e-12)
    np.testing.assert_allclose(
        raw["hl_range"].to_numpy(), np.log(bars["high"].to_numpy() / bars["low"].to_numpy()), rtol=1e-12
    )
    days = np.array([d.weekday() for d in bars.index])
    np.testing.assert_allclose(raw["dow_cos"].to_numpy(), np.cos(2 * np.pi * days / 7), atol=1e-15)


@pytest.mark.parametrize("spec", [FeatureSpec.default(), SPEC], ids=["default", "custom"])
@pytest.mark.parametrize("feature", [f for f in STANDARD if f.fit is None], ids=lambda f: f.name)
def test_declared_warmup_is_where_values_start(bars, spec, feature):
    values = np.column_stack(list(feature.values(bars, spec).values()))
    complete = ~np.isnan(values).any(axis=1)
    w = feature.warmup_bars(spec)
    assert not complete[:w].any() and complete[w:].all(), (feature.name, w, np.argmax(complete))
