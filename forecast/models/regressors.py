"""Regression twins of the scikit-learn models: what they fit when the target is a number
(the next traded return, or its cross-sectional rank) instead of a direction.

The contract (README, "Regression targets"; `forecast.models.registry.regressor_class`): a
twin takes its classifier's parameters, fits 3-D windows and float targets, and `predict`
returns one finite score per window. The registry maps the built-in names to their twins; a
user's classifier names its twin in the class attribute `regressor`, and a scikit-learn
regressor (a `RegressorMixin`) is its own.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from forecast.models.baselines import GBMBaseline, LogRegBaseline
from forecast.models.forest import RandomForestModel
from forecast.models.inputs import check_values, check_X, to_tabular
from forecast.models.lgbm import LightGBMModel
from forecast.models.params import check_params


class WindowRegressor(RegressorMixin, BaseEstimator):
    """The common fit bookkeeping of the regression twins: 3-D windows in, one score out."""

    _parameter_constraints = {}

    def _start_fit(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        check_params(self)
        X = check_X(X)
        y = check_values(y, len(X))
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = X.shape[2]
        return X, y

    def _check_predict(self, X) -> np.ndarray:
        check_is_fitted(self, "input_shape_")
        return check_X(X, self.input_shape_)


class MeanScore(WindowRegressor):
    """The training mean for every window: the majority baseline's twin (no ranking skill)."""

    def __init__(self):
        pass

    def fit(self, X, y):
        _, y = self._start_fit(X, y)
        self.mean_ = float(y.mean())
        return self

    def predict(self, X) -> np.ndarray:
        return np.full(len(self._check_predict(X)), self.mean_)


class MomentumScore(WindowRegressor):
    """The latest one-day return `X[:, -1, 0]` as the score: the momentum baseline's twin
    (tomorrow repeats today, in size as well as sign)."""

    def __init__(self):
        pass

    def fit(self, X, y):
        self._start_fit(X, y)
        return self

    def predict(self, X) -> np.ndarray:
        return self._check_predict(X)[:, -1, 0].astype("float64")


class TabularRegressor(WindowRegressor):
    """A scikit-learn regressor on the latest row or the flattened window."""

    def _make_estimator(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y):
        X, y = self._start_fit(X, y)
        self.estimator_ = self._make_estimator().fit(to_tabular(X, self.input_mode), y)
        return self

    def predict(self, X) -> np.ndarray:
        X = self._check_predict(X)
        return np.asarray(self.estimator_.predict(to_tabular(X, self.input_mode)), dtype="float64")


class RidgeScore(TabularRegressor):
    """Ridge regression (standardised): logistic regression's twin.

    Same parameters as `logreg`: the L2 penalty is alpha = 1 / (2 C), the weight logistic
    regression's C puts on the squared coefficients; `max_iter` bounds an iterative solver.
    """

    _parameter_constraints = LogRegBaseline._parameter_constraints

    __init__ = LogRegBaseline.__init__  # the same parameters, read by get_params

    def _make_estimator(self):
        return make_pipeline(StandardScaler(), Ridge(alpha=1.0 / (2.0 * self.C), max_iter=self.max_iter))


class GBMScore(TabularRegressor):
    """Histogram gradient boosting regression (squared error): `gbm`'s twin, with the same
    parameters, seeded and without its internal (shuffled) early stopping."""

    _parameter_constraints = GBMBaseline._parameter_constraints

    __init__ = GBMBaseline.__init__

    def _make_estimator(self):
        return HistGradientBoostingRegressor(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                             max_depth=self.max_depth, early_stopping=False,
                                             random_state=self.seed)


class ForestScore(TabularRegressor):
    """Random forest regression: `rf`'s twin, with the same parameters."""

    _parameter_constraints = RandomForestModel._parameter_constraints

    __init__ = RandomForestModel.__init__

    def _make_estimator(self):
        return RandomForestRegressor(n_estimators=self.n_estimators, max_depth=self.max_depth,
                                     min_samples_leaf=self.min_samples_leaf, max_features="sqrt",
                                     max_samples=self.max_samples, n_jobs=self.n_jobs,
                                     random_state=self.seed)

    def fit(self, X, y):
        super().fit(X, y)
        self.estimator_.set_params(n_jobs=1)  # as rf: the trees' sum in one order, run to run
        return self


class LightGBMScore(TabularRegressor):
    """LightGBM regression (squared error): `lgbm`'s twin, with the same parameters, seeded
    and deterministic like it."""

    _parameter_constraints = LightGBMModel._parameter_constraints
    __init__ = LightGBMModel.__init__
    _booster_params = LightGBMModel._booster_params

    def _make_estimator(self):
        import lightgbm

        return lightgbm.LGBMRegressor(**self._booster_params())
