"""make_target (horizon, threshold, dead zone) and make_windows (shape, alignment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError, DataError
from forecast.features import make_target, make_windows


def _bars(closes):
    index = pd.bdate_range("2020-01-06", periods=len(closes), name="date")
    return pd.DataFrame({"close": np.asarray(closes, dtype="float64")}, index=index)


CLOSES = [100.0, 101.0, 100.0, 100.0, 103.0, 102.0]


def test_target_horizon_1():
    y = make_target(_bars(CLOSES))
    # 101>100 up; 100<101 down; 100=100 not up; 103>100 up; 102<103 down; last unknown.
    np.testing.assert_array_equal(y.to_numpy()[:-1], [1, 0, 0, 1, 0])
    assert np.isnan(y.iloc[-1])
    assert y.index.equals(_bars(CLOSES).index)


def test_target_horizon_3_leaves_last_three_unknown():
    y = make_target(_bars(CLOSES), horizon=3)
    # close[t+3] vs close[t]: 100 vs 100, 103 vs 101, 102 vs 100.
    np.testing.assert_array_equal(y.to_numpy()[:3], [0, 1, 1])
    assert y.iloc[3:].isna().all()


def test_target_threshold_needs_a_move_above_it():
    y = make_target(_bars(CLOSES), threshold=0.02)
    # Only 100 -> 103 (+3%) clears 2%; 100 -> 101 (+1%) does not.
    np.testing.assert_array_equal(y.to_numpy()[:-1], [0, 0, 0, 1, 0])


def test_symmetric_threshold_makes_a_dead_zone():
    y = make_target(_bars(CLOSES), threshold=0.005, symmetric=True)
    # +1% up, -0.99% down, 0% dead zone, +3% up, -0.97% down, last unknown.
    expected = [1.0, 0.0, np.nan, 1.0, 0.0, np.nan]
    np.testing.assert_array_equal(y.to_numpy(), expected)


def test_target_accepts_a_close_series_and_rejects_bad_input():
    closes = _bars(CLOSES)["close"]
    pd.testing.assert_series_equal(make_target(closes), make_target(_bars(CLOSES)))
    with pytest.raises(ConfigError, match="horizon"):
        make_target(closes, horizon=0)
    with pytest.raises(ConfigError, match="horizon"):
        make_target(closes, horizon=1.5)
    with pytest.raises(ConfigError, match="dead-zone"):
        make_target(closes, threshold=-0.1, symmetric=True)
    with pytest.raises(DataError, match="close"):
        make_target([1.0, 2.0])


def test_target_at_t_only_changes_with_close_t_to_t_plus_h():
    closes = np.linspace(100, 120, 30)
    y = make_target(_bars(closes), horizon=2)
    bumped = closes.copy()
    bumped[20] = 50.0  # only labels 18 (close[20] vs close[18]) and 20 may see it
    y2 = make_target(_bars(bumped), horizon=2)
    differ = np.flatnonzero(~((y == y2) | (y.isna() & y2.isna())).to_numpy())
    # Label 18 flips to down; label 20 (50 -> close[22]) was up and stays up.
    np.testing.assert_array_equal(differ, [18])


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
