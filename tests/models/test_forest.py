"""The random forest (`rf`, Krauss, Do & Huck 2017): scikit-learn's forest on the tabular view,
seeded, the same trees for any number of threads (saving and loading: test_persistence.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from forecast.errors import ConfigError
from forecast.models.inputs import to_tabular
from forecast.models.registry import BASELINES, make_model


def _data(n=400, window=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, 3))
    y = ((X[:, -1, 0] + 0.5 * X[:, -2, 1]) > 0).astype(int)
    return X, y


def test_rf_equals_scikit_learns_forest_on_the_same_rows():
    X, y = _data()
    mine = make_model("rf", n_estimators=15, max_depth=5, seed=3, input_mode="flatten").fit(X, y)
    ref = RandomForestClassifier(n_estimators=15, max_depth=5, max_features="sqrt", random_state=3)
    ref.fit(X.reshape(len(X), -1), y)
    np.testing.assert_array_equal(mine.predict_proba(X), ref.predict_proba(X.reshape(len(X), -1)))
    assert to_tabular(X, "latest").shape == (len(X), 3)  # the default reads the latest row only


def test_rf_is_seeded_and_the_same_for_any_thread_count():
    X, y = _data()
    a = make_model("rf", n_estimators=12, seed=1).fit(X, y).predict_proba(X)
    b = make_model("rf", n_estimators=12, seed=1, n_jobs=2).fit(X, y).predict_proba(X)
    c = make_model("rf", n_estimators=12, seed=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rf_is_a_model_not_a_baseline_and_checks_its_parameters():
    assert "rf" not in BASELINES  # evaluate would otherwise fit it beside every model
    with pytest.raises(ConfigError, match="n_estimators"):
        make_model("rf", n_estimators=0).fit(*_data(50))



def test_rf_max_samples_subsamples_each_bootstrap_as_scikit_learn_does():
    X, y = _data()
    mine = make_model("rf", n_estimators=10, max_samples=0.25, seed=3, input_mode="flatten").fit(X, y)
    ref = RandomForestClassifier(n_estimators=10, max_depth=20, max_features="sqrt", max_samples=0.25,
                                 random_state=3).fit(X.reshape(len(X), -1), y)
    full = make_model("rf", n_estimators=10, seed=3, input_mode="flatten").fit(X, y)
    np.testing.assert_array_equal(mine.predict_proba(X), ref.predict_proba(X.reshape(len(X), -1)))
    assert not np.array_equal(mine.predict_proba(X), full.predict_proba(X))  # it does subsample
    with pytest.raises(ConfigError, match="max_samples"):
        make_model("rf", max_samples=1.5).fit(*_data(50))
