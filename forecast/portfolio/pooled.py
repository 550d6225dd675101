"""Walk-forward forecasts for every ticker of a universe, pooled or per ticker.

The folds are planned on the universe calendar (`Universe.calendar`, the union of the
tickers' dates) with the same `Schedule` as single-ticker walk-forward: the test span is
the last `test_days` calendar dates (default 20% of those with valid features), cut into
blocks of `retrain_every`. Every target reads prices up to calendar position t + 2 (the
open two dates after the decision, see `forecast.portfolio.universe`), so the training
decisions t of a block starting at calendar position s satisfy ``t + 2 + embargo <= s``
(embargo defaults to 1).

Per fold and per ticker, a fresh `FeaturePipeline` is fitted on that ticker's own bars up
to the fold's last training decision date (normalisation per ticker, on its training span
only); its windows are cut from its own bars (`decision_windows`), so a ticker's missing
days are simply absent, never filled. A ticker contributes training samples on its own
bar dates with a known target, and test predictions on its own bar dates in the block.

``pooled=True``: one model clone per fold, fitted on every ticker's training windows
(concatenated in date, then ticker order); it predicts every ticker's test windows.
``pooled=False``: one model clone per ticker per fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast import defaults
from forecast.errors import ConfigError
from forecast.evaluate.walkforward import Fold, Schedule, _resolve_model, warm_refits
from forecast.features.indicators import check_bars
from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.windows import decision_windows
from forecast.models.fitting import fit_model, predict_up
from forecast.portfolio.universe import (
    LOOKAHEAD,
    Universe,
    calendar_positions,
    check_target,
    target_frame,
    traded_returns,
)

TARGET_DEFINITIONS = {
    "direction": "up if open[t+2] / open[t+1] - 1 > 0 (calendar positions)",
    "beats-median": "up if open[t+2] / open[t+1] - 1 > the cross-sectional median that day",
}


@dataclass
class TickerFold:
    """One ticker's share of a fold: training windows with labels, and test windows."""

    ticker: str
    X_train: np.ndarray
    y_train: np.ndarray
    train_dates: pd.DatetimeIndex
    X_test: np.ndarray
    test_dates: pd.DatetimeIndex


def plan_universe_folds(universe: Universe, schedule: Schedule, spec: FeatureSpec) -> list[Fold]:
    """The folds of `schedule` in calendar positions (label look-ahead 2)."""
    if schedule.lookahead != LOOKAHEAD:
        raise ConfigError("portfolio targets read the open two calendar dates after the decision")
    return schedule.folds(len(universe.calendar), spec.warmup)


def check_portfolio_inputs(universe: Universe, target: str, pooled: bool, spec: Any) -> FeatureSpec:
    """Validate `portfolio_walk_forward`'s universe, target and pooled flag and every
    ticker's bars (ConfigError naming the bad one); return the resolved feature spec."""
    if not isinstance(universe, Universe):
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


def portfolio_schedule(universe: Universe, spec: FeatureSpec, *, window: int, test_days: int | None,
                       retrain_every: int, train_window: int | None, min_train: int,
                       embargo: int | None) -> Schedule:
    """The checked schedule on the universe calendar (defaults filled)."""
    return Schedule.checked(
        window=window, horizon=1, label="open", threshold=0.0, symmetric=False, embargo=embargo,
        retrain_every=retrain_every, train_window=train_window, min_train=min_train,
        test_days=test_days, n_bars=len(universe.calendar), warmup=spec.warmup,
    )


def portfolio_estimator(model: Any, model_params: dict | None, seed: int, pooled: bool
                        ) -> tuple[Any, str, bool]:
    """The unfitted estimator template, its name, and whether the early-stopping validation
    gap is set automatically (per ticker: LOOKAHEAD; pooled: per fold, see `_pooled_fold`)."""
    estimator, name = _resolve_model(model, model_params, seed)
    current = estimator.get_params(deep=False)
    auto_gap = "validation_gap" in current and not current["validation_gap"] and "validation_gap" not in (
        model_params or {}
    )
    if auto_gap and not pooled:
        estimator.set_params(validation_gap=LOOKAHEAD)
    return estimator, name, auto_gap


def ticker_fold(
    bars: pd.DataFrame,
    cal_pos: np.ndarray,
    labels: np.ndarray,
    fold: Fold,
    spec: FeatureSpec,
    window: int,
    ticker: str | None = None,
) -> TickerFold | None:
    """One ticker's training and test windows for `fold` (None when the ticker has too
    little history before the fold's last training decision to fit its features).

    `cal_pos` is the calendar position of each of the ticker's bars, `labels` its targets
    aligned with its bars.
    """
    # The universe's own name for the ticker: bars read from a file may carry none (or
    # another), and the fold's rows and its warm model are keyed by it.
    ticker = str(bars.attrs.get("ticker", "")) if ticker is None else str(ticker)
    train_idx = np.flatnonzero((cal_pos >= fold.train_start) & (cal_pos <= fold.train_last))
    test_idx = np.flatnonzero((cal_pos >= fold.test_start) & (cal_pos < fold.test_stop))
    # Bars up to the last training decision date: everything the pipeline may learn from.
    n_fit = int(np.searchsorted(cal_pos, fold.train_last, side="right"))
    train_idx = train_idx[train_idx >= window - 1 + spec.warmup]
    if train_idx.size == 0:
        return None
    fit_from = max(0, int(train_idx[0]) - (window - 1) - spec.warmup)
    if n_fit - fit_from < spec.warmup + 2:
        return None
    pipe = FeaturePipeline(spec).fit(bars.iloc[fit_from:n_fit])
    stop = int(test_idx[-1]) + 1 if test_idx.size else n_fit
    # Features are trailing: transforming up to the block's end leaks nothing into earlier
    # rows, and bars after the block are never touched.
    feats = pipe.transform(bars.iloc[:stop]).to_numpy()
    X_train, pos_train = decision_windows(feats, window, train_idx)
    known = ~np.isnan(labels[pos_train])
    X_train, pos_train = X_train[known], pos_train[known]
    test_idx = test_idx[test_idx >= window - 1]
    X_test, pos_test = decision_windows(feats, window, test_idx)
    return TickerFold(
        ticker=ticker,
        X_train=X_train,
        y_train=labels[pos_train].astype("int64"),
        train_dates=bars.index[pos_train],
        X_test=X_test,
        test_dates=bars.index[pos_test],
    )


def portfolio_walk_forward(
    universe: Universe,
    model: Any = defaults.PORTFOLIO_MODEL,
    *,
    pooled: bool = True,
    target: str = defaults.PORTFOLIO_TARGET,
    model_params: dict | None = None,
    spec: FeatureSpec | dict | None = None,
    window: int = defaults.WINDOW,
    test_days: int | None = None,
    retrain_every: int = defaults.RETRAIN_EVERY,
    train_window: int | None = defaults.TRAIN_WINDOW,
    min_train: int = defaults.MIN_TRAIN,
    embargo: int | None = None,
    seed: int = defaults.SEED,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Out-of-sample forecasts for every ticker of `universe`, without look-ahead.

    Returns a long DataFrame indexed by (`date`, `ticker`), sorted, with `prob_up`,
    `actual_up` (the target, NaN when unknown), `realized` (the traded return of
    `traded_returns`, NaN when unknown) and `fold`. `attrs` records the settings.

    With ``pooled=False`` a ticker is modelled in a fold only when it has at least
    `min_train` labelled training samples (and both classes); with ``pooled=True`` every
    ticker whose features can be fitted before the fold contributes and is predicted.
    No prediction dated t depends on any bar (of any ticker) after t.
    """
    spec = check_portfolio_inputs(universe, target, pooled, spec)
    schedule = portfolio_schedule(universe, spec, window=window, test_days=test_days,
                                  retrain_every=retrain_every, train_window=train_window,
                                  min_train=min_train, embargo=embargo)
    folds = plan_universe_folds(universe, schedule, spec)
    estimator, name, auto_gap = portfolio_estimator(model, model_params, seed, pooled)
    tickers = sorted(universe.bars)  # deterministic order, whatever the dict's
    n_tickers = len(tickers)

    labels = target_frame(universe, target)
    realized = traded_returns(universe)
    positions = calendar_positions(universe)
    ticker_labels = {t: labels[t].reindex(universe.bars[t].index).to_numpy() for t in tickers}

    # Warm refits (the Keras forecasters' default): a fold's model continues the previous
    # fold's (pooled: the one model; per ticker: that ticker's), which was trained on labels
    # that end before the previous test block, so before this one's too. Folds run oldest first.
    warm = warm_refits(estimator)
    fitted: dict[str | None, Any] = {}  # None: the pooled model; else by ticker

    def template(key: str | None) -> Any:
        return fitted[key] if warm and key in fitted else clone(estimator)

    frames, skipped = [], 0
    for fold in folds:
        parts = []
        for t in tickers:
            part = ticker_fold(universe.bars[t], positions[t], ticker_labels[t], fold, spec, window, ticker=t)
            if part is None:
                skipped += 1
                continue
            parts.append(part)
        if pooled:
            out, est = _pooled_fold(parts, template(None), fold, auto_gap)
            frames.extend(out)
            if est is not None:
                fitted[None] = est
        else:
            for part in parts:
                frame, est = _single_fold(part, template(part.ticker), fold, min_train)
                if frame is None:
                    skipped += 1
                else:
                    frames.append(frame)
                if est is not None:
                    fitted[part.ticker] = est
        if progress is not None:
            progress(fold.index, len(folds))

    frames = [f for f in frames if len(f)]
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
    out["actual_up"] = labels.stack(future_stack=True).reindex(out.index).to_numpy()
    out["realized"] = realized.stack(future_stack=True).reindex(out.index).to_numpy()
    out = out[["prob_up", "actual_up", "realized", "fold"]]
    record = schedule.record()
    record.update(label=target, label_definition=TARGET_DEFINITIONS[target], lookahead=LOOKAHEAD)
    forecast_tickers = int(out.index.get_level_values("ticker").nunique())
    out.attrs.update(model=name, pooled=pooled, target=target, warm_start=warm, tickers=",".join(tickers),
                     n_tickers=n_tickers, n_tickers_forecast=forecast_tickers, n_folds=len(folds),
                     skipped_ticker_folds=skipped, seed=seed, spec=spec.to_dict(), **record)
    return out


def _predict(est: Any, X: np.ndarray) -> np.ndarray:
    return predict_up(est, X)  # refuses shapes and values a probability cannot have


def _frame(prob: np.ndarray, dates, ticker: str, fold: Fold) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([pd.DatetimeIndex(dates), [ticker] * len(dates)],
                                      names=["date", "ticker"])
    return pd.DataFrame({"prob_up": prob, "fold": fold.index}, index=index)


def pooled_training_set(parts: list[TickerFold]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ticker's training windows stacked, sorted by date then ticker: X, y, dates, tickers."""
    X = np.concatenate([p.X_train for p in parts])
    y = np.concatenate([p.y_train for p in parts])
    dates = np.concatenate([p.train_dates.to_numpy() for p in parts])
    names = np.concatenate([np.full(len(p.y_train), p.ticker, dtype=object) for p in parts])
    order = np.lexsort((names.astype(str), dates))
    return X[order], y[order], dates[order], names[order]


def _pooled_fold(parts: list[TickerFold], est: Any, fold: Fold, auto_gap: bool = False
                 ) -> tuple[list[pd.DataFrame], Any]:
    """The fold's forecasts and the model fitted for it; `est` is fitted in place (a fresh
    clone, or the previous fold's model for a warm refit)."""
    if not parts:
        return [], None
    X, y, _, _ = pooled_training_set(parts)
    if len(np.unique(y)) < 2:
        raise ConfigError(f"fold {fold.index}: the pooled training labels hold one class only")
    if auto_gap:
        # Early stopping holds out the last samples (in date order), up to one per ticker
        # of this fold a date: the gap counts the fold's tickers, not the universe's, whose
        # later listings are not known yet.
        est.set_params(validation_gap=LOOKAHEAD * len(parts))
    fit_model(est, X, y)
    frames = [_frame(_predict(est, p.X_test), p.test_dates, p.ticker, fold) for p in parts if len(p.X_test)]
    return frames, est


def _single_fold(part: TickerFold, est: Any, fold: Fold, min_train: int) -> tuple[pd.DataFrame | None, Any]:
    """One ticker's forecasts for the fold (None: too few training samples) and its fitted
    model (None: none fitted)."""
    if not len(part.X_test):
        return _frame(np.empty(0), part.test_dates, part.ticker, fold), None
    if len(part.y_train) < min_train or len(np.unique(part.y_train)) < 2:
        return None, None
    fit_model(est, part.X_train, part.y_train)
    return _frame(_predict(est, part.X_test), part.test_dates, part.ticker, fold), est
