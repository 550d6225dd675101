"""One fold's training and test windows for one ticker, features fitted on its training part only.

Every walk-forward builds its windows here: one ticker's (its bars are the fold plan's
positions) and each ticker of a universe (the plan is in calendar positions; a ticker's
missing days are simply absent, never filled).

A ticker's raw standard features are computed once per walk-forward (`Member.raw`) and
sliced for every fold; only the scaling (and fitted features such as GARCH) is learnt per
fold. The slices equal to the last bit what computing on the fold's bars gives (trailing
computations start at the first bar; with a rolling training window only `start_invariant`
features are reused for the fit span). A fold keeps the scaled feature rows its windows
need and the windows' end positions; windows are cut from them when asked for.

With a cross-sectional spec (`FeatureSpec.cross_section`) the universe walk-forward hands each
member its columns over all its bars, already normalised across tickers (`Member.given`):
those are sliced for every fold as they are (never recomputed on a fold's span: a rolling
training window starts no feature afresh), and only `ret_1` is scaled on the fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.evaluate.folds import Fold
from forecast.features.pipeline import FeaturePipeline, precomputable, precompute, precomputed_span
from forecast.features.spec import FeatureSpec
from forecast.features.windows import complete_windows, gather_windows


@dataclass(frozen=True)
class Member:
    """One ticker's walk-forward inputs: its bars, its labels aligned with them (NaN when
    unknown), and the calendar position of each bar (None: the bars are the calendar).

    `given`: every feature column over all the bars, cross-sectional ones normalised across
    the universe (`forecast.features.cross_section.universe_columns`); None: computed here.
    `regression`: the labels are a return or rank (kept as floats), not 0/1 directions.
    """

    ticker: str | None
    bars: pd.DataFrame
    labels: np.ndarray
    positions: np.ndarray | None = None
    given: dict | None = field(default=None, repr=False, compare=False)
    regression: bool = False
    _raw: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def raw(self, spec: FeatureSpec) -> dict[str, np.ndarray]:
        """The raw precomputable features over all the bars, computed on first use per spec
        (the `given` columns when there are)."""
        if self.given is not None:
            return self.given
        if spec not in self._raw:
            self._raw[spec] = precompute(self.bars, spec)
        return self._raw[spec]


@dataclass
class FoldWindows:
    """One ticker's share of a fold: labelled training windows, and test windows.

    `features` holds the scaled feature rows from bar `offset` on, enough for every window;
    `train_pos`/`test_pos` are the bar numbers the windows end at (their decisions).
    """

    ticker: str | None
    features: np.ndarray
    offset: int
    window: int
    train_pos: np.ndarray
    y_train: np.ndarray
    train_dates: pd.DatetimeIndex
    test_pos: np.ndarray
    test_dates: pd.DatetimeIndex

    @property
    def X_train(self) -> np.ndarray:
        """The training windows (a new array each time)."""
        return gather_windows(self.features, self.window, self.train_pos - self.offset)

    @property
    def X_test(self) -> np.ndarray:
        """The test windows (a new array each time)."""
        return gather_windows(self.features, self.window, self.test_pos - self.offset)


def fold_windows(member: Member, fold: Fold, spec: FeatureSpec, window: int) -> FoldWindows | None:
    """`member`'s windows for `fold`; None when a universe ticker has too little history
    before the fold's last training decision to fit its features."""
    if spec.cross_section != "none" and member.given is None:
        raise ConfigError(
            f"feature option cross_section = {spec.cross_section!r} normalises across a universe's "
            "tickers each day: use it in a universe walk-forward (fcast portfolio), not on one ticker"
        )
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
    fit_from = _fit_from(train_idx, spec, window)
    cached = member.raw(spec)
    # The scaler (and GARCH) learn from bars up to the last training decision only; a rolling
    # window's fit span starts late, and only what does not depend on the start is reused.
    if member.given is not None:  # whole-history values, as they are (see the module docstring)
        fit_raw = {c: v[fit_from:n_fit] for c, v in cached.items()}
    else:
        fit_raw = precomputed_span(bars, spec, cached, fit_from, n_fit)
    pipe = FeaturePipeline(spec).fit(bars.iloc[fit_from:n_fit], raw=fit_raw)
    stop = int(test_idx[-1]) + 1 if test_idx.size else n_fit
    first = int(min(train_idx[0], test_idx[0] if test_idx.size else train_idx[0])) - (window - 1)
    # Features are trailing: rows up to the block's end read no bar after it.
    feats, offset = _feature_rows(pipe, bars, cached, spec, max(first, 0), stop)
    train_pos = train_idx[complete_windows(feats, window, train_idx - offset)]
    train_pos = train_pos[~np.isnan(labels[train_pos])]
    test_pos = test_idx[complete_windows(feats, window, test_idx - offset)]
    return FoldWindows(
        ticker=member.ticker,
        features=feats,
        offset=offset,
        window=window,
        train_pos=train_pos,
        y_train=labels[train_pos].astype("float64" if member.regression else "int64"),
        train_dates=bars.index[train_pos],
        test_pos=test_pos,
        test_dates=bars.index[test_pos],
    )


def _feature_rows(pipe: FeaturePipeline, bars: pd.DataFrame, cached: dict, spec: FeatureSpec,
                  first: int, stop: int) -> tuple[np.ndarray, int]:
    """Scaled feature rows `first` .. `stop` - 1 (and the row number of the first).

    Only precomputed features scaled by fitted statistics can start at `first`: the others
    (fitted ones such as GARCH, user features) and rolling normalisation run from bar 0.
    """
    from_start = spec.normalize != "fit" or len(precomputable(spec)) < len(spec.features())
    lo = 0 if from_start else first
    feats = pipe.transform(bars.iloc[lo:stop], raw={c: v[lo:stop] for c, v in cached.items()}).to_numpy()
    return np.ascontiguousarray(feats[first - lo:]), first
