"""Train once, save, load, predict forward: same numbers, and never inside the training span."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import ar1_bars
from forecast.errors import ConfigError
from forecast.features import FeaturePipeline, FeatureSpec
from forecast.training import load_trained, predict, save_trained, train_model


@pytest.fixture(scope="module")
def bars():
    return ar1_bars(900, phi=0.5, seed=8)


@pytest.mark.parametrize("spec", [None, {"garch": True, "day_of_week": True}])
def test_pipeline_state_round_trip_transforms_identically(bars, spec):
    pipe = FeaturePipeline(spec).fit(bars.iloc[:500])
    clone = FeaturePipeline.from_state(pipe.spec.to_dict(), pipe.state_dict())
    pd.testing.assert_frame_equal(pipe.transform(bars), clone.transform(bars))


@pytest.mark.parametrize(("model", "params"), [("logreg", {}), ("mlp", {"epochs": 2})])
def test_saved_model_predicts_the_same(tmp_path, bars, model, params):
    trained = train_model(bars.iloc[:600], model, model_params=params)
    before = predict(trained, bars)
    save_trained(trained, tmp_path / "m")
    loaded = load_trained(tmp_path / "m", expected_spec=FeatureSpec.default())
    after = predict(loaded, bars)
    assert before.index[0] > bars.index[599]  # only dates after the training span
    np.testing.assert_allclose(before["prob_up"], after["prob_up"], rtol=1e-6, atol=1e-7)
    assert loaded.train_end == bars.index[599]


def test_predict_refuses_dates_inside_training_span(bars):
    trained = train_model(bars.iloc[:600], "logreg")
    with pytest.raises(ConfigError, match="must start after"):
        predict(trained, bars, start=bars.index[300])


def test_loaded_model_refuses_another_feature_spec(tmp_path, bars):
    save_trained(train_model(bars.iloc[:600], "logreg"), tmp_path / "m")
    with pytest.raises(ConfigError, match="different feature spec"):
        load_trained(tmp_path / "m", expected_spec={"garch": True})


def test_forward_predictions_ignore_later_bars(bars):
    trained = train_model(bars.iloc[:600], "logreg")
    base = predict(trained, bars)
    cut = bars.index[700]
    shocked = bars.copy()
    shocked.loc[shocked.index > cut, ["open", "high", "low", "close"]] *= 1.5
    again = predict(trained, shocked)
    pd.testing.assert_series_equal(base.loc[:cut, "prob_up"], again.loc[:cut, "prob_up"])
    assert not np.allclose(base.loc[cut:, "prob_up"].iloc[2:], again.loc[cut:, "prob_up"].iloc[2:])
