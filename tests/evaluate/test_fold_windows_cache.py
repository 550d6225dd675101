"""Folds cut from features computed once per ticker give, to the last bit, the windows of
features recomputed on each fold's own bars (the way every fold was built before); the pooled
set gathered in place equals stacking and sorting copies; no window of a fold moves when bars
after its test block change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from leakage_shapes import perturb

from forecast.data.synthetic import random_walk_bars
from forecast.evaluate.fold_windows import Member, fold_windows
from forecast.evaluate.folds import plan_folds
from forecast.evaluate.walkforward import pooled_training_set
from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import FeatureSpec
from forecast.features.windows import decision_windows

WINDOW = 10
SPECS = {
    "default": FeatureSpec(),
    "all-with-garch": FeatureSpec(day_of_week=True, garch=True, return_lags=(1, 3, 60)),
    "rolling": FeatureSpec(normalize="rolling", scale_window=60),
    "returns-only": FeatureSpec(return_lags=(1,), vol_windows=(), volume=False, rsi=False, macd=False,
                                bollinger=False, atr=False, hl_range=False, gap=False),
}


def _member(ticker, seed, n=700, drop=()):
    bars = random_walk_bars(n, seed=seed, ticker=ticker, start="2010-01-04")
    cal_pos = np.delete(np.arange(n), list(drop))
    bars = bars.iloc[cal_pos]
    opens = bars["open"].to_numpy()
    labels = np.r_[(opens[2:] > opens[1:-1]).astype("float64"), np.nan, np.nan]
    return Member(ticker, bars, labels, cal_pos)


def _folds(spec, train_window, n=700):
    return plan_folds(n, first_valid=WINDOW - 1 + spec.warmup, lookahead=2, embargo=1, test_days=150,
                      retrain_every=50, train_window=train_window, min_train=120)


def _recomputed(member, fold, spec):
    """The windows as built before features were cached: a fresh pipeline per fold, fitted on
    the fold's bars and transforming bars up to the block's end, then `decision_windows`."""
    cal = member.positions
    train_idx = np.flatnonzero((cal >= fold.train_start) & (cal <= fold.train_last))
    test_idx = np.flatnonzero((cal >= fold.test_start) & (cal < fold.test_stop))
    n_fit = int(np.searchsorted(cal, fold.train_last, side="right"))
    train_idx = train_idx[train_idx >= WINDOW - 1 + spec.warmup]
    test_idx = test_idx[test_idx >= WINDOW - 1]
    fit_from = max(0, int(train_idx[0]) - (WINDOW - 1) - spec.warmup)
    pipe = FeaturePipeline(spec).fit(member.bars.iloc[fit_from:n_fit])
    feats = pipe.transform(member.bars.iloc[: int(test_idx[-1]) + 1]).to_numpy()
    X_train, pos = decision_windows(feats, WINDOW, train_idx)
    known = ~np.isnan(member.labels[pos])
    X_test, test_pos = decision_windows(feats, WINDOW, test_idx)
    return X_train[known], pos[known], X_test, test_pos


def _same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view("int64"), b.view("int64"))


@pytest.mark.slow
@pytest.mark.parametrize("train_window", [None, 200])
@pytest.mark.parametrize("name", list(SPECS))
def test_cached_features_give_the_recomputed_windows_to_the_bit(name, train_window):
    spec = SPECS[name]
    member = _member("CCC", 3, drop=(200, 201, 330, 600))  # holes, one inside a test block
    folds = _folds(spec, train_window)
    assert len(folds) == 3 and (train_window is None or folds[-1].train_start > 0)
    for fold in folds:  # one Member: its features are computed once, on the first fold
        part = fold_windows(member, fold, spec, WINDOW)
        X_train, train_pos, X_test, test_pos = _recomputed(member, fold, spec)
        assert _same_bits(part.X_train, X_train) and _same_bits(part.X_test, X_test)
        assert np.array_equal(part.train_pos, train_pos) and np.array_equal(part.test_pos, test_pos)
        assert np.array_equal(part.y_train, member.labels[train_pos].astype("int64"))
        assert part.train_dates.equals(member.bars.index[train_pos])
        assert part.test_dates.equals(member.bars.index[test_pos])
    assert len(member._raw) == 1


@pytest.mark.slow
@pytest.mark.parametrize("train_window", [None, 200])
def test_the_pooled_set_equals_stacked_copies_sorted_by_date_then_ticker(train_window):
    spec = SPECS["default"]
    members = [_member("BBB", 2, drop=range(60)), _member("AAA", 1), _member("CCC", 3, drop=(200, 330))]
    fold = _folds(spec, train_window)[1]
    parts = [fold_windows(m, fold, spec, WINDOW) for m in members]
    X, y, dates, names = pooled_training_set(parts)
    # The reference: each part's copies concatenated, then reordered.
    Xc = np.concatenate([p.X_train for p in parts])
    dc = np.concatenate([p.train_dates.to_numpy() for p in parts])
    nc = np.concatenate([[p.ticker] * len(p.y_train) for p in parts]).astype(str)
    order = np.lexsort((nc, dc))
    assert _same_bits(X, Xc[order]) and X.flags.c_contiguous
    assert np.array_equal(y, np.concatenate([p.y_train for p in parts])[order])
    assert np.array_equal(dates, dc[order]) and list(names) == list(nc[order])
    assert pd.Index(dates).is_monotonic_increasing and len(set(names)) == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["default", "all-with-garch"])
def test_bars_after_a_folds_test_block_move_none_of_its_windows(name):
    spec = SPECS[name]
    member = _member("AAA", 1)
    fold = _folds(spec, 200)[0]
    base = fold_windows(member, fold, spec, WINDOW)
    last = member.bars.index[base.test_pos[-1]]
    after = Member("AAA", perturb(member.bars, last, seed=5), member.labels, member.positions)
    moved = fold_windows(after, fold, spec, WINDOW)
    assert _same_bits(moved.X_train, base.X_train) and _same_bits(moved.X_test, base.X_test)
    assert np.array_equal(moved.y_train, base.y_train)
    # The check can fail: perturbing from the block's second-last decision moves its last window.
    inside = Member("AAA", perturb(member.bars, member.bars.index[base.test_pos[-2]], seed=5),
                    member.labels, member.positions)
    assert not _same_bits(fold_windows(inside, fold, spec, WINDOW).X_test, base.X_test)
