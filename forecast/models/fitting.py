"""Fit any registered model, passing progress callbacks only to models that take them."""

from __future__ import annotations

import inspect


def fit_model(estimator, X, y, callbacks: list | None = None):
    """`estimator.fit(X, y)`, with `callbacks=` when its fit accepts them (Keras models)."""
    if callbacks and "callbacks" in inspect.signature(estimator.fit).parameters:
        return estimator.fit(X, y, callbacks=callbacks)
    return estimator.fit(X, y)
