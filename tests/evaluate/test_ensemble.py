"""The equal-weight ensemble of forecasts (Krauss, Do & Huck 2017's ENS): the mean of the
members' out-of-sample P(up), refused when the members are not the same forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast as fc
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import ensemble_predictions, walk_forward

SCHEDULE = dict(window=5, test_days=150, retrain_every=75, min_train=200, seed=0)


@pytest.fixture(scope="module")
def members():
    bars = random_walk_bars(600, seed=4)
    return {name: walk_forward(bars, name, **SCHEDULE) for name in ("logreg", "gbm", "rf")}


@pytest.mark.slow
def test_the_ensemble_is_the_row_mean_of_its_members(members):
    ens = ensemble_predictions(members)
    by_hand = (members["logreg"]["prob_up"] + members["gbm"]["prob_up"] + members["rf"]["prob_up"]) / 3
    np.testing.assert_allclose(ens["prob_up"].to_numpy(), by_hand.to_numpy(), rtol=0, atol=1e-15)
    pd.testing.assert_series_equal(ens["actual_up"], members["logreg"]["actual_up"])
    assert ens.attrs["model"] == "ensemble(logreg+gbm+rf)" and ens.attrs["members"] == ["logreg", "gbm", "rf"]
    assert fc.ensemble_predictions is ensemble_predictions
    assert "prob_up" not in members["logreg"].attrs  # the members are left as they were


@pytest.mark.slow
def test_members_that_are_not_the_same_forecasts_are_refused(members):
    a, b = members["logreg"], members["gbm"]
    with pytest.raises(ConfigError, match="other rows"):
        ensemble_predictions({"logreg": a, "gbm": b.iloc[1:]})
    flipped = b.assign(actual_up=1.0 - b["actual_up"])
    with pytest.raises(ConfigError, match="disagree on 'actual_up'"):
        ensemble_predictions({"logreg": a, "gbm": flipped})
    with pytest.raises(ConfigError, match="at least 2 members"):
        ensemble_predictions({"logreg": a})


def test_a_universe_frame_averages_per_date_and_ticker_and_keeps_nan():
    index = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=2), ["AAA", "BBB"]],
                                       names=["date", "ticker"])
    base = pd.DataFrame({"actual_up": [1.0, 0.0, 0.0, 1.0], "fold": [0, 0, 0, 0]}, index=index)
    a = base.assign(prob_up=[0.2, 0.4, 0.6, np.nan])
    b = base.assign(prob_up=[0.4, 0.8, 0.5, 0.7])
    ens = ensemble_predictions({"a": a, "b": b})
    np.testing.assert_allclose(ens["prob_up"].to_numpy()[:3], [0.3, 0.6, 0.55])
    assert np.isnan(ens["prob_up"].iloc[3])  # not the mean of the members that have one
