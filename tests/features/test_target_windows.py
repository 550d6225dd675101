"""make_target (horizon, threshold, dead zone) and make_windows (shape, alignment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, DataError
from forecast.features import describe_label, forward_return, label_lookahead, make_target, make_windows


def _bars(closes):
    index = pd.bdate_range("2020-01-06", periods=len(closes), name="date")
    return pd.DataFrame({"close": np.asarray(closes, dtype="float64")}, index=index)


CLOSES = [100.0, 101.0, 100.0, 100.0, 103.0, 102.0]


def test_target_horizon_1():
    y = make_target(_bars(CLOSES), label="close")
    # 101>100 up; 100<101 down; 100=100 not up; 103>100 up; 102<103 down; last unknown.
    np.testing.assert_array_equal(y.to_numpy()[:-1], [1, 0, 0, 1, 0])
    assert np.isnan(y.iloc[-1])
    assert y.index.equals(_bars(CLOSES).index)


def test_target_horizon_3_leaves_last_three_unknown():
    y = make_target(_bars(CLOSES), label="close", horizon=3)
    # close[t+3] vs close[t]: 100 vs 100, 103 vs 101, 102 vs 100.
    np.testing.assert_array_equal(y.to_numpy()[:3], [0, 1, 1])
    assert y.iloc[3:].isna().all()


def test_target_threshold_needs_a_move_above_it():
    y = make_target(_bars(CLOSES), label="close", threshold=0.02)
    # Only 100 -> 103 (+3%) clears 2%; 100 -> 101 (+1%) does not.
    np.testing.assert_array_equal(y.to_numpy()[:-1], [0, 0, 0, 1, 0])


def test_symmetric_threshold_makes_a_dead_zone():
    y = make_target(_bars(CLOSES), label="close", threshold=0.005, symmetric=True)
    # +1% up, -0.99% down, 0% dead zone, +3% up, -0.97% down, last unknown.
    expected = [1.0, 0.0, np.nan, 1.0, 0.0, np.nan]
    np.testing.assert_array_equal(y.to_numpy(), expected)


def test_target_accepts_a_close_series_and_rejects_bad_input():
    closes = _bars(CLOSES)["close"]
    from_series, from_frame = make_target(closes, label="close"), make_target(_bars(CLOSES), label="close")
    pd.testing.assert_series_equal(from_series, from_frame)
    with pytest.raises(ConfigError, match="horizon"):
        make_target(closes, horizon=0, label="close")
    with pytest.raises(ConfigError, match="horizon"):
        make_target(closes, horizon=1.5, label="close")
    with pytest.raises(ConfigError, match="dead-zone"):
        make_target(closes, threshold=-0.1, symmetric=True, label="close")
    with pytest.raises(DataError, match="close"):
        make_target([1.0, 2.0])
    with pytest.raises(DataError, match="open column"):
        make_target(closes)  # the default label is the traded return: it needs opens
    with pytest.raises(ConfigError, match="label"):
        make_target(_bars(CLOSES), label="vwap")


def test_target_at_t_only_changes_with_close_t_to_t_plus_h():
    closes = np.linspace(100, 120, 30)
    y = make_target(_bars(closes), label="close", horizon=2)
    bumped = closes.copy()
    bumped[20] = 50.0  # only labels 18 (close[20] vs close[18]) and 20 may see it
    y2 = make_target(_bars(bumped), label="close", horizon=2)
    differ = np.flatnonzero(~((y == y2) | (y.isna() & y2.isna())).to_numpy())
    # Label 18 flips to down; label 20 (50 -> close[22]) was up and stays up.
    np.testing.assert_array_equal(differ, [18])


# ---------------------------------------------------------------- the traded ("open") label

OPENS = [10.0, 11.0, 10.0, 10.5, 10.5, 12.0, 11.0]


def _ohlc(opens, closes):
    index = pd.bdate_range("2020-01-06", periods=len(opens), name="date")
    return pd.DataFrame({"open": np.asarray(opens, float), "close": np.asarray(closes, float)}, index=index)


def test_open_label_is_the_return_traded_after_the_decision():
    """Decided on t's close, filled at t+1's open, held to t+2's open (one bar)."""
    bars = _ohlc(OPENS, [99.0] * len(OPENS))  # flat closes: the close label would say "down"
    y = make_target(bars)
    # open[t+2] vs open[t+1], written out by hand:
    # t=0: 10 vs 11 down; t=1: 10.5 vs 10 up; t=2: 10.5 vs 10.5 not up; t=3: 12 vs 10.5 up;
    # t=4: 11 vs 12 down; t=5, t=6: not known yet (needs open[7], open[8]).
    np.testing.assert_array_equal(y.to_numpy()[:5], [0, 1, 0, 1, 0])
    assert y.iloc[5:].isna().all()
    assert make_target(bars, label="close").iloc[:-1].eq(0).all()


def test_open_label_horizon_and_forward_return_against_numpy():
    rng = np.random.default_rng(3)
    opens = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 50)))
    bars = _ohlc(opens, opens * 1.001)
    for h in (1, 3):
        fwd = forward_return(bars, h).to_numpy()
        expected = np.full(50, np.nan)
        expected[: 50 - h - 1] = opens[1 + h :] / opens[1 : 50 - h] - 1
        np.testing.assert_allclose(fwd, expected, rtol=1e-15)
        assert label_lookahead(h) == h + 1 and label_lookahead(h, "close") == h
        y = make_target(bars, h)
        assert y.iloc[-(h + 1):].isna().all() and y.iloc[: -(h + 1)].notna().all()


def test_open_label_at_t_only_changes_with_opens_t_plus_1_to_t_plus_1_plus_h():
    opens = np.linspace(100, 120, 30)
    y = make_target(_ohlc(opens, opens), horizon=2)
    bumped = opens.copy()
    bumped[20] = 50.0  # labels 17 (open[18] -> open[20]) and 19 (open[20] -> open[22]) read it
    y2 = make_target(_ohlc(bumped, opens), horizon=2)
    differ = np.flatnonzero(~((y == y2) | (y.isna() & y2.isna())).to_numpy())
    # Label 17 flips to down; label 19 (50 -> open[22]) was up and stays up.
    np.testing.assert_array_equal(differ, [17])
    assert describe_label(2) == "up if open[t+3] / open[t+1] - 1 > 0"
    assert describe_label(1, "close", 0.01) == "up if close[t+1] / close[t] - 1 > 0.01"


def test_windows_shape_and_alignment():
    n, f, w = 10, 3, 4
    values = np.arange(n * f, dtype=float).reshape(n, f)
    X = make_windows(values, w)
    assert X.shape == (n - w + 1, w, f)
    for i in range(n - w + 1):
        # Row i holds input rows i .. i + w - 1 in order and ends at position i + w - 1.
        np.testing.assert_array_equal(X[i], values[i : i + w])
        np.testing.assert_array_equal(X[i, -1], values[i + w - 1])


def test_windows_from_dataframe_and_1d():
    frame = pd.DataFrame({"a": np.arange(5.0), "b": -np.arange(5.0)})
    X = make_windows(frame, 2)
    np.testing.assert_array_equal(X[3], [[3.0, -3.0], [4.0, -4.0]])
    assert make_windows(np.arange(5.0), 5).shape == (1, 5, 1)


def test_windows_reject_bad_arguments():
    with pytest.raises(ConfigError, match="longer"):
        make_windows(np.zeros((3, 2)), 4)
    with pytest.raises(ConfigError, match="window"):
        make_windows(np.zeros((3, 2)), 0)
    with pytest.raises(ConfigError, match="2-D"):
        make_windows(np.zeros((3, 2, 2)), 1)


def test_decision_windows_end_at_their_positions_and_skip_incomplete_ones():
    from forecast.features.windows import decision_windows

    values = np.arange(20.0).reshape(10, 2)
    values[1, 0] = np.nan  # warm-up: windows covering row 1 are incomplete
    X, kept = decision_windows(values, 3)
    np.testing.assert_array_equal(kept, np.arange(4, 10))  # rows 0..3 windows touch row 1
    for x, pos in zip(X, kept, strict=True):
        np.testing.assert_array_equal(x, values[pos - 2 : pos + 1])
    X, kept = decision_windows(values, 3, np.array([2, 5, 9]))
    np.testing.assert_array_equal(kept, [5, 9])
    np.testing.assert_array_equal(X[1, -1], values[9])
