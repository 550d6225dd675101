"""Regression twins: which class a model name fits for a return or rank target, their
early-stopping tail, the one-line refusal of a model without one, and where the target
reaches (the cache key, the CLI, the portfolio's ranking)."""

from __future__ import annotations

import json

import leakage_shapes as shapes
import numpy as np
import pandas as pd
import pytest
from cli_run import run
from sklearn.linear_model import LinearRegression, LogisticRegression

from forecast.cache import prediction_key
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.models.fitting import purge_validation_overlap
from forecast.models.registry import MODELS, REGRESSORS, make_model, regressor_class
from forecast.models.resolve import resolve_estimator


def _linear(n=400, seed=0):
    """Windows whose target is 2 x the last row's first feature plus a little noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4, 3))
    return X, 2.0 * X[:, -1, 0] + rng.normal(0, 0.1, n)


@pytest.mark.parametrize("name", ["logreg", "gbm", "rf", "lgbm", "majority", "momentum"])
def test_every_tabular_twin_takes_its_classifiers_parameters(name):
    twin = make_model(name, regression=True)
    assert set(twin.get_params()) == set(MODELS[name]().get_params())
    X, y = _linear()
    score = twin.fit(X[:300], y[:300]).predict(X[300:])
    assert score.shape == (100,) and np.isfinite(score).all()


@pytest.mark.parametrize("name", ["logreg", "gbm", "lgbm"])
def test_a_twin_learns_a_linear_target(name):
    X, y = _linear()
    score = make_model(name, regression=True).fit(X[:300], y[:300]).predict(X[300:])
    assert np.corrcoef(score, y[300:])[0, 1] > 0.9


def test_bad_twin_parameters_are_one_line():
    with pytest.raises(ConfigError, match="model logreg: C must be"):
        make_model("logreg", regression=True, C=-1)
    with pytest.raises(ConfigError, match="unknown parameter"):
        make_model("gbm", regression=True, alpha=1)


def test_a_model_without_a_regressor_is_refused_in_one_line(tmp_path):
    user = tmp_path / "mine.py"
    user.write_text("from sklearn.linear_model import LogisticRegression as Clf\n"
                    "from sklearn.linear_model import Ridge\n"
                    "class WithTwin(Clf):\n    regressor = Ridge\n")
    with pytest.raises(ConfigError, match="cannot fit a return or rank target; choose one of"):
        regressor_class("nope")
    with pytest.raises(ConfigError, match="is not a model for a return or rank target"):
        regressor_class(f"{user}:Clf")
    assert regressor_class(f"{user}:WithTwin").__name__ == "Ridge"
    with pytest.raises(ConfigError, match="needs a registry name or a scikit-learn regressor"):
        resolve_estimator(LogisticRegression(), None, 0, regression=True)
    est, _ = resolve_estimator(LinearRegression(), None, 0, regression=True)
    assert isinstance(est, LinearRegression)


def test_keras_twins_keep_the_purged_chronological_tail():
    """The walk-forward gives a Keras twin the same validation gap as its classifier: the
    open label reads two bars ahead, so one sample between training head and tail."""
    for name in ("mlp", "lstm", "gru", "tcn", "transformer"):
        est, _ = resolve_estimator(name, None, 0, regression=True)
        assert type(est) is REGRESSORS[name] and est.regression
        assert purge_validation_overlap(est, None, 2).get_params()["validation_gap"] == 1


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.parametrize("name, params", [
    ("mlp", {"hidden_units": (8,)}), ("lstm", {"units": (4,)}), ("gru", {"units": (4,)}),
    ("tcn", {"filters": 8, "dilations": (1, 2)}), ("transformer", {"d_model": 8, "heads": 2, "layers": 1,
                                                                    "ff_units": 16}),
])
def test_keras_twins_fit_a_linear_output_on_squared_error(name, params):
    X, y = _linear(256)
    est = make_model(name, regression=True, epochs=30, batch_size=32, learning_rate=0.01,
                     validation_fraction=0.25, validation_gap=3, patience=30, dropout=0.0, **params)
    est.fit(X[:200], y[:200])
    score = est.predict(X[200:])
    assert score.shape == (56,) and np.isfinite(score).all()
    assert est.model_.layers[-1].get_config()["activation"] == "linear"
    assert est.model_.loss == "mse"
    # The early-stopping split: the last 50 samples held out, the 3 before them dropped.
    assert est.n_train_ == 200 - 50 - 3
    assert np.corrcoef(score, y[200:])[0, 1] > 0.5
    with pytest.raises(ConfigError, match="not P\\(up\\)"):
        est.predict_proba(X[200:])


def test_the_cache_key_adds_the_target_only_when_not_direction():
    bars = random_walk_bars(600, seed=1)
    kw = dict(window=5, test_days=100)
    direction, fields = prediction_key(bars, "logreg", **kw)
    assert "target" not in fields
    assert prediction_key(bars, "logreg", target="direction", **kw)[0] == direction
    ret, fields = prediction_key(bars, "logreg", target="return", **kw)
    assert ret != direction and fields["target"] == "return"
    assert fields["model_class"].endswith("RidgeScore")


def test_a_cached_return_frame_comes_back_whole(tmp_path):
    from forecast.cache import PredictionCache

    bars = random_walk_bars(700, seed=3)
    cache = PredictionCache(tmp_path)
    kw = dict(window=5, test_days=150, retrain_every=150, target="return")
    first = cache.walk_forward(bars, "logreg", **kw)
    again = cache.walk_forward(bars, "logreg", **kw)
    assert cache.last == "hit"
    pd.testing.assert_frame_equal(first, again, check_freq=False)
    assert list(again.columns) == ["score", "actual_up", "realized", "fold"]


def test_a_portfolio_ranks_by_score():
    """A frame with scores only trades as a frame whose prob_up is any per-day increasing
    map of them would: the same names, the same equity; IC and spread read the score."""
    from forecast.portfolio.ic import information_coefficients
    from forecast.portfolio.run import score_portfolio
    from strategies.portfolio import load_portfolio_strategy

    u = shapes.universe(k=6)
    preds = shapes.run("pooled", u, "logreg", target="return")
    cls = load_portfolio_strategy("long-short")
    kw = dict(model="logreg", pooled=True, strategy="long-short", market=None)
    by_score = score_portfolio(u, preds, cls, {"k": 2}, target="return", **kw)
    # the same order each day, squeezed into (0, 1) by a logistic of the day's z-score
    wide = preds["score"].unstack("ticker")
    z = wide.sub(wide.mean(axis=1), axis=0).div(wide.std(axis=1), axis=0)
    prob = (1 / (1 + np.exp(-z))).stack(future_stack=True).reindex(preds.index)
    as_prob = preds.drop(columns="score").assign(prob_up=prob)[["prob_up", "actual_up", "realized", "fold"]]
    by_prob = score_portfolio(u, as_prob, cls, {"k": 2}, target="direction", **kw)
    pd.testing.assert_frame_equal(by_score.backtest.weights, by_prob.backtest.weights)
    assert by_score.backtest.weights.abs().sum(axis=1).max() > 0.9
    ic = information_coefficients(wide, preds["realized"].unstack("ticker"))
    pd.testing.assert_series_equal(by_score.ic["ic"], ic["ic"])


@pytest.fixture
def stored():
    bars = random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN")
    Store().write(bars, "SYN", source="test")
    return bars


def test_evaluate_target_return_json(capsys, stored):
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--target", "return", "--json",
                         "--test-days", "126", "--retrain-every", "63")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == "return" and doc["n_predictions"] == 126
    assert {"ic", "rank_ic", "accuracy", "n"} <= set(doc)
    assert set(doc["baselines"]) == {"majority", "momentum", "gbm"}
    assert all({"ic", "rank_ic", "accuracy"} <= set(m) for m in doc["baselines"].values())


@pytest.mark.parametrize("args, message", [
    (["evaluate", "SYN", "--model", "logreg", "--target", "rank"], "rank is a universe's target"),
    (["evaluate", "SYN", "--model", "logreg", "--target", "up"], "target must be one of direction, return"),
    (["portfolio", "AAA", "BBB", "--target", "up"], "--target must be one of direction, beats-median"),
])
def test_bad_targets_are_one_line(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code != 0 and message in err and "Traceback" not in err


def test_a_single_ticker_backtest_refuses_scores_in_one_line():
    from forecast.api import run_backtest

    bars = random_walk_bars(700, seed=3)
    with pytest.raises(ConfigError, match="single-ticker strategies trade P\\(up\\)"):
        run_backtest(bars, model="logreg", walk_forward_kwargs=dict(window=5, test_days=150, target="return"))
