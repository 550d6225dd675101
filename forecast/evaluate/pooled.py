"""Walk-forward forecasts for every ticker of a universe, pooled or per ticker.

`portfolio_walk_forward` is a thin entry over the one walk-forward loop
(`forecast.evaluate.walkforward.run_folds`); it sits below the prediction cache, which
keys and runs it, and below `forecast.portfolio`, which trades its forecasts.

The folds are planned on the universe calendar (`universe.calendar`, the union of the
tickers' dates) with the same `Schedule` as single-ticker walk-forward: the test span is
the last `test_days` calendar dates (default 20% of those with valid features), cut into
blocks of `retrain_every`. Every target reads prices up to calendar position t + 2 (the
open two dates after the decision, see `forecast.features.universe_target`), so the training
decisions t of a block starting at calendar position s satisfy ``t + 2 + embargo <= s``
(embargo defaults to 1).

Per fold and per ticker, a fresh `FeaturePipeline` is fitted on that ticker's own bars up
to the fold's last training decision date (normalisation per ticker, on its training span
only); its windows are cut from its own bars (`forecast.evaluate.fold_windows`), so a
ticker's missing days are simply absent, never filled. A ticker contributes training samples on its own
bar dates with a known target, and test predictions on its own bar dates in the block.

``pooled=True``: one model clone per fold, fitted on every ticker's training windows
(concatenated in date, then ticker order); it predicts every ticker's test windows.
``pooled=False``: one model clone per ticker per fold.

Point in time (a universe with a membership, `universe.membership`): with
``train_on="members"`` (the default) a ticker trains in a fold only if it is a member on
the fold's last training decision date, as the papers train on the constituents at the
end of each training period; its bars before that date are all used (full history in the
period). Pooled, every ticker is still forecast (trading keeps to members, see
`forecast.portfolio.engine`); per ticker, a non-member has no model that fold.
``train_on="all"`` trains on every ticker with bars. Without a membership both are the same.

Cross-sectional features (`FeatureSpec.cross_section` "rank" or "zscore"): every ticker's
features are computed once over its bars, then each date's values are normalised across the
members on that date (`forecast.features.cross_section`; the membership whatever `train_on`
says, everyone with bars without one). This replaces the per-ticker scaling of those columns
(which would take each ticker's own mean back out of a comparison across tickers); `ret_1`
is still scaled per ticker on each fold's training span.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError
from forecast.evaluate.fold_windows import Member
from forecast.evaluate.folds import Fold, Schedule, resolve_test_days
from forecast.evaluate.walkforward import Forecast, run_folds
from forecast.features.indicators import check_bars
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.target import is_regression
from forecast.features.universe_target import (
    LOOKAHEAD,
    TARGET_DEFINITIONS,
    calendar_positions,
    check_target,
    direction_frame,
    target_frame,
    traded_returns,
)
from forecast.models.ensemble_name import is_ensemble
from forecast.models.resolve import FoldModels, resolve_estimator, validation_gap_is_free


def plan_universe_folds(universe: Any, schedule: Schedule, spec: FeatureSpec) -> list[Fold]:
    """The folds of `schedule` in calendar positions (label look-ahead 2)."""
    if schedule.lookahead != LOOKAHEAD:
        raise ConfigError("portfolio targets read the open two calendar dates after the decision")
    return schedule.folds(len(universe.calendar), spec.warmup)


def check_portfolio_inputs(universe: Any, target: str, pooled: bool, spec: Any) -> FeatureSpec:
    """Validate `portfolio_walk_forward`'s universe, target and pooled flag and every
    ticker's bars (ConfigError naming the bad one); return the resolved feature spec."""
    # Any object with bars per ticker and their calendar (`forecast.portfolio.universe.Universe`
    # sits above this module).
    if not (hasattr(universe, "bars") and hasattr(universe, "calendar")):
        raise ConfigError(f"portfolio_walk_forward needs a Universe, not {type(universe).__name__}")
    if len(universe.bars) < 2:
        raise ConfigError(f"a universe needs at least 2 tickers, got {len(universe.bars)}")
    check_target(target)
    if not isinstance(pooled, bool):
        raise ConfigError(f"pooled must be true or false, not {pooled!r}")
    spec = as_spec(spec)
    for bars in universe.bars.values():
        check_bars(bars, spec)
    return spec


def portfolio_schedule(universe: Any, spec: FeatureSpec, *, window: int, test_days: int | None,
                       retrain_every: int, train_window: int | None, min_train: int,
                       embargo: int | None) -> Schedule:
    """The checked schedule on the universe calendar (defaults filled)."""
    return Schedule.checked(
        window=window, horizon=1, label="open", threshold=0.0, symmetric=False, embargo=embargo,
        retrain_every=retrain_every, train_window=train_window, min_train=min_train,
        test_days=test_days, n_bars=len(universe.calendar), warmup=spec.warmup,
    )


def check_train_on(train_on: Any) -> str:
    if train_on not in defaults.TRAIN_ON_CHOICES:
        raise ConfigError(f"train_on must be one of {', '.join(defaults.TRAIN_ON_CHOICES)}, not {train_on!r}")
    return train_on


def training_members(universe: Any, tickers: list[str], train_on: str) -> np.ndarray | None:
    """Calendar positions x `tickers` booleans: who may train on a fold whose last training
    decision is at that position (None: everyone with bars, no membership or ``"all"``).
    Membership is a schedule fixed before each year (never a price), read on the training
    end date only."""
    check_train_on(train_on)
    membership = getattr(universe, "membership", None)
    if membership is None or train_on == "all":
        return None
    return membership.mask(universe.calendar, tickers).to_numpy(dtype=bool)


def cross_sectional_columns(universe: Any, tickers: list[str], positions: dict[str, np.ndarray],
                            spec: FeatureSpec) -> list[dict | None]:
    """Per ticker, its feature columns over all its bars with the cross-sectional ones
    normalised across each date's members; None each without a cross-sectional spec."""
    if spec.cross_section == "none":
        return [None] * len(tickers)
    from forecast.features.cross_section import universe_columns
    from forecast.features.pipeline import raw_features

    raw = []
    for t in tickers:
        frame = raw_features(universe.bars[t], spec)
        raw.append({c: frame[c].to_numpy(dtype="float64") for c in frame.columns})
    membership = getattr(universe, "membership", None)
    mask = None if membership is None else membership.mask(universe.calendar, tickers).to_numpy(dtype=bool)
    return universe_columns(raw, [positions[t] for t in tickers], len(universe.calendar), mask, spec)


def portfolio_estimator(model: Any, model_params: dict | None, seed: int, pooled: bool,
                        target: str = defaults.PORTFOLIO_TARGET) -> tuple[Any, str, bool]:
    """The unfitted estimator template (the regression twin for a return or rank target),
    its name, and whether the early-stopping validation gap is set automatically (per
    ticker: LOOKAHEAD; pooled: per fold, LOOKAHEAD per ticker in the fold)."""
    estimator, name = resolve_estimator(model, model_params, seed, is_regression(target))
    auto_gap = validation_gap_is_free(estimator, model_params)
    if auto_gap and not pooled:
        estimator.set_params(validation_gap=LOOKAHEAD)
    return estimator, name, auto_gap


def portfolio_walk_forward(
    universe: Any,
    model: Any = defaults.PORTFOLIO_MODEL,
    *,
    pooled: bool = True,
    target: str = defaults.PORTFOLIO_TARGET,
    model_params: dict | None = None,
    spec: FeatureSpec | dict | None = None,
    window: int = defaults.WINDOW,
    test_days: int | None = None,
    test_start=None,
    retrain_every: int = defaults.RETRAIN_EVERY,
    train_window: int | None = defaults.TRAIN_WINDOW,
    min_train: int = defaults.MIN_TRAIN,
    embargo: int | None = None,
    seed: int = defaults.SEED,
    train_on: str = defaults.TRAIN_ON,
    progress: Callable[[int, int], None] | None = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Out-of-sample forecasts for every ticker of `universe`, without look-ahead.

    Returns a long DataFrame indexed by (`date`, `ticker`), sorted, with `prob_up`,
    `actual_up` (the target, NaN when unknown), `realized` (the traded return of
    `traded_returns`, NaN when unknown) and `fold`. `attrs` records the settings.
    A ``return`` or ``rank`` target (`target_frame`) trains the model's regression twin on
    the number itself; the frame then holds `score` (the predicted return or rank) instead
    of `prob_up`, and `actual_up` is the outcome's direction (`direction_frame`).

    With ``pooled=False`` a ticker is modelled in a fold only when it has at least
    `min_train` labelled training samples (and both classes); with ``pooled=True`` every
    ticker whose features can be fitted before the fold contributes and is predicted.
    No prediction dated t depends on any bar (of any ticker) after t.

    `progress(k, n_folds)` runs after k + 1 folds are done. `executor`: where the folds run
    (see `run_folds`): None in this process, in order; a parallel one (a `RayExecutor`)
    runs cold folds, and per-ticker models within a fold, at once. The result is the same
    frame either way (and the prediction cache's key leaves it out).
    """
    test_days = resolve_test_days(universe.calendar, test_days, test_start)  # see walk_forward
    if is_ensemble(model):  # `ens:a,b,c`: each member walked forward alike, then averaged
        from forecast.evaluate.ensemble import ensemble_walk_forward

        return ensemble_walk_forward(
            portfolio_walk_forward, universe, model, model_params=model_params, pooled=pooled, target=target,
            spec=spec, window=window, test_days=test_days, retrain_every=retrain_every,
            train_window=train_window, min_train=min_train, embargo=embargo, seed=seed, train_on=train_on,
            progress=progress, executor=executor)
    spec = check_portfolio_inputs(universe, target, pooled, spec)
    schedule = portfolio_schedule(universe, spec, window=window, test_days=test_days,
                                  retrain_every=retrain_every, train_window=train_window,
                                  min_train=min_train, embargo=embargo)
    folds = plan_universe_folds(universe, schedule, spec)
    estimator, name, auto_gap = portfolio_estimator(model, model_params, seed, pooled, target)
    tickers = sorted(universe.bars)  # deterministic order, whatever the dict's
    n_tickers = len(tickers)
    regression = is_regression(target)

    labels = target_frame(universe, target)
    realized = traded_returns(universe)
    positions = calendar_positions(universe)
    ticker_labels = {t: labels[t].reindex(universe.bars[t].index).to_numpy() for t in tickers}

    # Warm refits (the Keras forecasters' default): a fold's model continues the previous
    # fold's (pooled: the one model; per ticker: that ticker's); see `FoldModels`.
    models = FoldModels(estimator)
    given = cross_sectional_columns(universe, tickers, positions, spec)
    members = [Member(t, universe.bars[t], ticker_labels[t], positions[t], given=g, regression=regression)
               for t, g in zip(tickers, given, strict=True)]
    train_mask = training_members(universe, tickers, train_on)
    forecasts, skipped = run_folds(members, folds, models, spec=spec, window=window, pooled=pooled,
                                   min_train=min_train, gap_per_member=LOOKAHEAD if auto_gap else None,
                                   progress=progress, train_mask=train_mask, executor=executor,
                                   regression=regression)
    column = "score" if regression else "prob_up"
    frames = [_frame(f, column) for f in forecasts]
    if not frames:
        raise ConfigError("no ticker could be forecast: the universe's histories are too short")
    out = pd.concat(frames).sort_index()
    per_date = out.groupby(level="date").size()
    if per_date.max() < 2:
        ends = ", ".join(f"{t} {universe.bars[t].index[-1].date()}" for t in tickers)
        raise ConfigError(
            "the test span holds forecasts for one ticker a day at most, so nothing can be ranked; "
            f"the histories end at different dates ({ends}): pass an earlier end"
        )
    outcome = direction_frame(universe, target) if regression else labels
    out["actual_up"] = outcome.stack(future_stack=True).reindex(out.index).to_numpy()
    out["realized"] = realized.stack(future_stack=True).reindex(out.index).to_numpy()
    out = out[[column, "actual_up", "realized", "fold"]]
    record = schedule.record()
    record.update(label=target, label_definition=TARGET_DEFINITIONS[target], lookahead=LOOKAHEAD)
    forecast_tickers = int(out.index.get_level_values("ticker").nunique())
    if train_mask is not None:  # left out without a membership: those runs' records are as they were
        out.attrs["train_on"] = train_on
    out.attrs.update(model=name, pooled=pooled, target=target, warm_start=models.warm,
                     tickers=",".join(tickers), n_tickers=n_tickers, n_tickers_forecast=forecast_tickers,
                     n_folds=len(folds), skipped_ticker_folds=skipped, seed=seed, spec=spec.to_dict(),
                     **record)
    return out



# Taken at import: the prediction cache binds a run's arguments to the real signature even
# where the function is wrapped (a test counting runs, say).
SIGNATURE = inspect.signature(portfolio_walk_forward)

def _frame(forecast: Forecast, column: str) -> pd.DataFrame:
    part = forecast.part
    dates = pd.DatetimeIndex(part.test_dates)
    index = pd.MultiIndex.from_arrays([dates, [part.ticker] * len(dates)], names=["date", "ticker"])
    return pd.DataFrame({column: forecast.values, "fold": forecast.fold.index}, index=index)
