"""One walk-forward fold's hyperparameter search: Optuna's TPE over the fold's training rows.

Every trial draws parameters from the space, then, inner block by inner block (oldest
first, see `forecast.tune.inner`), fits a fresh clone of the model on the inner training
rows and scores it on the block. The running mean is reported to the pruner after each
block; a pruned trial was still spent and is counted. The fold's model is then the best
trial's parameters, refitted by the walk-forward on the fold's whole training span, and
its test block is predicted once.

Nothing here sees the fold's test block: the search is given the fold's training rows
only (windows, labels, bar positions, dates) and the traded return of those rows, whose
labels all end before the test block by the walk-forward's gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import clone

from forecast.errors import ConfigError
from forecast.models.fitting import fit_model, predict_up
from forecast.tune.inner import InnerSplit, inner_splits
from forecast.tune.space import Dimension

if TYPE_CHECKING:  # the settings build these lazily: no import cycle
    from forecast.tune.settings import TuneSettings

PERIODS = 252  # trading days a year: the trials' Sharpe ratios are annualised
PBO_SPLITS = 16


@dataclass
class TrainingRows:
    """What a fold's search may read: its training windows, labels, each row's bar
    position and date, and the return traded after each row's decision."""

    X: np.ndarray
    y: np.ndarray
    positions: np.ndarray
    dates: np.ndarray
    returns: np.ndarray


@dataclass
class FoldSearch:
    """The outcome of one fold's search (`record()` is what the run keeps)."""

    fold: int
    trials: list[dict] = field(default_factory=list)
    best_params: dict = field(default_factory=dict)
    best_value: float | None = None
    best_trial: int | None = None  # the chosen trial's number (a repeat of its parameters is not it)
    splits: list[dict] = field(default_factory=list)
    returns: dict[int, np.ndarray] = field(default_factory=dict)  # complete trials' validation returns

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    def trial_sharpes(self) -> list[float]:
        """Annualised Sharpe ratio of every trial on the validation days it was scored on
        (a pruned trial on its fewer days): the dispersion the DSR deflates by."""
        return [t["sharpe"] for t in self.trials if t["sharpe"] is not None]

    def pbo(self) -> float | None:
        """CSCV PBO among this fold's complete trials on their validation days (None when
        fewer than 2 trials completed or the days are too few for the splits)."""
        from forecast.stats.pbo import probability_of_backtest_overfitting

        cols = [self.returns[k] for k in sorted(self.returns)]
        if len(cols) < 2 or len(cols[0]) < 2 * PBO_SPLITS:
            return None
        matrix = np.column_stack(cols)
        if not np.isfinite(matrix).all():
            return None
        return probability_of_backtest_overfitting(matrix, n_splits=PBO_SPLITS).pbo

    def record(self) -> dict:
        states = [t["state"] for t in self.trials]
        return {"fold": self.fold, "trials": self.n_trials, "complete": states.count("complete"),
                "pruned": states.count("pruned"), "best_params": dict(self.best_params),
                "best_value": self.best_value, "best_trial": self.best_trial, "inner": self.splits,
                "pbo": self.pbo(), "trial_sharpes": self.trial_sharpes(), "trial_log": self.trials}


def sampler_seed(seed: int, fold: int) -> int:
    """The TPE sampler's seed for one fold: the run's seed and the fold, mixed."""
    return int(np.random.SeedSequence([seed, fold]).generate_state(1)[0])


def _score(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    if metric == "accuracy":
        return float(np.mean((p > 0.5) == (y > 0.5)))
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _sharpe(returns: np.ndarray) -> float | None:
    r = returns[np.isfinite(returns)]
    if len(r) < 2:
        return None
    sd = float(np.std(r, ddof=1))
    return 0.0 if sd == 0 else float(np.mean(r) / sd * math.sqrt(PERIODS))


class Searcher:
    """Runs one fold's study. Subclasses may change where trials are scored
    (`validation_sets`): the planted-leak test does, to show what tuning on the test
    block looks like."""

    def __init__(self, template, dims: tuple[Dimension, ...], settings: TuneSettings, *, seed: int,
                 gap: int, block: int):
        self.template = template
        self.dims = dims
        self.settings = settings
        self.seed = seed
        self.gap = gap
        self.block = block

    def validation_sets(self, rows: TrainingRows, fold) -> list[tuple[TrainingRows, TrainingRows]]:
        """(inner training rows, validation rows) per inner block, oldest first."""
        splits = inner_splits(rows.positions, n_blocks=self.settings.inner_folds, block=self.block,
                              gap=self.gap, fold=fold.index)
        return [(_take(rows, s.train), _take(rows, s.validate)) for s in splits]

    def fit_and_score(self, params: dict, train: TrainingRows, validate: TrainingRows) -> np.ndarray:
        """P(up) of the validation rows from a fresh model with `params` fitted on `train`."""
        est = clone(self.template).set_params(**params)
        fit_model(est, train.X, train.y)
        return predict_up(est, validate.X)

    def search(self, rows: TrainingRows, fold, n_folds: int) -> FoldSearch:
        import optuna

        # A trial that raises is reported by fcast in one line; Optuna would log its traceback.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        sets = self.validation_sets(rows, fold)
        out = FoldSearch(fold.index, splits=[_describe(t, v) for t, v in sets])
        settings = self.settings
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0) if settings.prune
                  else optuna.pruners.NopPruner())
        sampler = optuna.samplers.TPESampler(seed=sampler_seed(self.seed, fold.index))
        study = optuna.create_study(direction="maximize" if settings.maximize else "minimize",
                                    sampler=sampler, pruner=pruner)

        def objective(trial) -> float:
            params = {d.name: d.suggest(trial) for d in self.dims}
            scores, returns = [], []
            state = "complete"
            for step, (train, validate) in enumerate(sets):
                if len(np.unique(train.y)) < 2:
                    raise ConfigError(f"fold {fold.index}: an inner training set holds one class only")
                p = self.fit_and_score(params, train, validate)
                scores.append(_score(settings.metric, validate.y, p))
                # The default strategy (long-only above 0.5) on the block, before costs.
                returns.append(np.where(p > 0.5, validate.returns, 0.0))
                trial.report(float(np.mean(scores)), step)
                if step < len(sets) - 1 and trial.should_prune():
                    state = "pruned"
                    break
            traded = np.concatenate(returns)
            record = {"number": trial.number, "params": params, "state": state, "scores": scores,
                      "value": float(np.mean(scores)), "sharpe": _sharpe(traded)}
            out.trials.append(record)
            if settings.on_trial is not None:
                settings.on_trial(fold.index, n_folds, record)
            if state == "pruned":
                raise optuna.TrialPruned()
            out.returns[trial.number] = traded
            return record["value"]

        study.optimize(objective, n_trials=settings.trials, catch=())
        complete = [t for t in out.trials if t["state"] == "complete"]
        if not complete:  # cannot happen with the median pruner (the first trials run in full)
            raise ConfigError(f"fold {fold.index}: every trial was pruned")
        out.best_params = dict(study.best_trial.params)
        out.best_value = float(study.best_value)
        out.best_trial = int(study.best_trial.number)
        return out


def _take(rows: TrainingRows, idx: np.ndarray) -> TrainingRows:
    return TrainingRows(rows.X[idx], rows.y[idx], rows.positions[idx], rows.dates[idx], rows.returns[idx])


def _describe(train: TrainingRows, validate: TrainingRows) -> dict:
    day = lambda d: str(np.datetime_as_string(np.datetime64(d, "D")))  # noqa: E731
    return {"train_start": day(train.dates[0]), "train_end": day(train.dates[-1]),
            "validate_start": day(validate.dates[0]), "validate_end": day(validate.dates[-1]),
            "n_train": len(train.y), "n_validate": len(validate.y)}


__all__ = ["FoldSearch", "InnerSplit", "Searcher", "TrainingRows", "sampler_seed"]
