"""Fixtures of the tuning tests on Ray: a 2-CPU local cluster per module, and a random walk."""

from __future__ import annotations

import pytest

from forecast.data.synthetic import random_walk_bars


@pytest.fixture(scope="module")
def cluster():
    from forecast.experiment import RayExecutor

    with RayExecutor(workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def walk():
    bars = random_walk_bars(600, seed=5)
    bars.attrs["ticker"] = "RW"
    return bars
