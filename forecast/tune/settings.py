"""What a tuning run is asked to do, checked once: trials, space, score, inner validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from forecast.errors import ConfigError
from forecast.models.params import check_int

METRICS = ("log_loss", "accuracy")  # what a trial is scored by on its validation blocks
DEFAULT_METRIC = "log_loss"  # smoother than accuracy, so TPE and the pruner see more
DEFAULT_INNER_FOLDS = 3
SPEC_KEYS = {"model", "trials", "space", "metric", "inner_folds", "inner_block", "prune"}


@dataclass(frozen=True)
class TuneSettings:
    """A nested search's settings (see docs/TUNING.md).

    `trials`: Optuna trials per walk-forward fold (pruned ones included: they were spent).
    `space`: parameter -> dimension table (`forecast.tune.space`); None: the model's
    declared `search_space`. `metric`: "log_loss" (minimised) or "accuracy" (maximised),
    averaged over the inner validation blocks. `inner_folds` blocks of `inner_block` rows
    (None: the walk-forward's `retrain_every`). `prune`: stop a trial whose running score
    is below the median of earlier trials' at the same block (Optuna's MedianPruner).
    `on_trial(fold, n_folds, record)` is told of every finished trial (progress lines);
    it does not change the result and is not part of `record()`. `executor`: where the
    folds' searches run, e.g. a `forecast.experiment.RayExecutor` (one task per fold, each
    fold's search seeded as in the serial run, so the result is the same); None: here, in
    order. Neither is part of the result or the cache key.
    """

    trials: int
    space: Mapping[str, Any] | None = None
    metric: str = DEFAULT_METRIC
    inner_folds: int = DEFAULT_INNER_FOLDS
    inner_block: int | None = None
    prune: bool = True
    on_trial: Callable[[int, int, dict], None] | None = field(default=None, compare=False, repr=False)
    executor: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        check_int("trials", self.trials, minimum=1)
        check_int("inner_folds", self.inner_folds, minimum=1)
        if self.inner_block is not None:
            check_int("inner_block", self.inner_block, minimum=1)
        if self.metric not in METRICS:
            raise ConfigError(f"tuning metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if not isinstance(self.prune, bool):
            raise ConfigError(f"prune must be true or false, got {self.prune!r}")
        if self.space is not None:
            from forecast.tune.space import parse_space

            parse_space(self.space)  # the shape of every dimension; names are checked per model

    @property
    def maximize(self) -> bool:
        return self.metric == "accuracy"

    def record(self, space: Mapping | None = None) -> dict:
        """The settings as JSON (`space`: the resolved one, when known): for the cache key,
        the predictions' attrs and the report."""
        return {"trials": self.trials, "space": dict(space if space is not None else self.space or {}),
                "metric": self.metric, "inner_folds": self.inner_folds, "inner_block": self.inner_block,
                "prune": self.prune, "sampler": "tpe", "pruner": "median" if self.prune else None}

    def fold_models(self, template: Any, name: str, model_params: dict | None, *, schedule, bars,
                    seed: int, n_folds: int):
        """The `FoldModels` a tuned walk-forward runs its folds with (walk_forward calls this:
        the walk-forward layer does not import this package)."""
        from forecast.tune.fold_models import tuned_fold_models

        return tuned_fold_models(template, name, model_params, self, schedule=schedule, bars=bars,
                                 seed=seed, n_folds=n_folds)

    def key_fields(self, template: Any, name: str, model_params: dict | None) -> dict:
        """What the prediction cache keys a tuned run by: `record()` with the resolved space
        (a model's declared default space changing is another key)."""
        from forecast.tune.fold_models import resolve_space
        from forecast.tune.space import space_to_dict

        return self.record(space_to_dict(resolve_space(template, self, name, model_params)))

    @classmethod
    def from_table(cls, table: Mapping, *, where: str = "[tune]") -> TuneSettings:
        """From a spec's `[tune]` table (its `model` aside); one ConfigError line per mistake."""
        extra = sorted(set(table) - SPEC_KEYS)
        if extra:
            raise ConfigError(f"unknown key(s) in {where}: {', '.join(extra)} "
                              f"(allowed: {', '.join(sorted(SPEC_KEYS))})")
        if "trials" not in table:
            raise ConfigError(f"{where} needs trials = N (Optuna trials per walk-forward fold)")
        kwargs = {k: table[k] for k in ("trials", "space", "metric", "inner_folds", "inner_block", "prune")
                  if k in table}
        for key in ("trials", "inner_folds", "inner_block"):
            value = kwargs.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{where} {key} must be a whole number, got {value!r}")
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
