"""Walk-forward (rolling-origin) evaluation with an embargo between training and testing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast import defaults
from forecast.errors import ConfigError
from forecast.evaluate.splits import WalkForwardSplit
from forecast.features.indicators import check_bars
from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.target import (
    check_label,
    describe_label,
    label_lookahead,
    make_target,
)
from forecast.features.windows import decision_windows
from forecast.models.fitting import fit_model, predict_up, purge_validation_overlap
from forecast.models.params import check_int

# Estimator parameters that walk_forward's seed is written to.
_SEED_PARAMS = ("random_state", "seed")


@dataclass(frozen=True)
class Fold:
    """Positions (0-based bar numbers) of one fold's training and test decisions."""

    index: int
    train_start: int  # first training decision position
    train_last: int  # last training decision position (inclusive)
    test_start: int  # first test decision position
    test_stop: int  # one past the last test decision position


def plan_folds(
    n_bars: int,
    *,
    first_valid: int,
    lookahead: int,
    embargo: int,
    test_days: int,
    retrain_every: int,
    train_window: int | None,
    min_train: int,
) -> list[Fold]:
    """Cut the last `test_days` decision positions into blocks of `retrain_every`.

    `lookahead` is how many bars after its decision bar a label reads (see
    `label_lookahead`). For the block starting at position s, training decisions t satisfy
    ``first_valid <= t <= s - lookahead - embargo`` (and ``t > s - lookahead - embargo -
    train_window`` when the window rolls), so the last price of every training label is
    at least `embargo` bars before s. Raises ConfigError when the first block would get
    fewer than `min_train` training decisions.
    """
    need = first_valid + min_train + lookahead + embargo + test_days - 1
    if n_bars < need or test_days < 1:
        raise ConfigError(
            f"{n_bars} bars are too few: feature warm-up and window ({first_valid}), "
            f"min_train ({min_train}), label look-ahead + embargo ({lookahead + embargo}) and "
            f"test_days ({test_days}) need at least {need}"
        )
    # Split the decision positions first_valid..n_bars-1; a gap of lookahead + embargo - 1
    # samples ends training at s - lookahead - embargo, inclusive.
    splitter = WalkForwardSplit(test_days=test_days, retrain_every=retrain_every,
                                gap=lookahead + embargo - 1, max_train_size=train_window)
    positions = np.arange(first_valid, n_bars)
    return [
        Fold(k, int(positions[train[0]]), int(positions[train[-1]]), int(positions[test[0]]),
             int(positions[test[-1]]) + 1)
        for k, (train, test) in enumerate(splitter.split(positions))
    ]


@dataclass(frozen=True)
class Schedule:
    """Checked walk-forward settings: what `walk_forward` records as its provenance."""

    window: int
    horizon: int
    label: str
    threshold: float
    symmetric: bool
    embargo: int
    retrain_every: int
    train_window: int | None
    min_train: int
    test_days: int

    @classmethod
    def checked(cls, *, n_bars: int, warmup: int, embargo: int | None, test_days: int | None,
                **settings) -> Schedule:
        """Validate the settings (ConfigError naming the bad one) and fill the defaults:
        embargo = horizon, test_days = 20% of the bars with valid features."""
        for name in ("window", "horizon", "retrain_every", "min_train"):
            check_int(name, settings[name], minimum=1)
        check_label(settings["label"])
        embargo = settings["horizon"] if embargo is None else embargo
        check_int("embargo", embargo, minimum=0)
        train_window, min_train = settings["train_window"], settings["min_train"]
        if train_window is not None:
            check_int("train_window", train_window, minimum=1)
            if train_window < min_train:
                raise ConfigError(f"train_window ({train_window}) is smaller than min_train ({min_train})")
        if test_days is None:
            test_days = max(1, int(round(defaults.TEST_SHARE * (n_bars - (warmup + settings["window"] - 1)))))
        check_int("test_days", test_days, minimum=1)
        return cls(embargo=embargo, test_days=test_days, **settings)

    @property
    def lookahead(self) -> int:
        return label_lookahead(self.horizon, self.label)

    def folds(self, n_bars: int, warmup: int) -> list[Fold]:
        return plan_folds(
            n_bars, first_valid=warmup + self.window - 1, lookahead=self.lookahead,
            embargo=self.embargo, test_days=self.test_days, retrain_every=self.retrain_every,
            train_window=self.train_window, min_train=self.min_train,
        )

    def record(self) -> dict:
        """The settings, plus the label's definition, for `attrs` and metrics.json."""
        return {
            "window": self.window, "horizon": self.horizon, "label": self.label,
            "label_definition": describe_label(self.horizon, self.label, self.threshold),
            "threshold": self.threshold, "symmetric": self.symmetric, "embargo": self.embargo,
            "retrain_every": self.retrain_every, "train_window": self.train_window,
            "min_train": self.min_train, "test_days": self.test_days,
        }


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
    spec = as_spec(spec)
    check_bars(bars, spec)
    check_int("seed", seed, minimum=0)
    schedule = Schedule.checked(
        window=window, horizon=horizon, label=label, threshold=threshold, symmetric=symmetric,
        embargo=embargo, retrain_every=retrain_every, train_window=train_window,
        min_train=min_train, test_days=test_days, n_bars=len(bars), warmup=spec.warmup,
    )
    folds = schedule.folds(len(bars), spec.warmup)
    lookahead = schedule.lookahead
    estimator, name = _resolve_model(model, model_params, seed)
    estimator = purge_validation_overlap(estimator, model_params, lookahead)
    labels = make_target(bars, horizon, threshold, symmetric=symmetric, label=label).to_numpy()

    warm = warm_refits(estimator)
    frames, fitted = [], None
    for fold in folds:
        # A warm refit continues from the previous fold's model, which was trained on
        # labels that end before that fold's test block, so before this one's too.
        template = fitted if warm and fitted is not None else clone(estimator)
        frame, fitted = _run_fold(bars, fold, spec, window, labels, template, seed,
                                  shuffle_train_labels, callbacks)
        frames.append(frame)
        if progress is not None:
            progress(fold.index, len(folds))

    out = pd.concat(frames).sort_index()
    out.index.name = "date"
    out.attrs.update(model=name, ticker=bars.attrs.get("ticker"), **schedule.record(),
                     warm_start=warm, seed=seed, spec=spec.to_dict())
    return out


def _run_fold(
    bars: pd.DataFrame,
    fold: Fold,
    spec: FeatureSpec,
    window: int,
    labels: np.ndarray,
    est: Any,
    seed: int,
    shuffle: bool,
    callbacks: list | None = None,
) -> tuple[pd.DataFrame, Any]:
    """One fold's test predictions, and the estimator `est` fitted on its training span."""
    # The scaler (and GARCH) learn from bars up to the last training decision only.
    # With a rolling train_window, start where the first training window's warm-up starts.
    fit_from = max(0, fold.train_start - (window - 1) - spec.warmup)
    pipe = FeaturePipeline(spec).fit(bars.iloc[fit_from : fold.train_last + 1])
    # Features are trailing, so transforming up to the block end leaks nothing into
    # earlier rows; bars after the block are never touched.
    feats = pipe.transform(bars.iloc[: fold.test_stop]).to_numpy()

    X_train, train_pos = decision_windows(feats, window, np.arange(fold.train_start, fold.train_last + 1))
    labelled = ~np.isnan(labels[train_pos])
    X_train, y_train = X_train[labelled], labels[train_pos][labelled].astype("int64")
    if shuffle:
        y_train = np.random.default_rng([seed, fold.index]).permutation(y_train)
    if len(np.unique(y_train)) < 2:
        raise ConfigError(
            f"fold {fold.index}: the training labels hold one class only; "
            "lower the threshold or give a longer span"
        )

    X_test, test_pos = decision_windows(feats, window, np.arange(fold.test_start, fold.test_stop))

    fit_model(est, X_train, y_train, callbacks)
    prob_up = predict_up(est, X_test)  # refuses shapes and values a probability cannot have
    frame = pd.DataFrame(
        {"prob_up": prob_up, "actual_up": labels[test_pos], "fold": fold.index},
        index=bars.index[test_pos],
    )
    return frame, est


def warm_refits(estimator: Any) -> bool:
    """Whether walk-forward refits `estimator` warm: it declares `warm_refits` (its fit
    continues the fitted model, as the Keras forecasters' do) and its `warm_start` is on.

    Other estimators are cloned cold every fold: scikit-learn's own `warm_start` means
    different things (gradient boosting would keep its trees and add none).
    """
    return bool(getattr(estimator, "warm_refits", False)) and bool(
        estimator.get_params(deep=False).get("warm_start", False)
    )


def _resolve_model(model: Any, params: dict | None, seed: int) -> tuple[Any, str]:
    """An unfitted estimator template and its display name."""
    params = dict(params or {})
    if isinstance(model, str):
        from forecast.models.registry import make_model  # lazy: may pull in TensorFlow

        est = make_model(model, **params)
        free = {p: seed for p in _SEED_PARAMS if p in est.get_params(deep=False) and p not in params}
        return (est.set_params(**free) if free else est), model
    if not (hasattr(model, "fit") and hasattr(model, "predict_proba") and hasattr(model, "get_params")):
        raise ConfigError(
            f"model must be a registry name or a scikit-learn classifier, not {type(model).__name__}"
        )
    est = clone(model)
    if params:
        try:
            est.set_params(**params)
        except ValueError as exc:
            raise ConfigError(f"bad model parameter: {exc}") from None
    current = est.get_params(deep=False)
    free = {p: seed for p in _SEED_PARAMS if p in current and current[p] is None and p not in params}
    if free:
        est.set_params(**free)
    return est, getattr(model, "name", None) or type(model).__name__
