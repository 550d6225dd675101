"""Walk-forward fold planning: which decisions each fold trains on and which it forecasts.

Positions are bar numbers of one ticker's bars, or calendar positions of a universe;
every walk-forward (one ticker, a pooled universe, a universe ticker by ticker) plans its
folds here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError
from forecast.evaluate.splits import WalkForwardSplit
from forecast.features.target import check_label, describe_label, label_lookahead
from forecast.models.params import check_int


@dataclass(frozen=True)
class Fold:
    """Positions (0-based bar numbers) of one fold's training and test decisions."""

    index: int
    train_start: int  # first training decision position
    train_last: int  # last training decision position (inclusive)
    test_start: int  # first test decision position
    test_stop: int  # one past the last test decision position
    # The block's full length (retrain_every), which a block cut short by the data's end
    # lacks: its forecasts are computed at that length (see `predict_block`).
    block: int | None = None


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
             int(positions[test[-1]]) + 1, retrain_every)
        for k, (train, test) in enumerate(splitter.split(positions))
    ]


def resolve_test_days(dates, test_days: int | None, test_start) -> int | None:
    """`test_days` for a test span that starts at the first of `dates` on or after
    `test_start` (a date), so that later bars add test days but move no fold boundary:
    a run through day D and one through a later day share every fold up to D (what a
    daily signal and a forward test need). Without `test_start`, `test_days` unchanged."""
    if test_start is None:
        return test_days
    if test_days is not None:
        raise ConfigError("give test_days (or folds) or test_start, not both")
    from forecast.data.frame import parse_date

    first = parse_date(test_start, "test_start")
    if len(dates) == 0 or first > dates[-1]:
        last = "no bars" if len(dates) == 0 else f"the last bar is {pd.Timestamp(dates[-1]).date()}"
        raise ConfigError(f"test_start {first.date()} is after the data ({last})")
    return int(len(dates) - dates.searchsorted(first))


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
