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
from forecast.evaluate.folds import Fold, Schedule, resolve_test_days
from forecast.features.indicators import check_bars
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.target import is_regression, make_labels, make_target
from forecast.models.ensemble_name import is_ensemble
from forecast.models.fitting import fit_model, predict_score, predict_up, purge_validation_overlap
from forecast.models.params import check_int
from forecast.models.resolve import FoldModels, resolve_estimator
from forecast.models.window_source import WindowSource, streams_windows


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
    target: str = defaults.TARGET,
    test_days: int | None = None,
    test_start=None,
    retrain_every: int = defaults.RETRAIN_EVERY,
    train_window: int | None = defaults.TRAIN_WINDOW,
    min_train: int = defaults.MIN_TRAIN,
    embargo: int | None = None,
    seed: int = defaults.SEED,
    shuffle_train_labels: bool = False,
    progress: Callable[[int, int], None] | None = None,
    callbacks: list | None = None,
    tune: Any = None,
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
      L bars, whose `actual_up` is NaN (not known yet). With `test_start` (a date) it is
      the bars from that date on instead: more bars then add test days without moving a
      fold, so a run through day D predicts D exactly as a run through any later day.
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

    `tune` (a `forecast.tune.TuneSettings`): nested tuning. Each fold first searches the
    model's parameters on its own training rows (an inner walk-forward with the same gap,
    see docs/TUNING.md), then fits the best on its whole training span; refits are cold.
    `attrs["tune"]` records the settings, the trials spent and each fold's parameters.
    ``target="return"``: the model is the name's regression twin (`regressor_class`), trained
    on the label's return itself (the same prices, so the same schedule and purge) instead
    of its direction; see `make_labels`.

    Hence no prediction for date t depends on any bar after t. `progress(k, n_folds)` is
    called after fold k (0-based) finishes. `shuffle_train_labels` permutes each fold's
    training labels (seeded by `seed` and the fold), which must leave no skill.

    Returns a DataFrame indexed by decision date `date` with `prob_up`, `actual_up`,
    `fold` (see docs/CONTRACTS.md); for ``target="return"``: `score` (the predicted return),
    `actual_up` (its direction), `realized` (the return) and `fold`. `attrs` records the
    model name and the settings.
    """
    test_days = resolve_test_days(bars.index, test_days, test_start)
    if is_ensemble(model):  # `ens:a,b,c`: each member walked forward alike, then averaged
        from forecast.evaluate.ensemble import ensemble_walk_forward

        if tune is not None:
            raise ConfigError("an ensemble is not tuned as one model; tune its members one by one")
        return ensemble_walk_forward(
            walk_forward, bars, model, model_params=model_params, spec=spec, window=window, horizon=horizon,
            label=label, threshold=threshold, symmetric=symmetric, test_days=test_days,
            retrain_every=retrain_every, train_window=train_window, min_train=min_train, embargo=embargo,
            seed=seed, shuffle_train_labels=shuffle_train_labels, progress=progress, callbacks=callbacks,
            target=target)
    spec = as_spec(spec)
    check_bars(bars, spec)
    check_int("seed", seed, minimum=0)
    schedule = Schedule.checked(
        window=window, horizon=horizon, label=label, threshold=threshold, symmetric=symmetric,
        embargo=embargo, retrain_every=retrain_every, train_window=train_window,
        min_train=min_train, test_days=test_days, n_bars=len(bars), warmup=spec.warmup,
    )
    folds = schedule.folds(len(bars), spec.warmup)
    regression = is_regression(target)
    labels = make_labels(bars, horizon, threshold, symmetric=symmetric, label=label, target=target).to_numpy()
    estimator, name = resolve_estimator(model, model_params, seed, regression)
    estimator = purge_validation_overlap(estimator, model_params, schedule.lookahead)
    if tune is not None and not callable(getattr(tune, "fold_models", None)):
        raise ConfigError(f"tune must be a forecast.tune.TuneSettings, not {type(tune).__name__}")
    if tune is not None and regression:  # the search scores direction calls
        raise ConfigError(f"tuning searches direction models; target {target!r} is not tuned")
    if tune is not None and shuffle_train_labels:  # the search would score on the true labels
        raise ConfigError("shuffle_train_labels and tune do not go together")
    # The settings build their own fold models (forecast.tune sits above this layer).
    models = FoldModels(estimator) if tune is None else tune.fold_models(
        estimator, name, model_params, schedule=schedule, bars=bars, seed=seed, n_folds=len(folds))
    forecasts, _ = run_folds(
        [Member(None, bars, labels, regression=regression)], folds, models, spec=spec, window=window,
        pooled=True, regression=regression,
        one_class="the training labels hold one class only; lower the threshold or give a longer span",
        shuffle_seed=seed if shuffle_train_labels else None, callbacks=callbacks, progress=progress,
        executor=None if tune is None else getattr(tune, "executor", None),
    )
    if regression:
        up = make_target(bars, horizon, label=label).to_numpy()
        columns = {"score": None, "actual_up": up, "realized": labels}
    else:
        columns = {"prob_up": None, "actual_up": labels}
    frames = [
        pd.DataFrame({**{c: f.values if v is None else v[f.part.test_pos] for c, v in columns.items()},
                      "fold": f.fold.index}, index=f.part.test_dates)
        for f in forecasts
    ]
    out = pd.concat(frames).sort_index()
    out.index.name = "date"
    record = {"target": target} if regression else {}  # left out for direction: as it was
    out.attrs.update(model=name, ticker=bars.attrs.get("ticker"), **schedule.record(), **record,
                     warm_start=models.warm, seed=seed, spec=spec.to_dict())
    if tune is not None:  # named apart from the untuned model, which evaluate runs beside it
        out.attrs.update(model=f"{name}-tuned", tune={**tune.record(models.space_table), **models.summary()})
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
    """One ticker's test-window forecasts from one fold's model: P(up), or for a return or
    rank target the predicted score."""

    fold: Fold
    part: FoldWindows | TestPart
    values: np.ndarray

    def slim(self) -> Forecast:
        part = self.part
        return Forecast(self.fold, TestPart(part.ticker, part.test_dates, part.test_pos), self.values)


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
    regression: bool = False  # a return or rank target: float labels, scores out


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
    regression: bool = False,
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
    `regression`: the labels are a return or rank (members built with ``regression=True``):
    no one-class check, and the models' `predict` scores are forecast instead of P(up).
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
    settings = FoldSettings(spec, window, pooled, min_train, one_class, shuffle_seed, gap_per_member, trains,
                            regression)
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
    for result in results:  # what each fold's preparation recorded (a tuned fold's search)
        for fold_index, record in result[2]:
            models.keep_record(fold_index, record)
    # The serial order: oldest fold first, then members in order (a stable sort).
    tagged = sorted((t for r in results for t in r[0]), key=lambda t: (t[0], t[1]))
    return [t[2] for t in tagged], sum(r[1] for r in results)


def fold_task(settings: FoldSettings, models: FoldModels, folds: list[Fold], ids: list[int],
              callbacks: list | None, *members: Member) -> tuple[list[tuple[int, int, Forecast]], int]:
    """One task: `folds` (oldest first) for `members` (indices `ids` in the walk-forward).
    Returns ((fold index, member index, slim forecast) in serial order, member-folds skipped,
    (fold index, record) of each fold whose preparation recorded something)."""
    out, skipped, records = [], 0, []
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
                                        train_parts=None if trains is None else [p for _, p in training],
                                        regression=settings.regression)
            # fit_pooled_fold forecasts the parts that have test windows, in order (none
            # when nobody trains this fold)
            tested = [i for i, part in kept if len(part.test_pos)] if forecasts else []
            out += [(fold.index, i, f.slim()) for i, f in zip(tested, forecasts, strict=True)]
        else:
            skipped += len(kept) - len(training)
            for i, part in training:
                forecast = _fit_member_fold(part, models, fold, settings.min_train, settings.regression)
                skipped += forecast is None
                if forecast is not None and len(part.test_pos):
                    out.append((fold.index, i, forecast.slim()))
        record = models.fold_record(fold.index)
        if record is not None:
            records.append((fold.index, record))
    return out, skipped, records


def fit_pooled_fold(parts: list[FoldWindows], models: FoldModels, fold: Fold, *, one_class: str,
                    shuffle_seed: int | None = None, gap_per_member: int | None = None,
                    callbacks: list | None = None, train_parts: list[FoldWindows] | None = None,
                    regression: bool = False) -> list[Forecast]:
    """Fit one model on the training windows of `train_parts` (default: every part) and
    forecast every part's test windows (P(up), or with `regression` the predicted score)."""
    train_parts = parts if train_parts is None else train_parts
    if not train_parts:
        return []
    # (a tuned walk-forward searches this fold's parameters here, on its training parts)
    est = models.prepare(models.start(None), fold, train_parts)
    # On a universe a Keras model cuts its batches from the stacked feature rows as it
    # trains (the gathered windows would copy every row `window` times); one ticker's set
    # is small, and its models train on the gathered windows as they always have.
    if streams_windows(est) and train_parts[0].ticker is not None:
        X, y = pooled_training_source(train_parts)
    else:
        X, y, _, _ = pooled_training_set(train_parts)
    if shuffle_seed is not None:
        y = np.random.default_rng([shuffle_seed, fold.index]).permutation(y)
    if not regression and len(np.unique(y)) < 2:
        raise ConfigError(f"fold {fold.index}: {one_class}")
    if gap_per_member is not None:
        # Early stopping holds out the last samples (in date order), up to one per ticker
        # of this fold a date: the gap counts the fold's tickers, not the universe's, whose
        # later listings are not known yet.
        est.set_params(validation_gap=gap_per_member * len(train_parts))
    fit_model(est, X, y, callbacks)
    models.keep(None, est)
    return [Forecast(fold, p, predict_block(est, p.X_test, fold, regression))
            for p in parts if len(p.test_pos)]


def _fit_member_fold(part: FoldWindows, models: FoldModels, fold: Fold, min_train: int,
                     regression: bool = False) -> Forecast | None:
    """One ticker's own model for the fold and its forecasts; None when it has fewer than
    `min_train` training samples or (direction) one class (a ticker without test windows
    fits nothing)."""
    if not len(part.test_pos):
        return Forecast(fold, part, np.empty(0))
    if len(part.y_train) < min_train or (not regression and len(np.unique(part.y_train)) < 2):
        return None
    est = models.start(part.ticker)
    fit_model(est, part.X_train, part.y_train)
    models.keep(part.ticker, est)
    return Forecast(fold, part, predict_block(est, part.X_test, fold, regression))


def predict_block(est, X: np.ndarray, fold: Fold, regression: bool = False) -> np.ndarray:
    """P(up) (or, with `regression`, the score) of a fold's test windows, computed as one
    batch of the block's full length: windows the data does not reach yet (a block cut
    short by the last bar) are stood in for by copies of the last one, whose forecasts are
    dropped. A matrix product's rounding can depend on its shape, so without this the last
    day of a run through day D could differ in its last bit from the same day in a run
    through a later day; with it, every day's forecast is computed at the same shape and
    batch position either way (the parity `fcast signal` promises). A forecast that
    depended on the other rows of its batch would be look-ahead, so the stand-ins change
    nothing else.
    """
    # predict_up / predict_score refuse shapes and values a forecast cannot have
    predict = predict_score if regression else predict_up
    n = len(X)
    full = fold.block or n
    if n == 0 or n >= full:
        return predict(est, X)
    return predict(est, np.concatenate([X, np.repeat(X[-1:], full - n, axis=0)]))[:n]


def pooled_training_set(parts: list[FoldWindows]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every part's training windows stacked, sorted by date then ticker: X, y, dates, tickers.

    X is cut once, in its final order, from the parts' feature rows stacked end to end (a
    window never crosses two parts: each starts inside its own part's rows); no per-part
    copies are gathered and reordered.
    """
    source, y, dates, names = _pooled_rows(parts)
    return source.take(slice(None)), y, dates, names


def pooled_training_source(parts: list[FoldWindows]) -> tuple[WindowSource, np.ndarray]:
    """`pooled_training_set`'s windows and labels, the windows left uncut: a WindowSource on
    the parts' feature rows stacked once (no copy of each row per window that reads it)."""
    source, y, _, _ = _pooled_rows(parts)
    return source, y


def _pooled_rows(parts: list[FoldWindows]) -> tuple[WindowSource, np.ndarray, np.ndarray, np.ndarray]:
    y = np.concatenate([p.y_train for p in parts])
    dates = np.concatenate([p.train_dates.to_numpy() for p in parts])
    names = np.concatenate([np.full(len(p.y_train), p.ticker, dtype=object) for p in parts])
    order = np.lexsort((names.astype(str), dates))
    starts = np.cumsum([0] + [len(p.features) for p in parts[:-1]])
    # Row in the stacked features where each window ends.
    ends = np.concatenate([p.train_pos - p.offset + s for p, s in zip(parts, starts, strict=True)])
    source = WindowSource(np.concatenate([p.features for p in parts]), ends[order], parts[0].window)
    return source, y[order], dates[order], names[order]
