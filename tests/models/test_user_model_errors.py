"""A user's model that fails or answers nonsense is named in one line, never clipped into
range or reported as "unexpected" (issue 20, items 10, 14 and 15)."""

from __future__ import annotations

import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import walk_forward

BAD_MODELS = '''
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Fits(ClassifierMixin, BaseEstimator):
    def __init__(self, p=0.5):
        self.p = p

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.full(len(X), self.p)
        return np.column_stack([1 - p, p])


class Three(Fits):
    def __init__(self, p=3.0):
        self.p = p


class Negative(Fits):
    def __init__(self, p=-0.25):
        self.p = p


class NaNs(Fits):
    def __init__(self, p=float("nan")):
        self.p = p


class OneColumn(Fits):
    def predict_proba(self, X):
        return np.full(len(X), 0.5)


class RowShort(Fits):
    def predict_proba(self, X):
        return np.full((len(X) - 1, 2), 0.5)


class FitRaises(Fits):
    def fit(self, X, y):
        raise ValueError("the solver diverged")


class PredictRaises(Fits):
    def predict_proba(self, X):
        raise RuntimeError("no weights")
'''

FAST = ["--test-days", "126", "--retrain-every", "63", "--no-plot"]


@pytest.fixture
def models(tmp_path):
    Store().write(random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")
    path = tmp_path / "bad_models.py"
    path.write_text(BAD_MODELS)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("Three", "predict_proba gave 63 of 63 P(up) values outside [0, 1] (first: 3.0)"),
        ("Negative", "outside [0, 1] (first: -0.25)"),
        ("NaNs", "outside [0, 1] (first: nan)"),
        ("OneColumn", "predict_proba returned an array of shape (63,) for 63 windows; expected (63, 2)"),
        ("RowShort", "predict_proba returned an array of shape (62, 2) for 63 windows"),
        ("FitRaises", "fit failed: ValueError: the solver diverged"),
        ("PredictRaises", "predict_proba failed: RuntimeError: no weights"),
    ],
)
def test_a_bad_user_model_is_one_line_naming_it(capsys, models, model, message):
    code, _, err = run(capsys, "backtest", "SYN", "--model", f"{models}:{model}", *FAST)
    assert code == 1 and err.strip().count("\n") == 0 and "unexpected" not in err, err
    assert f"model {models}:{model}: " in err and message in err


def test_a_saved_model_predicting_out_of_range_is_refused(capsys, models, tmp_path):
    """`backtest --model-path`: the forward prediction path checks too."""
    from forecast.training import save_trained, train_model

    save_trained(train_model(Store().read("SYN").loc[:"2014-06-30"], f"{models}:Three"), tmp_path / "m")
    code, _, err = run(capsys, "backtest", "SYN", "--model-path", tmp_path / "m", "--start", "2014-07-01",
                       "--no-plot")
    assert code == 1 and err.strip().count("\n") == 0
    assert f"model {models}:Three: predict_proba gave" in err and "(first: 3.0)" in err


def test_train_names_a_user_model_whose_fit_raises(capsys, models):
    code, _, err = run(capsys, "train", "SYN", "--model", f"{models}:FitRaises", "--end", "2014-06-30")
    assert code == 1 and err.strip().count("\n") == 0
    assert f"model {models}:FitRaises: fit failed: ValueError: the solver diverged" in err


def test_a_negative_seed_speaks_of_the_option_not_a_class(capsys, models):
    for model in ("gbm", "logreg"):  # logreg takes no seed: refused all the same
        code, _, err = run(capsys, "backtest", "SYN", "--model", model, "--seed", "-1", *FAST)
        assert code != 0 and "--seed must be a non-negative integer, got -1" in err, err
        assert "GBMBaseline" not in err and err.strip().count("\n") == 0
    with pytest.raises(ConfigError, match=r"^seed must be an int in the range \[0, inf\), got -1$"):
        walk_forward(Store().read("SYN"), "logreg", seed=-1)


def test_a_portfolio_refuses_a_user_models_out_of_range_probabilities(capsys, models):
    """The pooled portfolio forecasts clipped P(up) into [0, 1] too."""
    for seed, ticker in enumerate(("AAA", "BBB")):
        bars = random_walk_bars(900, seed=seed, start="2012-01-02", ticker=ticker)
        Store().write(bars, ticker, source="test")
    code, _, err = run(capsys, "portfolio", "SYN", "AAA", "BBB", "--model", f"{models}:Three",
                       "--param", "k=1", "--test-days", "126")
    assert code == 1 and "unexpected" not in err, err
    assert f"model {models}:Three: predict_proba gave" in err and "(first: 3.0)" in err
