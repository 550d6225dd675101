"""direction_metrics, metrics_table, next_day_returns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from forecast.errors import ConfigError
from forecast.evaluate import METRIC_KEYS, direction_metrics, metrics_table, next_day_returns


def test_hand_made_example():
    prob = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.5])
    actual = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    ret = np.array([0.01, 0.02, -0.01, -0.03, 0.04, -0.02])
    m = direction_metrics(prob, actual, ret)
    # Predicted up: 0.9, 0.8, 0.6 (0.5 is not > 0.5). Correct: rows 0, 1, 2, 5 -> 4/6.
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["accuracy_se"] == pytest.approx(math.sqrt((4 / 6) * (2 / 6) / 6))
    # Recall up = 2/3, recall down = 2/3.
    assert m["balanced_accuracy"] == pytest.approx(2 / 3)
    assert m["base_rate"] == pytest.approx(0.5)
    assert m["majority_rate"] == pytest.approx(0.5)
    assert m["brier"] == pytest.approx(np.mean((prob - actual) ** 2))
    eps_ll = -np.mean(actual * np.log(prob) + (1 - actual) * np.log(1 - prob))
    assert m["log_loss"] == pytest.approx(eps_ll)
    assert m["p_value"] == pytest.approx(binomtest(4, 6, 0.5, alternative="greater").pvalue)
    assert m["mean_ret_up"] == pytest.approx(np.mean([0.01, 0.02, -0.03]))
    assert m["mean_ret_down"] == pytest.approx(np.mean([-0.01, 0.04, -0.02]))
    assert set(m) == set(METRIC_KEYS)


def test_unknown_outcomes_are_left_out():
    prob = np.array([0.9, 0.1, 0.7])
    actual = np.array([1.0, 0.0, np.nan])
    m = direction_metrics(prob, actual)
    assert m["n"] == 2
    assert m["accuracy"] == 1.0
    assert math.isnan(m["mean_ret_up"])


def test_one_class_outcomes_give_nan_auc_not_an_error():
    m = direction_metrics([0.2, 0.7, 0.9], [1.0, 1.0, 1.0])
    assert math.isnan(m["roc_auc"])
    assert math.isnan(m["balanced_accuracy"])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["majority_rate"] == 1.0
    assert m["p_value"] == 1.0


def test_p_value_is_against_majority_rate():
    rng = np.random.default_rng(0)
    actual = (rng.random(400) < 0.6).astype(float)
    always_up = direction_metrics(np.full(400, 0.9), actual)
    # Always guessing the majority class has no skill beyond the majority rate.
    assert always_up["accuracy"] == pytest.approx(always_up["majority_rate"])
    assert always_up["p_value"] > 0.4
    perfect = direction_metrics(actual * 0.8 + 0.1, actual)
    assert perfect["p_value"] < 1e-20
    assert perfect["roc_auc"] == 1.0


def test_empty_and_bad_input():
    m = direction_metrics([0.5], [np.nan])
    assert m["n"] == 0 and math.isnan(m["accuracy"])
    with pytest.raises(ConfigError, match="probabilities"):
        direction_metrics([1.5, 0.2], [1.0, 0.0])
    with pytest.raises(ConfigError, match="equal length"):
        direction_metrics([0.5, 0.2], [1.0])


def test_metrics_table_and_next_day_returns():
    index = pd.bdate_range("2021-01-04", periods=5, name="date")
    bars = pd.DataFrame({"close": [10.0, 11.0, 9.9, 9.9, 10.89]}, index=index)
    r = next_day_returns(bars)
    np.testing.assert_allclose(r.to_numpy()[:-1], [0.1, -0.1, 0.0, 0.1])
    assert math.isnan(r.iloc[-1])
    pred = pd.DataFrame(
        {"prob_up": [0.9, 0.2, 0.6, 0.7], "actual_up": [1.0, 0.0, 0.0, 1.0], "fold": 0},
        index=index[:4],
    )
    table = metrics_table({"a": pred, "b": pred.assign(prob_up=0.4)}, r)
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == list(METRIC_KEYS)
    assert table.loc["a", "accuracy"] == pytest.approx(0.75)
    assert table.loc["a", "mean_ret_up"] == pytest.approx(np.mean([0.1, 0.0, 0.1]))
    assert table.loc["b", "mean_ret_down"] == pytest.approx(np.mean([0.1, -0.1, 0.0, 0.1]))
