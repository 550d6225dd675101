"""Baselines behind the same interface as the Keras models: 3-D X in, (n, 2) probabilities out.

A forecaster is only interesting if it beats these.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from forecast.models.inputs import INPUT_MODES, check_both_classes, check_X, check_y, to_tabular
from forecast.models.params import check_params


class WindowClassifier(ClassifierMixin, BaseEstimator):
    """The common fit bookkeeping and predict of the scikit-learn models: 3-D windows in,
    (n, 2) probabilities out."""

    _parameter_constraints = {}

    def _start_fit(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        check_params(self)
        X = check_X(X)
        y = check_y(y, len(X))
        self.classes_ = np.array([0, 1])
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = X.shape[2]
        return X, y

    def _check_predict(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        return check_X(X, self.input_shape_)

    def predict(self, X) -> np.ndarray:
        """Predicted class, 1 (up) when P(up) > 0.5."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)


class Baseline(WindowClassifier):
    """Base of the baselines: subclasses are listed as kind "baseline" and evaluated
    beside every model."""


class MajorityBaseline(Baseline):
    """Training majority class; P(up) = training base rate."""

    def fit(self, X, y):
        """Learn the base rate of up days from y."""
        _, y = self._start_fit(X, y)
        self.base_rate_ = float(y.mean())
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Constant probabilities `(n, 2)` from the training base rate."""
        X = self._check_predict(X)
        p = np.full(len(X), self.base_rate_)
        return np.column_stack([1.0 - p, p])


class MomentumBaseline(Baseline):
    """Previous-day sign: up if the latest 1-day return > 0.

    Tomorrow repeats today: up when the latest one-day return `X[:, -1, 0]` is positive.
    The decision is the sign rule alone (a zero return counts as down). Its confidence is
    the rule's hit rate on the training span, kept strictly inside (0.5, 1): P(up) is that
    rate after an up day and one minus it after a down day. Hard 0/1 probabilities would
    make log loss and Brier score meaningless without changing a single decision.
    """

    def fit(self, X, y):
        """Learn the sign rule's training hit rate (its confidence)."""
        X, y = self._start_fit(X, y)
        hits = float(((X[:, -1, 0] > 0).astype(np.int64) == y).mean())
        self.hit_rate_ = min(max(hits, 0.501), 0.999)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities `(n, 2)`: P(up) = hit rate where the latest `ret_1` is > 0."""
        X = self._check_predict(X)
        up = X[:, -1, 0] > 0
        p = np.where(up, self.hit_rate_, 1.0 - self.hit_rate_)
        return np.column_stack([1.0 - p, p])


class TabularClassifier(WindowClassifier):
    """A scikit-learn estimator on the latest row or the flattened window."""

    def _make_estimator(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y):
        """Fit the wrapped estimator on the tabular view of the training windows."""
        X, y = self._start_fit(X, y)
        check_both_classes(y, type(self).__name__)
        self.estimator_ = self._make_estimator().fit(to_tabular(X, self.input_mode), y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities `(n, 2)`: columns are P(down), P(up)."""
        X = self._check_predict(X)
        return self.estimator_.predict_proba(to_tabular(X, self.input_mode))


class LogRegBaseline(TabularClassifier, Baseline):
    """Logistic regression (standardised) on the latest row or flattened window.

    The scaler is fitted inside fit, on training data only.
    """

    _parameter_constraints = {
        "input_mode": [StrOptions(set(INPUT_MODES))],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }
    # What `fcast tune` searches by default (forecast.tune.space).
    search_space: ClassVar[dict] = {
        "C": {"low": 1e-4, "high": 10.0, "log": True},
        "input_mode": {"choices": ["latest", "flatten"]},
    }

    def __init__(self, input_mode: str = "latest", C: float = 1.0, max_iter: int = 1000):
        self.input_mode = input_mode
        self.C = C
        self.max_iter = max_iter

    def _make_estimator(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))


class GBMBaseline(TabularClassifier, Baseline):
    """Histogram gradient boosting on the latest row or flattened window.

    Seeded, with its internal early stopping off: scikit-learn's own early stopping holds
    out a random (shuffled) validation split, which would mix later samples into the
    stopping decision.
    """

    _parameter_constraints = {
        "input_mode": [StrOptions(set(INPUT_MODES))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, 1, closed="right")],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "seed": [Interval(Integral, 0, None, closed="left")],
    }
    search_space: ClassVar[dict] = {
        "max_iter": {"low": 20, "high": 200, "log": True},
        "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
        "max_depth": {"low": 1, "high": 6},
    }

    def __init__(
        self,
        input_mode: str = "latest",
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = 3,
        seed: int = 0,
    ):
        self.input_mode = input_mode
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.seed = seed

    def _make_estimator(self):
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            early_stopping=False,
            random_state=self.seed,
        )
