"""Walk-forward (rolling-origin) evaluation with an embargo between training and testing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError
from forecast.evaluate import fold_map
from forecast.evaluate.fold_windows import FoldWindows, Member, fold_windows
from forecast.evaluate.folds import Fold, Schedule
from forecast.features.indicators import check_bars
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.target import make_target
from forecast.features.windows import gather_windows
from forecast.models.ensemble_name import is_ensemble
from forecast.models.fitting import fit_model, predict_up, purge_validation_overlap
from forecast.models.params import check_int
from forecast.models.resolve import FoldModels, resolve_estimator


def walk_forward(
    bars: pd.DataFrame,
    model: Any,
    *,
    model_params: dict | None = None,
    spec: FeatureSpec | dict | None = None,
    window: int = defaults.WINDOW,
    horizon: int = defaults.HORIZON,
    label: str = defaults.LABEL,
    threshold: float = 0.0,
    symmetric: bool = False,
    test_days: int | None = None,
    retrain_every: int = defaults.RETRAIN_EVERY,
    train_window: int | None = defaults.TRAIN_WINDOW,
    min_train: int = defaults.MIN_TRAIN,
    embargo: int | None = None,
    seed: int = defaults.SEED,
    shuffle_train_labels: bool = False,
    progress: Callable[[int, int], None] | None = None,
    callbacks: list | None = None,
) -> pd.DataFrame:
    """Out-of-sample direction probabilities from periodic refits, without look-ahead.

    `model` is a registry name (built with `forecast.models.registry.make_model(model,
    **model_params)`) or a scikit-learn classifier taking 3-D X, cloned for every fold
    (`model_params` then go to `set_params`). `seed` is written to the estimator's
    `random_state`/`seed` parameter unless `model_params` sets it (for an instance: only
    where that parameter is None).

    Schedule (positions are bar numbers; a sample's decision date is the last bar of its
    feature window; its label is the sign of the return traded after it, open[t+1] to
    open[t+1+horizon] (``label="open"``, the default) or close[t] to close[t+horizon]
    (``label="close"``), see `make_target`, with `threshold` and `symmetric`; L below is
    the label's look-ahead, horizon + 1 for "open" and horizon for "close"):

    * The test span is the last `test_days` bars (default: 20% of the bars with valid
      features), cut into blocks of `retrain_every` bars. It includes the final
      L bars, whose `actual_up` is NaN (not known yet).
    * For a block starting at s, the training decisions are the t with
      t + L + embargo <= s (embargo defaults to horizon), the last `train_window`
      of them when it is given (else all, expanding), at least `min_train`. So every
      training label's last price (bar t + L) is at least `embargo` bars before s.
    * A fresh FeaturePipeline is fitted on bars up to the last training decision only
      (and, with `train_window`, from the first bar the training windows need); features
      are trailing, so the test rows use bars up to their own date. A fresh model clone
      is fitted on the training windows (any early-stopping split inside the model can
      only see those). Rows with NaN features or labels are dropped from training.
    * Estimators that refit warm (`warm_refits`, the Keras forecasters with their default
      `warm_start=True`) start each fold after the first from the previous fold's fitted
      model instead of a clone. That model was trained on labels ending before the
      previous block began, so the rule above still holds.

    `callbacks` (e.g. a Keras epoch-progress callback) go to the model's `fit` when it
    accepts them; baselines ignore them.

    Hence no prediction for date t depends on any bar after t. `progress(k, n_folds)` is
    called after fold k (0-based) finishes. `shuffle_train_labels` permutes each fold's
    training labels (seeded by `seed` and the fold), which must leave no skill.

    Returns a DataFrame indexed by decision date `date` with `prob_up`, `actual_up`,
    `fold` (see docs/CONTRACTS.md); `attrs` records the model name and the settings.
    """
    if is_ensemble(model):  # `ens:a,b,c`: each member walked forward alike, then averaged
        from forecast.evaluate.ensemble import ensemble_walk_forward

        return ensemble_walk_forward(
            walk_forward, bars, model, model_params=model_params, spec=spec, window=window, horizon=horizon,
            label=label, threshold=threshold, symmetric=symmetric, test_days=test_days,
            retrain_every=retrain_every, train_window=train_window, min_train=min_train, embargo=embargo,
            seed=seed, shuffle_train_labels=shuffle_train_labels, progress=progress, callbacks=callbacks)
    spec = as_spec(spec)
    check_bars(bars, spec)
    check_int("seed", seed, minimum=0)
    schedule = Schedule.checked(
        window=window, horizon=horizon, label=label, threshold=threshold, symmetric=symmetric,
        embargo=embargo, retrain_every=retrain_every, train_window=train_window,
        min_train=min_train, test_days=test_days, n_bars=len(bars), warmup=spec.warmup,
    )
    folds = schedule.folds(len(bars), spec.warmup)
    estimator, name = resolve_estimator(model, model_params, seed)
    estimator = purge_validation_overlap(estimator, model_params, schedule.lookahead)
    labels = make_target(bars, horizon, threshold, symmetric=symmetric, label=label).to_numpy()
    models = FoldModels(estimator)
    forecasts, _ = run_folds(
        [Member(None, bars, labels)], folds, models, spec=spec, window=window, pooled=True,
        one_class="the training labels hold one class only; lower the threshold or give a longer span",
        shuffle_seed=seed if shuffle_train_labels else None, callbacks=callbacks, progress=progress,
    )
    frames = [
        pd.DataFrame({"prob_up": f.prob_up, "actual_up": labels[f.part.test_pos], "fold": f.fold.index},
                     index=f.part.test_dates)
        for f in forecasts
    ]
    out = pd.concat(frames).sort_index()
    out.index.name = "date"
    out.attrs.update(model=name, ticker=bars.attrs.get("ticker"), **schedule.record(),
                     warm_start=models.warm, seed=seed, spec=spec.to_dict())
    return out


@dataclass(frozen=True)
class TestPart:
    """What the collectors read of a fold's windows once the model has predicted (the
    training and test arrays dropped: a task on a cluster sends back only this)."""

    ticker: str | None
    test_dates: pd.DatetimeIndex
    test_pos: np.ndarray


@dataclass
class Forecast:
    """One ticker's test-window probabilities from one fold's model."""

    fold: Fold
    part: FoldWindows | TestPart
    prob_up: np.ndarray

    def slim(self) -> Forecast:
        part = self.part
        return Forecast(self.fold, TestPart(part.ticker, part.test_dates, part.test_pos), self.prob_up)


@dataclass(frozen=True)
class FoldSettings:
    """What every fold task of one walk-forward shares (see `run_folds`)."""

    spec: FeatureSpec
    window: int
    pooled: bool
    min_train: int
    one_class: str
    shuffle_seed: int | None
    gap_per_member: int | None
    # fold index -> booleans per member: who trains in that fold (None: everyone)
    trains: dict[int, np.ndarray] | None = None


def run_folds(
    members: list[Member],
    folds: list[Fold],
    models: FoldModels,
    *,
    spec: FeatureSpec,
    window: int,
    pooled: bool,
    min_train: int = 1,
    one_class: str = "the pooled training labels hold one class only",
    shuffle_seed: int | None = None,
    gap_per_member: int | None = None,
    callbacks: list | None = None,
    progress: Callable[[int, int], None] | None = None,
    train_mask: np.ndarray | None = None,
    executor: Any = None,
) -> tuple[list[Forecast], int]:
    """The walk-forward loop of every shape: per fold (oldest first), each member's windows
    (`fold_windows`), then one model fitted on all of them (`pooled`; one ticker's
    walk-forward is a pool of one) or one per member. Returns the forecasts and how many
    member-folds were skipped (too little history, or per member: fewer than `min_train`
    training samples or one class).

    `train_mask` (calendar positions x members, booleans): a member trains in a fold only
    where it is True on the fold's last training decision (`fold.train_last`, a date
    before the test block: nothing later is read). Pooled, every member is still
    forecast; per member, one that does not train is skipped.

    `shuffle_seed`: permute each fold's training labels (seeded by it and the fold).
    `gap_per_member`: set the early-stopping `validation_gap` of the pooled model to that
    many samples per member in the fold. `one_class`: the error when a pooled fold's
    training labels hold one class. `progress(k, n_folds)` runs after k + 1 folds are done.

    `executor` (see `forecast.evaluate.fold_map`): None runs the folds here, in order. A
    parallel one runs cold folds at once (pooled: a task per fold; per ticker: a task per
    fold and group of tickers) and warm per-ticker models as a task per group of tickers;
    a warm pooled model chains every fold and runs here. Members are shipped once; each
    fold's model starts from the same template (and seed) as in the serial loop, and the
    forecasts are collected in the serial order, so the result is the same.
    """
    # Who trains in each fold, read on its last training decision only (None: everyone).
    trains = None if train_mask is None else {fold.index: train_mask[fold.train_last] for fold in folds}
    settings = FoldSettings(spec, window, pooled, min_train, one_class, shuffle_seed, gap_per_member, trains)
    parallel = fold_map.is_parallel(executor)
    if parallel and models.warm:
        fold_map.log.warning(fold_map.warm_note(pooled))
        if pooled:
            parallel = False
    if not parallel:
        executor = fold_map.InProcess()
    else:
        callbacks = None  # observers in this process (progress bars) cannot follow a remote fit
    tasks = fold_map.plan_tasks(folds, len(members), pooled=pooled, warm=models.warm,
                                workers=getattr(executor, "workers", 1), parallel=parallel)
    refs = [executor.put(member) for member in members]
    results: list = [None] * len(tasks)
    waiting = {fold.index: 0 for fold in folds}
    for task_folds, _ in tasks:
        for fold in task_folds:
            waiting[fold.index] += 1
    done = 0

    def on_result(i: int, result) -> None:
        nonlocal done
        results[i] = result
        for fold in tasks[i][0]:
            waiting[fold.index] -= 1
            if waiting[fold.index] == 0:
                done += 1
                if progress is not None:
                    progress(done - 1, len(folds))

    executor.map_tasks(fold_task, [(settings, models, task_folds, ids, callbacks, *(refs[j] for j in ids))
                                   for task_folds, ids in tasks], on_result)
    # The serial order: oldest fold first, then members in order (a stable sort).
    tagged = sorted((t for r in results for t in r[0]), key=lambda t: (t[0], t[1]))
    return [t[2] for t in tagged], sum(r[1] for r in results)


def fold_task(settings: FoldSettings, models: FoldModels, folds: list[Fold], ids: list[int],
              callbacks: list | None, *members: Member) -> tuple[list[tuple[int, int, Forecast]], int]:
    """One task: `folds` (oldest first) for `members` (indices `ids` in the walk-forward).
    Returns ((fold index, member index, slim forecast) in serial order, member-folds skipped)."""
    out, skipped = [], 0
    for fold in folds:
        parts = [fold_windows(member, fold, settings.spec, settings.window) for member in members]
        skipped += sum(part is None for part in parts)
        kept = [(i, part) for i, part in zip(ids, parts, strict=True) if part is not None]
        trains = settings.trains
        training = kept if trains is None else [(i, p) for i, p in kept if trains[fold.index][i]]
        if settings.pooled:
            forecasts = fit_pooled_fold([part for _, part in kept], models, fold,
                                        one_class=settings.one_class, shuffle_seed=settings.shuffle_seed,
                                        gap_per_member=settings.gap_per_member, callbacks=callbacks,
                                        train_parts=None if trains is None else [p for _, p in training])
            # fit_pooled_fold forecasts the parts that have test windows, in order (none
            # when nobody trains this fold)
            tested = [i for i, part in kept if len(part.test_pos)] if forecasts else []
            out += [(fold.index, i, f.slim()) for i, f in zip(tested, forecasts, strict=True)]
        else:
            skipped += len(kept) - len(training)
            for i, part in training:
                forecast = _fit_member_fold(part, models, fold, settings.min_train)
                skipped += forecast is None
                if forecast is not None and len(part.test_pos):
                    out.append((fold.index, i, forecast.slim()))
    return out, skipped


def fit_pooled_fold(parts: list[FoldWindows], models: FoldModels, fold: Fold, *, one_class: str,
                    shuffle_seed: int | None = None, gap_per_member: int | None = None,
                    callbacks: list | None = None, train_parts: list[FoldWindows] | None = None
                    ) -> list[Forecast]:
    """Fit one model on the training windows of `train_parts` (default: every part) and
    forecast every part's test windows."""
    train_parts = parts if train_parts is None else train_parts
    if not train_parts:
        return []
    X, y, _, _ = pooled_training_set(train_parts)
    if shuffle_seed is not None:
        y = np.random.default_rng([shuffle_seed, fold.index]).permutation(y)
    if len(np.unique(y)) < 2:
        raise ConfigError(f"fold {fold.index}: {one_class}")
    est = models.start(None)
    if gap_per_member is not None:
        # Early stopping holds out the last samples (in date order), up to one per ticker
        # of this fold a date: the gap counts the fold's tickers, not the universe's, whose
        # later listings are not known yet.
        est.set_params(validation_gap=gap_per_member * len(train_parts))
    fit_model(est, X, y, callbacks)
    models.keep(None, est)
    # predict_up refuses shapes and values a probability cannot have
    return [Forecast(fold, p, predict_up(est, p.X_test)) for p in parts if len(p.test_pos)]


def _fit_member_fold(part: FoldWindows, models: FoldModels, fold: Fold, min_train: int) -> Forecast | None:
    """One ticker's own model for the fold and its forecasts; None when it has fewer than
    `min_train` training samples or one class (a ticker without test windows fits nothing)."""
    if not len(part.test_pos):
        return Forecast(fold, part, np.empty(0))
    if len(part.y_train) < min_train or len(np.unique(part.y_train)) < 2:
        return None
    est = models.start(part.ticker)
    fit_model(est, part.X_train, part.y_train)
    models.keep(part.ticker, est)
    return Forecast(fold, part, predict_up(est, part.X_test))


def pooled_training_set(parts: list[FoldWindows]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every part's training windows stacked, sorted by date then ticker: X, y, dates, tickers.

    X is cut once, in its final order, from the parts' feature rows stacked end to end (a
    window never crosses two parts: each starts inside its own part's rows); no per-part
    copies are gathered and reordered.
    """
    y = np.concatenate([p.y_train for p in parts])
    dates = np.concatenate([p.train_dates.to_numpy() for p in parts])
    names = np.concatenate([np.full(len(p.y_train), p.ticker, dtype=object) for p in parts])
    order = np.lexsort((names.astype(str), dates))
    starts = np.cumsum([0] + [len(p.features) for p in parts[:-1]])
    # Row in the stacked features where each window ends.
    ends = np.concatenate([p.train_pos - p.offset + s for p, s in zip(parts, starts, strict=True)])
    window = parts[0].window
    X = gather_windows(np.concatenate([p.features for p in parts]), window, ends[order])
    return X, y[order], dates[order], names[order]
