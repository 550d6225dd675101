"""`test_start`: a test span from a date, so that more bars add test days and move no fold.

What `fcast signal` and the forward-test journal rest on: a run through day D and a run
through any later day predict every day up to D identically (bit for bit), one ticker
and a pooled universe alike. The end-anchored `test_days` does not have that property,
which the control test shows (so the check can fail).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import walk_forward
from forecast.evaluate.pooled import portfolio_walk_forward
from forecast.portfolio.universe import Universe

BARS = random_walk_bars(700, seed=3, start="2010-01-04")
START = str(BARS.index[500].date())


def through(bars, day) -> pd.DataFrame:
    return bars.loc[:day]


def test_a_run_through_a_later_day_predicts_every_earlier_day_the_same():
    full = walk_forward(BARS, "logreg", test_start=START, retrain_every=40)
    for last in (BARS.index[520], BARS.index[561], BARS.index[640]):
        short = walk_forward(through(BARS, last), "logreg", test_start=START, retrain_every=40)
        assert short.index[0] == pd.Timestamp(START) and short.index[-1] == last
        same = full.loc[short.index]
        # Bit for bit: the same fold boundaries, the same fits, the same rows.
        np.testing.assert_array_equal(same["prob_up"].to_numpy(), short["prob_up"].to_numpy())
        np.testing.assert_array_equal(same["fold"].to_numpy(), short["fold"].to_numpy())


def test_control_the_end_anchored_span_moves_its_folds_when_a_bar_is_added():
    """The same check on `test_days` fails: the blocks are counted back from the last bar,
    so one more bar shifts every refit (proof the check above can see moved folds)."""
    full = walk_forward(BARS, "logreg", test_days=200, retrain_every=40)
    short = walk_forward(BARS.iloc[:-7], "logreg", test_days=200, retrain_every=40)
    both = short.index.intersection(full.index)
    assert len(both) == 193
    moved = full.loc[both, "prob_up"].to_numpy() != short.loc[both, "prob_up"].to_numpy()
    assert moved.any()  # other blocks, so other fits, so other forecasts of the same days


def test_test_start_means_the_test_days_counted_from_that_date():
    days = int((BARS.index >= pd.Timestamp(START)).sum())  # by hand
    by_date = walk_forward(BARS, "logreg", test_start=START, retrain_every=40)
    by_count = walk_forward(BARS, "logreg", test_days=days, retrain_every=40)
    pd.testing.assert_frame_equal(by_date, by_count, check_like=True)
    # A date between bars starts at the next bar.
    weekend = BARS.index[500] - pd.Timedelta(days=1)
    assert walk_forward(BARS, "logreg", test_start=weekend, retrain_every=40).index[0] == BARS.index[500]


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"test_start": "2030-01-01"}, "after the data"),
    ({"test_start": START, "test_days": 50}, "not both"),
    ({"test_start": "not a date"}, "invalid test_start"),
])
def test_bad_test_starts_fail_in_one_line(kwargs, says):
    with pytest.raises(ConfigError, match=says):
        walk_forward(BARS, "logreg", **kwargs)


def universe():
    return Universe.from_bars({t: random_walk_bars(600, seed=i, start="2010-01-04")
                               for i, t in enumerate(("AAA", "BBB", "CCC", "DDD"))})


def cut(uni, day):
    return Universe.from_bars({t: b.loc[:day] for t, b in uni.bars.items()})


def test_a_pooled_universe_through_a_later_day_predicts_earlier_days_the_same():
    uni = universe()
    start = uni.calendar[450]
    full = portfolio_walk_forward(uni, "logreg", test_start=start, retrain_every=30)
    last = uni.calendar[517]
    short = portfolio_walk_forward(cut(uni, last), "logreg", test_start=start, retrain_every=30)
    assert short.index.get_level_values("date").max() == last
    np.testing.assert_array_equal(full.loc[short.index, "prob_up"].to_numpy(), short["prob_up"].to_numpy())


def test_the_cache_keys_a_test_start_as_the_test_days_it_makes():
    from forecast.cache import prediction_key

    days = int((BARS.index >= pd.Timestamp(START)).sum())
    key_by_date, _ = prediction_key(BARS, "logreg", test_start=START, retrain_every=40)
    key_by_count, _ = prediction_key(BARS, "logreg", test_days=days, retrain_every=40)
    other, _ = prediction_key(BARS, "logreg", test_days=days + 1, retrain_every=40)
    assert key_by_date == key_by_count != other


@pytest.mark.slow
@pytest.mark.keras
def test_a_keras_model_through_a_later_day_predicts_earlier_days_the_same():
    """A network's forecasts too: the cut block is predicted at its full length."""
    params = {"epochs": 1, "hidden_units": (8,), "batch_size": 32}
    full = walk_forward(BARS, "mlp", model_params=params, test_start=START, retrain_every=40)
    short = walk_forward(through(BARS, BARS.index[563]), "mlp", model_params=params, test_start=START,
                         retrain_every=40)
    np.testing.assert_array_equal(full.loc[short.index, "prob_up"].to_numpy(), short["prob_up"].to_numpy())


REAL = None


def real_bars():
    global REAL
    if REAL is None:
        import forecast as fc

        REAL = fc.load("AAPL", source="bundled").loc["2013-06-01":]
    return REAL


@pytest.mark.slow
@pytest.mark.parametrize(("model", "kw"), [
    ("gbm", {"model_params": {"max_iter": 30}}),
    ("rf", {"model_params": {"n_estimators": 20}}),
    ("lgbm", {"model_params": {"n_estimators": 30}}),
    ("ens:logreg,gbm", {}),
    ("logreg", {"spec": "alpha158"}),
    ("logreg", {"spec": "garch"}),
    ("logreg", {"label": "close", "horizon": 2, "train_window": 300}),
    ("gbm", {"target": "return", "model_params": {"max_iter": 30}}),
], ids=["gbm", "rf", "lgbm", "ensemble", "alpha158", "garch", "close-h2-window", "return-target"])
def test_parity_holds_for_other_models_features_labels_and_targets(model, kw):
    """The bit-for-bit property on real prices, for the configurations a user is likely to pin."""
    from forecast.features import FeatureSpec

    kw = dict(kw)
    if kw.get("spec") == "alpha158":
        kw["spec"] = FeatureSpec.from_option("alpha158")
    elif kw.get("spec") == "garch":
        kw["spec"] = FeatureSpec(garch=True)
    bars = real_bars()
    full = walk_forward(bars, model, test_start="2017-03-01", retrain_every=30, **kw)
    column = "score" if "score" in full.columns else "prob_up"
    for cut in (-97, -3):
        short = walk_forward(bars.iloc[:cut], model, test_start="2017-03-01", retrain_every=30, **kw)
        np.testing.assert_array_equal(full.loc[short.index, column].to_numpy(), short[column].to_numpy())
