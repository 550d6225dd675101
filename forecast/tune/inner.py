"""The inner validation of one walk-forward fold: a smaller walk-forward over its training rows.

The outer fold's training decisions are cut like the outer walk-forward cuts its span
(`WalkForwardSplit`): the last `n_blocks` blocks of `block` rows are validation blocks, each
trained on the rows before it. Between an inner training set and its validation block lies
the outer fold's own gap, label look-ahead + embargo in bars: every inner training label
ends `embargo` bars before the block it is scored on, as every outer one does before the
test block. The gap is cut on bar positions, so rows missing from the training set
(incomplete windows) never narrow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.errors import ConfigError
from forecast.evaluate.splits import WalkForwardSplit

# An inner training set smaller than this cannot tell parameters apart.
MIN_INNER_TRAIN = 50


@dataclass(frozen=True)
class InnerSplit:
    """Rows (indices into the fold's training arrays) of one inner training set and the
    validation block it is scored on."""

    train: np.ndarray
    validate: np.ndarray


def inner_splits(positions: np.ndarray, *, n_blocks: int, block: int, gap: int,
                 fold: int | None = None) -> list[InnerSplit]:
    """Inner splits of a fold whose training decisions sit at bar `positions` (ascending).

    `gap` is the outer fold's distance in bars from its last training decision to its
    first test decision (label look-ahead + embargo): an inner training row at position p
    is kept for a block starting at position s only if p + gap <= s. ConfigError (one line)
    when the rows cannot hold `n_blocks` blocks after `MIN_INNER_TRAIN` training rows.
    """
    positions = np.asarray(positions)
    n = len(positions)
    where = f"fold {fold}: " if fold is not None else ""
    need = MIN_INNER_TRAIN + gap + n_blocks * block
    if n < need:
        raise ConfigError(
            f"{where}{n} training decisions are too few for {n_blocks} inner validation blocks of "
            f"{block} after {MIN_INNER_TRAIN} training rows and a gap of {gap} (need {need}); "
            "lower the inner folds or block, or give a longer span"
        )
    # The blocks from the walk-forward's splitter; the gap is then cut in bars, not rows, so
    # that rows missing before a block neither shrink it nor drop more rows than it needs.
    splitter = WalkForwardSplit(test_days=n_blocks * block, retrain_every=block, gap=0)
    out = []
    for train, validate in splitter.split(positions):
        train = train[positions[train] + gap <= positions[validate[0]]]
        if len(train) < MIN_INNER_TRAIN:
            raise ConfigError(f"{where}an inner training set holds {len(train)} rows, fewer than "
                              f"{MIN_INNER_TRAIN}; give a longer span")
        out.append(InnerSplit(train, validate))
    return out
