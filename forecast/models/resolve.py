"""From a model name or estimator to the unfitted template each walk-forward fold starts from."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sklearn.base import RegressorMixin, clone

from forecast.errors import ConfigError

# Estimator parameters that a walk-forward's seed is written to.
SEED_PARAMS = ("random_state", "seed")


def resolve_estimator(model: Any, params: dict | None, seed: int, regression: bool = False
                      ) -> tuple[Any, str]:
    """An unfitted estimator template and its display name.

    `model` is a registry name (built with `make_model(model, **params)`) or a scikit-learn
    classifier (cloned; `params` go to `set_params`). `seed` is written to the estimator's
    `random_state`/`seed` unless `params` sets it (for an instance: only where it is None).
    `regression` (a return or rank target): the name's regression twin, or an instance
    that is a scikit-learn regressor (`fit`, `predict`).
    """
    params = dict(params or {})
    if isinstance(model, str):
        from forecast.models.registry import make_model  # lazy: may pull in TensorFlow

        est = make_model(model, regression=regression, **params)
        free = {p: seed for p in SEED_PARAMS if p in est.get_params(deep=False) and p not in params}
        return (est.set_params(**free) if free else est), model
    if regression and not (isinstance(model, RegressorMixin) and hasattr(model, "get_params")):
        raise ConfigError(f"a return or rank target needs a registry name or a scikit-learn regressor, "
                          f"not {type(model).__name__}")
    if not regression and not (
        hasattr(model, "fit") and hasattr(model, "predict_proba") and hasattr(model, "get_params")
    ):
        raise ConfigError(
            f"model must be a registry name or a scikit-learn classifier, not {type(model).__name__}"
        )
    est = clone(model)
    if params:
        try:
            est.set_params(**params)
        except ValueError as exc:
            raise ConfigError(f"bad model parameter: {exc}") from None
    current = est.get_params(deep=False)
    free = {p: seed for p in SEED_PARAMS if p in current and current[p] is None and p not in params}
    if free:
        est.set_params(**free)
    return est, getattr(model, "name", None) or type(model).__name__


def validation_gap_is_free(estimator: Any, params: dict | None) -> bool:
    """Whether the estimator has an early-stopping `validation_gap` that nobody set, so the
    walk-forward may set it to cover its labels' look-ahead."""
    current = estimator.get_params(deep=False)
    return "validation_gap" in current and not current["validation_gap"] and "validation_gap" not in (
        params or {}
    )


def warm_refits(estimator: Any) -> bool:
    """Whether walk-forward refits `estimator` warm: it declares `warm_refits` (its fit
    continues the fitted model, as the Keras forecasters' do) and its `warm_start` is on.

    Other estimators are cloned cold every fold: scikit-learn's own `warm_start` means
    different things (gradient boosting would keep its trees and add none).
    """
    return bool(getattr(estimator, "warm_refits", False)) and bool(
        estimator.get_params(deep=False).get("warm_start", False)
    )


class FoldModels:
    """The model each fold starts from: a fresh clone of the template, or, for an estimator
    that refits warm, the model the previous fold fitted under the same key (the pooled
    model, or one ticker's). That model was trained on labels that end before the previous
    test block, so before this one's too; folds must run oldest first."""

    def __init__(self, template: Any):
        self.template = template
        self.warm = warm_refits(template)
        self._fitted: dict[Hashable, Any] = {}

    def start(self, key: Hashable = None) -> Any:
        return self._fitted[key] if self.warm and key in self._fitted else clone(self.template)

    def keep(self, key: Hashable, fitted: Any) -> None:
        self._fitted[key] = fitted

    def prepare(self, estimator: Any, fold: Any, parts: list) -> Any:
        """The fold's estimator just before it is fitted on `parts` (the fold's training
        windows): unchanged here; nested tuning sets its searched parameters
        (`forecast.tune.fold_models.TunedFoldModels`)."""
        return estimator

    def fold_record(self, fold_index: int) -> Any:
        """What preparing fold `fold_index` recorded (nested tuning: its search), sent back
        from the task that ran the fold; None: nothing to keep."""
        return None

    def keep_record(self, fold_index: int, record: Any) -> None:
        """Keep a fold's record in the walk-forward's own process (a remote task's copy of
        these fold models is gone once it returns)."""
