"""The public API surface: cheap to import, every name a callable, not a shadowing module."""

from __future__ import annotations

import types

import pytest

import forecast as fc


def test_public_names_resolve_after_subpackages_are_imported():
    import forecast.backtest  # noqa: F401 - importing subpackages must not shadow API names
    import forecast.evaluate  # noqa: F401
    import forecast.features  # noqa: F401

    for name in fc.__all__:
        value = getattr(fc, name)
        assert not isinstance(value, types.ModuleType), name
        assert value.__doc__, f"{name} has no docstring"


@pytest.mark.slow
def test_api_round_trip_on_generated_data():
    from forecast.data.synthetic import random_walk_bars

    bars = random_walk_bars(700, seed=2)
    feats = fc.build_features(bars)
    assert feats.columns[0] == "ret_1" and len(feats) == len(bars)
    report = fc.evaluate_model(bars, "logreg", test_days=126, retrain_every=63)
    assert list(report.metrics.index) == ["logreg", "majority", "momentum", "gbm"]
    result = fc.run_backtest(bars, report.predictions["logreg"], strategy="long-only")
    assert result.model == "logreg"
    assert set(result.forecast_metrics) >= {"accuracy", "accuracy_se", "p_value"}
    fig = fc.plot_equity(result)
    assert len(fig.axes) == 3  # equity, drawdown, exposure


def test_hand_made_predictions_are_unnamed_and_scored():
    import numpy as np
    import pandas as pd
    import pytest

    from forecast.data.synthetic import random_walk_bars

    bars = random_walk_bars(300, seed=4)
    dates = bars.index[100:250]
    preds = pd.DataFrame({"prob_up": np.linspace(0.2, 0.8, len(dates))}, index=dates)
    result = fc.run_backtest(bars, preds, strategy="long-only")
    assert result.model is None and result.to_dict()["model"] is None
    # Scored on the return traded after each decision: open[t+1] -> open[t+2].
    traded = bars["open"].shift(-2) / bars["open"].shift(-1) - 1
    up = (traded > 0).reindex(dates)
    expected = float(((preds["prob_up"] > 0.5) == up).mean())
    assert result.forecast_metrics["accuracy"] == expected
    up_days = (preds["prob_up"] > 0.5).to_numpy()
    assert result.forecast_metrics["mean_ret_up"] == pytest.approx(traded.reindex(dates)[up_days].mean())


def test_hand_made_predictions_are_scored_on_the_label_they_declare():
    import numpy as np
    import pandas as pd
    import pytest

    from forecast.data.synthetic import random_walk_bars

    bars = random_walk_bars(300, seed=4)
    dates = bars.index[100:250]
    preds = pd.DataFrame({"prob_up": np.linspace(0.2, 0.8, len(dates))}, index=dates)
    preds.attrs.update(label="close", horizon=3)
    fm = fc.run_backtest(bars, preds, strategy="long-only").forecast_metrics
    close_h3 = (bars["close"].shift(-3) / bars["close"] - 1).reindex(dates)
    up = (preds["prob_up"] > 0.5).to_numpy()
    assert fm["accuracy"] == float((up == (close_h3 > 0).to_numpy()).mean())
    assert fm["mean_ret_up"] == pytest.approx(close_h3[up].mean())


def test_prediction_is_an_explicit_step_carrying_its_provenance():
    import numpy as np

    from forecast.backtest import simulate
    from forecast.data.synthetic import random_walk_bars
    from forecast.evaluate import direction_metrics
    from strategies import LongOnly

    bars = random_walk_bars(700, seed=3)
    preds = fc.predict(bars, "logreg", test_days=126, retrain_every=63)
    assert isinstance(preds, fc.Predictions) and preds.model == "logreg"
    assert preds.provenance["label"] == "open" and preds.provenance["test_days"] == 126
    result = fc.run_backtest(bars, preds, strategy="long-only")
    # Built once, complete: nothing for the caller to fill in afterwards.
    assert result.model == "logreg" and result.strategy == "long-only"
    assert result.walk_forward == preds.provenance
    traded = (bars["open"].shift(-2) / bars["open"].shift(-1) - 1).reindex(preds.frame.index)
    expected = direction_metrics(preds.frame["prob_up"], preds.frame["actual_up"], traded)
    assert result.forecast_metrics == expected
    # The engine given a bare frame knows no model and scores nothing.
    bare = simulate(bars, preds.frame[["prob_up"]], LongOnly)
    assert bare.model is None and bare.forecast_metrics is None
    np.testing.assert_array_equal(bare.equity["strategy"], result.equity["strategy"])
