"""Keras-free estimators for walk-forward tests: a warm refit, and one whose fit fails.

The Ray tests load this file by path (`path/warm_models.py:WarmMean`, as a user's model), so
its code travels to the workers."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class WarmMean(ClassifierMixin, BaseEstimator):
    """A warm refit without Keras: each fit averages its labels into what it learnt before,
    so a fold's forecasts depend on every earlier fold of the same model."""

    warm_refits = True

    def __init__(self, warm_start: bool = True):
        self.warm_start = warm_start

    def fit(self, X, y):
        rate = float(np.mean(y))
        self.rate_ = (self.rate_ + rate) / 2 if hasattr(self, "rate_") else rate
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.clip(self.rate_ + 0.01 * X.reshape(len(X), -1)[:, -1], 0.01, 0.99)
        return np.column_stack([1 - p, p])


class Broken(WarmMean):
    def fit(self, X, y):
        raise RuntimeError("boom in fit")
