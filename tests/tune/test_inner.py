"""The inner walk-forward of a fold: blocks at the end, the outer gap in bars, holes respected."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.errors import ConfigError
from forecast.tune.inner import MIN_INNER_TRAIN, inner_splits


def test_blocks_tile_the_end_and_every_training_row_is_the_gap_before_its_block():
    positions = np.arange(100, 400)
    splits = inner_splits(positions, n_blocks=3, block=40, gap=3)
    starts = [positions[s.validate[0]] for s in splits]
    assert starts == [280, 320, 360]
    assert np.array_equal(np.concatenate([s.validate for s in splits]), np.arange(180, 300))
    for s, start in zip(splits, starts, strict=True):
        # every row before start - 3 trains (expanding), none closer
        assert np.array_equal(positions[s.train], np.arange(100, start - 2))


def test_a_hole_in_the_rows_is_purged_by_bar_position():
    # rows missing at 276-278: counted in samples the gap would shrink; in bars it holds
    positions = np.setdiff1d(np.arange(100, 400), [276, 277, 278])
    for s in inner_splits(positions, n_blocks=3, block=40, gap=5):
        assert positions[s.train].max() + 5 <= positions[s.validate].min()
        before = positions[positions < positions[s.validate].min() - 4]
        assert np.array_equal(positions[s.train], before)


def test_too_few_rows_is_one_line():
    with pytest.raises(ConfigError) as exc:
        inner_splits(np.arange(MIN_INNER_TRAIN + 3 + 3 * 40 - 1), n_blocks=3, block=40, gap=3, fold=2)
    assert str(exc.value).startswith("fold 2: ") and "too few" in str(exc.value)
    assert len(inner_splits(np.arange(MIN_INNER_TRAIN + 3 + 3 * 40), n_blocks=3, block=40, gap=3)) == 3
