"""Fitting and predicting with any model the same way: progress callbacks where taken, no
validation leak, and a user's model that fails or answers nonsense named in one line."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast.errors import ConfigError, FcastError
from forecast.models.keras_base import fit_takes_callbacks
from forecast.user_code import one_line


def model_label(estimator) -> str:
    """How errors name a model: its registry name or `file.py:Class` reference."""
    from forecast.models.registry import model_reference

    try:
        return model_reference(estimator)
    except ConfigError:  # a class defined in __main__ or a function
        return type(estimator).__name__


def _is_users(estimator) -> bool:
    """Whether the class is a user's (fcast's own raise as the bugs they would be)."""
    return not type(estimator).__module__.startswith("forecast.")


def _call(estimator, method: str, *args, **kwargs):
    """`estimator.<method>(*args, **kwargs)`; a user's model that raises is a ConfigError
    naming the model, the method and the error (fcast's own errors pass as they are)."""
    try:
        return getattr(estimator, method)(*args, **kwargs)
    except Exception as exc:
        if isinstance(exc, FcastError) or not _is_users(estimator):
            raise
        raise ConfigError(f"model {model_label(estimator)}: {method} failed: {one_line(exc)}") from None


def fit_model(estimator, X, y, callbacks: list | None = None):
    """`estimator.fit(X, y)`, with `callbacks=` when its fit accepts them (Keras models).

    A user's model whose fit raises is a ConfigError naming the model and the error."""
    if callbacks and fit_takes_callbacks(estimator):
        return _call(estimator, "fit", X, y, callbacks=callbacks)
    return _call(estimator, "fit", X, y)


def predict_up(estimator, X) -> np.ndarray:
    """P(up) for each window of X: the `predict_proba` column of class 1.

    ConfigError (one line, naming the model) when predict_proba raises (a user's model),
    returns other than one row per window with a column for class 1, or any P(up) outside
    [0, 1] (NaN included): such values are refused, never clipped into range.
    """
    proba = np.asarray(_call(estimator, "predict_proba", X), dtype="float64")
    label = model_label(estimator)
    classes = list(getattr(estimator, "classes_", [0, 1]))
    if proba.ndim != 2 or proba.shape[0] != len(X) or 1 not in classes or proba.shape[1] != len(classes):
        raise ConfigError(
            f"model {label}: predict_proba returned an array of shape {proba.shape} for "
            f"{len(X)} windows; expected ({len(X)}, {len(classes)}), a column per class in "
            f"classes_ {classes} (which must hold 1)"
        )
    p = proba[:, classes.index(1)]
    bad = np.isnan(p) | (p < 0) | (p > 1)
    if bad.any():
        first = p[bad][0]
        raise ConfigError(
            f"model {label}: predict_proba gave {int(bad.sum())} of {len(p)} P(up) values "
            f"outside [0, 1] (first: {float(first)}); probabilities are refused, not clipped"
        )
    return p


def predict_score(estimator, X) -> np.ndarray:
    """The predicted return or rank for each window of X (`predict` of a regression twin).

    ConfigError (one line, naming the model) when predict raises (a user's model), or
    returns other than one finite number per window."""
    score = np.asarray(_call(estimator, "predict", X), dtype="float64")
    label = model_label(estimator)
    score = score.reshape(-1) if score.ndim == 2 and score.shape[1:] == (1,) else score
    if score.shape != (len(X),):
        raise ConfigError(f"model {label}: predict returned an array of shape {score.shape} for "
                          f"{len(X)} windows; expected ({len(X)},), one score per window")
    if not np.isfinite(score).all():
        raise ConfigError(f"model {label}: predict gave {int((~np.isfinite(score)).sum())} of "
                          f"{len(score)} scores that are NaN or infinite")
    return score


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
