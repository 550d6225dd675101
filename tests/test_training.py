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
    clone = FeaturePipeline.from_state(pipe.spec_.to_dict(), pipe.state_dict())
    pd.testing.assert_frame_equal(pipe.transform(bars), clone.transform(bars))


@pytest.mark.slow
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
    # Deep inside, on the last training bar, and one bar before it: all refused.
    for inside in (bars.index[300], bars.index[598], trained.train_end):
        with pytest.raises(ConfigError, match="must start after"):
            predict(trained, bars, start=inside)
    assert predict(trained, bars, start=bars.index[600]).index[0] == bars.index[600]


def _fitted_on(monkeypatch, module):
    """Record the (X, y) and validation_gap of every fit `module` makes."""
    seen = []
    real = module.fit_model

    def spy(est, X, y, callbacks=None):
        seen.append({"y": np.asarray(y), "gap": est.get_params().get("validation_gap")})
        return real(est, X, y, callbacks)

    monkeypatch.setattr(module, "fit_model", spy)
    return seen


@pytest.mark.parametrize("label", ["open", "close"])
def test_train_model_learns_the_label_it_records(monkeypatch, bars, label):
    from forecast import training
    from forecast.features import make_target

    seen = _fitted_on(monkeypatch, training)
    trained = train_model(bars.iloc[:600], "logreg", label=label)
    assert trained.label == label
    expected = make_target(bars.iloc[:600], label=label).dropna().to_numpy()
    # The labels of the complete windows: the tail of the label series, in order.
    np.testing.assert_array_equal(seen[0]["y"], expected[-len(seen[0]["y"]):])


@pytest.mark.slow
@pytest.mark.parametrize("label, horizon, gap", [("open", 1, 1), ("open", 3, 3), ("close", 1, 0),
                                                 ("close", 3, 2)])
def test_early_stopping_gap_follows_the_label_lookahead(monkeypatch, bars, label, horizon, gap):
    """Labels overlapping the validation head are left out, in walk-forward and in train."""
    from forecast import training
    from forecast.evaluate import walkforward

    params = {"epochs": 1, "hidden_units": (4,)}
    for module in (walkforward, training):
        seen = _fitted_on(monkeypatch, module)
        if module is training:
            train_model(bars.iloc[:600], "mlp", model_params=params, horizon=horizon, label=label)
        else:
            walkforward.walk_forward(bars, "mlp", model_params=params, horizon=horizon, label=label,
                                     test_days=60, retrain_every=60, window=5)
        assert seen and all(s["gap"] == gap for s in seen), (module.__name__, seen[0]["gap"])


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
