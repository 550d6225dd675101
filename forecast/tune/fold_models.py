"""The walk-forward's hook for nested tuning: each fold's model starts from its own search.

`TunedFoldModels` is the `FoldModels` a tuned walk-forward hands to `run_folds`: before a
fold's model is fitted (`prepare`), it runs that fold's search on the fold's training rows
and returns the template with the best trial's parameters; the walk-forward then fits it
on the fold's whole training span and predicts the test block once, as for any model.
There is one walk-forward; tuning adds a step inside its fold loop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast.errors import ConfigError
from forecast.models.resolve import FoldModels
from forecast.tune.search import FoldSearch, Searcher, TrainingRows
from forecast.tune.space import Dimension, declared_space, parse_space, space_to_dict

if TYPE_CHECKING:  # the settings build these lazily: no import cycle
    from forecast.tune.settings import TuneSettings


def resolve_space(template: Any, settings: TuneSettings, name: str, fixed: dict | None = None
                  ) -> tuple[Dimension, ...]:
    """The checked space: the settings' own, else the model's declared `search_space`.
    A parameter both fixed (`fixed`, the model parameters given) and searched is refused."""
    table = settings.space if settings.space is not None else declared_space(type(template))
    if table is None:
        raise ConfigError(f"model {name} declares no search_space; give one (--space FILE.toml or "
                          "[tune] space)")
    dims = parse_space(table, template.get_params(deep=False), where=f"search space of {name}")
    both = sorted(d.name for d in dims if d.name in (fixed or {}))
    if both:
        raise ConfigError(f"{', '.join(both)}: given as a model parameter and searched; drop one")
    return dims


class TunedFoldModels(FoldModels):
    """Cold refits, each fold's parameters chosen by its own search (`searches` keeps them)."""

    def __init__(self, template: Any, dims: tuple[Dimension, ...], settings: TuneSettings, *,
                 seed: int, gap: int, block: int, returns: np.ndarray, searcher: type = Searcher):
        super().__init__(template)
        # A searched parameter may change the network's shape: no fold continues another's.
        self.warm = False
        self.searcher = searcher(template, dims, settings, seed=seed, gap=gap, block=block)
        self.returns = np.asarray(returns, dtype="float64")
        self.space_table = space_to_dict(dims)
        self.searches: dict[int, FoldSearch] = {}  # fold index -> its search
        self.n_folds = 0

    def prepare(self, estimator: Any, fold, parts: list) -> Any:
        if len(parts) != 1:
            raise ConfigError("nested tuning runs on one ticker's walk-forward")
        part = parts[0]
        rows = TrainingRows(part.X_train, part.y_train, part.train_pos, part.train_dates.to_numpy(),
                            self.returns[part.train_pos])
        found = self.searcher.search(rows, fold, self.n_folds)
        self.searches[fold.index] = found
        return estimator.set_params(**found.best_params)

    def fold_record(self, fold_index: int) -> FoldSearch | None:
        return self.searches.get(fold_index)

    def keep_record(self, fold_index: int, record: FoldSearch) -> None:
        self.searches[fold_index] = record

    def summary(self) -> dict:
        """Trials spent, per fold and in all, and each fold's chosen parameters."""
        folds = [self.searches[k].record() for k in sorted(self.searches)]
        return {"trials": sum(f["trials"] for f in folds), "trials_per_fold": [f["trials"] for f in folds],
                "params_per_fold": [f["best_params"] for f in folds], "folds": folds}


def tuned_fold_models(template: Any, name: str, model_params: dict | None, settings: TuneSettings, *,
                      schedule, bars, seed: int, n_folds: int) -> TunedFoldModels:
    """The fold models of a tuned walk-forward: a search per fold, with the outer gap
    (label look-ahead + embargo) between inner training sets and their blocks."""
    from forecast.features.target import forward_return

    dims = resolve_space(template, settings, name, model_params)
    # The fold models travel to the tasks that run the folds: not the executor itself, and,
    # when the folds run elsewhere, no progress callback (its lines would print there).
    parallel = bool(getattr(settings.executor, "parallel", False))
    settings = replace(settings, executor=None, on_trial=None if parallel else settings.on_trial)
    returns = forward_return(bars, schedule.horizon, schedule.label).to_numpy()
    models = TunedFoldModels(template, dims, settings, seed=seed, gap=schedule.lookahead + schedule.embargo,
                             block=settings.inner_block or schedule.retrain_every, returns=returns)
    models.n_folds = n_folds
    return models
