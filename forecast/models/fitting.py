"""Fitting any model the same way: progress callbacks where taken, no validation leak."""

from __future__ import annotations

import inspect
from typing import Any


def fit_takes_callbacks(estimator_or_class) -> bool:
    """Whether `fit` accepts `callbacks=` (the Keras models do; e.g. an epoch progress bar)."""
    fit = getattr(estimator_or_class, "fit", None)
    try:
        return fit is not None and "callbacks" in inspect.signature(fit).parameters
    except (TypeError, ValueError):  # a fit without a readable signature (C extensions)
        return False


def fit_model(estimator, X, y, callbacks: list | None = None):
    """`estimator.fit(X, y)`, with `callbacks=` when its fit accepts them (Keras models)."""
    if callbacks and fit_takes_callbacks(estimator):
        return estimator.fit(X, y, callbacks=callbacks)
    return estimator.fit(X, y)


def purge_validation_overlap(estimator: Any, params: dict | None, lookahead: int) -> Any:
    """Gap an early-stopping split by lookahead - 1 samples, unless the caller set one.

    A training label at t reads prices up to bar t + `lookahead` (see `label_lookahead`);
    without the gap the last training labels would share prices with the first
    validation samples (with the open label even at horizon 1: open[t+2] ends label t and
    starts label t+1). Estimators without a `validation_gap` parameter are returned as
    they are.
    """
    if (
        lookahead > 1
        and "validation_gap" in estimator.get_params(deep=False)
        and "validation_gap" not in (params or {})
        and not estimator.get_params(deep=False)["validation_gap"]
    ):
        estimator.set_params(validation_gap=lookahead - 1)
    return estimator
