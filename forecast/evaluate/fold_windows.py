"""One fold's training and test windows for one ticker, features fitted on its training part only.

Every walk-forward builds its windows here: one ticker's (its bars are the fold plan's
positions) and each ticker of a universe (the plan is in calendar positions; a ticker's
missing days are simply absent, never filled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.evaluate.folds import Fold
from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import FeatureSpec
from forecast.features.windows import decision_windows


@dataclass(frozen=True)
class Member:
    """One ticker's walk-forward inputs: its bars, its labels aligned with them (NaN when
    unknown), and the calendar position of each bar (None: the bars are the calendar)."""

    ticker: str | None
    bars: pd.DataFrame
    labels: np.ndarray
    positions: np.ndarray | None = None


@dataclass
class FoldWindows:
    """One ticker's share of a fold: labelled training windows, and test windows."""

    ticker: str | None
    X_train: np.ndarray
    y_train: np.ndarray
    train_dates: pd.DatetimeIndex
    X_test: np.ndarray
    test_dates: pd.DatetimeIndex
    test_pos: np.ndarray  # bar numbers of the test windows' decisions


def fold_windows(member: Member, fold: Fold, spec: FeatureSpec, window: int) -> FoldWindows | None:
    """`member`'s windows for `fold`; None when a universe ticker has too little history
    before the fold's last training decision to fit its features."""
    if member.positions is None:
        return _windows(member, np.arange(fold.train_start, fold.train_last + 1),
                        np.arange(fold.test_start, fold.test_stop), fold.train_last + 1, spec, window)
    cal_pos = member.positions
    train_idx = np.flatnonzero((cal_pos >= fold.train_start) & (cal_pos <= fold.train_last))
    test_idx = np.flatnonzero((cal_pos >= fold.test_start) & (cal_pos < fold.test_stop))
    # Bars up to the last training decision date: everything the pipeline may learn from.
    n_fit = int(np.searchsorted(cal_pos, fold.train_last, side="right"))
    train_idx = train_idx[train_idx >= window - 1 + spec.warmup]
    if train_idx.size == 0 or n_fit - _fit_from(train_idx, spec, window) < max(spec.warmup + 2, spec.min_fit):
        return None
    return _windows(member, train_idx, test_idx[test_idx >= window - 1], n_fit, spec, window)


def _fit_from(train_idx: np.ndarray, spec: FeatureSpec, window: int) -> int:
    # With a rolling train window, start where the first training window's warm-up starts.
    return max(0, int(train_idx[0]) - (window - 1) - spec.warmup)


def _windows(member: Member, train_idx: np.ndarray, test_idx: np.ndarray, n_fit: int,
             spec: FeatureSpec, window: int) -> FoldWindows:
    bars, labels = member.bars, member.labels
    # The scaler (and GARCH) learn from bars up to the last training decision only.
    pipe = FeaturePipeline(spec).fit(bars.iloc[_fit_from(train_idx, spec, window) : n_fit])
    stop = int(test_idx[-1]) + 1 if test_idx.size else n_fit
    # Features are trailing: transforming up to the block's end leaks nothing into earlier
    # rows, and bars after the block are never touched.
    feats = pipe.transform(bars.iloc[:stop]).to_numpy()
    X_train, train_pos = decision_windows(feats, window, train_idx)
    known = ~np.isnan(labels[train_pos])
    X_train, train_pos = X_train[known], train_pos[known]
    X_test, test_pos = decision_windows(feats, window, test_idx)
    return FoldWindows(
        ticker=member.ticker,
        X_train=X_train,
        y_train=labels[train_pos].astype("int64"),
        train_dates=bars.index[train_pos],
        X_test=X_test,
        test_dates=bars.index[test_pos],
        test_pos=test_pos,
    )
