"""The classic mistake, planted: each fold's trials are scored on that fold's own test block."""

from __future__ import annotations

import numpy as np

from forecast.tune.fold_models import TunedFoldModels
from forecast.tune.search import Searcher, TrainingRows


class PeekingSearcher(Searcher):
    """Scores every trial on the outer test block (fitted on the whole training span)."""

    labels: np.ndarray  # the walk-forward's labels, known only in hindsight for the test block
    part = None

    def validation_sets(self, rows, fold):
        part = self.part
        known = ~np.isnan(self.labels[part.test_pos])  # the last days' outcomes are not known even now
        pos = part.test_pos[known]
        test = TrainingRows(part.X_test[known], self.labels[pos].astype("int64"), pos,
                            part.test_dates.to_numpy()[known], np.zeros(len(pos)))
        return [(rows, test)]


def peeking_models(labels: np.ndarray):
    """A TunedFoldModels class whose searches peek at the test block."""

    class Peeking(TunedFoldModels):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, searcher=PeekingSearcher, **kwargs)
            self.searcher.labels = labels

        def prepare(self, estimator, fold, parts):
            self.searcher.part = parts[0]
            return super().prepare(estimator, fold, parts)

    return Peeking
