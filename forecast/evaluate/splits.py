"""The walk-forward splitter: scikit-learn's TimeSeriesSplit, with test blocks counted
from a fixed out-of-sample span rather than from a number of equal splits."""

from __future__ import annotations

import math

import numpy as np
from sklearn.model_selection import TimeSeriesSplit


class WalkForwardSplit(TimeSeriesSplit):
    """Train on the past, test on the next block, refit, repeat.

    The last `test_days` samples are cut into blocks of `retrain_every` (the last block
    may be shorter, which `TimeSeriesSplit` does not allow). For a block starting at
    sample s the training samples end at s - gap - 1 (exclusive end s - gap) and, with
    `max_train_size`, are the last `max_train_size` of those; otherwise all from 0.

    With `test_days` a multiple of `retrain_every` the splits are exactly
    ``TimeSeriesSplit(n_splits=test_days // retrain_every, test_size=retrain_every,
    gap=gap, max_train_size=max_train_size)``'s.
    """

    def __init__(self, *, test_days: int, retrain_every: int, gap: int = 0, max_train_size=None):
        # sklearn's k-fold base insists on n_splits >= 2; one block is a valid walk-forward.
        super().__init__(
            n_splits=max(2, math.ceil(test_days / retrain_every)),
            max_train_size=max_train_size,
            test_size=retrain_every,
            gap=gap,
        )
        self.test_days = test_days
        self.retrain_every = retrain_every

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return math.ceil(self.test_days / self.retrain_every)

    def split(self, X, y=None, groups=None):
        n = len(X)
        if not 0 < self.test_days < n:
            raise ValueError(f"test_days must be in 1..{n - 1} for {n} samples, got {self.test_days}")
        indices = np.arange(n)
        for start in range(n - self.test_days, n, self.retrain_every):
            train_end = start - self.gap
            train_start = 0 if self.max_train_size is None else max(0, train_end - self.max_train_size)
            yield indices[train_start:train_end], indices[start : min(start + self.retrain_every, n)]
