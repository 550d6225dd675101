"""The source of a small user model file, shared by the model-plugin and CLI tests."""

USER_MODEL = '''
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class LastRow(ClassifierMixin, BaseEstimator):
    """Logistic regression on the latest row of each window."""

    def __init__(self, C=1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(np.asarray(X)[:, -1, :], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X)[:, -1, :])


class KerasLike(LastRow):
    """Trains with Keras-style callbacks."""

    def fit(self, X, y, callbacks=None):
        return super().fit(X, y)


class NeedsArgs(LastRow):
    def __init__(self, C):
        self.C = C


class NoProba:
    def fit(self, X, y):
        return self

    def get_params(self, deep=True):
        return {}

NOT_A_CLASS = 3
'''
