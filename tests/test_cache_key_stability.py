"""Cache keys are the same bytes as before the walk-forwards were merged (issue 21).

The literals below were printed by the code at commit 89acb8f (before the merge, with its
own `forecast/cache.py` and `forecast/portfolio/cache.py`), obtained with

    git archive 89acb8f forecast strategies | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base python <the same calls, with the same three patches>

The patches pin what a key hashes about the installation (fcast's version, a hash of its
sources, library versions): those change by design whenever the code or a library does,
so only the rest of the key, what a run computes from, is compared. Baseline models keep
the model parameters independent of scikit-learn's version.
"""

from __future__ import annotations

import pytest

import forecast.cache as cache_mod
from forecast.cache import prediction_key
from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.portfolio.universe import Universe

SCHEDULE = {"window": 5, "test_days": 60, "retrain_every": 30, "min_train": 100}


@pytest.fixture(autouse=True)
def pinned_installation(monkeypatch):
    monkeypatch.setattr(cache_mod, "fcast_version", lambda: "0.0.test")
    monkeypatch.setattr(cache_mod, "fcast_code_digest", lambda: "code")
    monkeypatch.setattr(cache_mod, "_library_versions", lambda keras_model: {})


def _bars():
    bars = ar1_bars(400, phi=0.5, seed=0)
    bars.attrs["ticker"] = "SYN"
    return bars


def test_single_ticker_keys_are_unchanged():
    bars = _bars()
    assert prediction_key(bars, "majority", seed=3, **SCHEDULE)[0] == (
        "46512086fbed41a77dd364b5d68c7ef0b8b43401b024cb570b493f0c69b34dd5"
    )
    assert prediction_key(bars, "momentum", horizon=2, label="close", **SCHEDULE)[0] == (
        "541334cd76463b1f1264b7e51ad360b6e1226ab161fed0a3b3d9df3ebe2d3012"
    )


def test_universe_keys_are_unchanged():
    a, b = ar1_bars(300, phi=0.3, seed=1), random_walk_bars(300, seed=2)
    a.attrs["ticker"], b.attrs["ticker"] = "AAA", "BBB"
    universe = Universe.from_bars({"AAA": a, "BBB": b})
    key, _ = prediction_key(universe, "majority", universe=True, pooled=False, target="beats-median",
                            **SCHEDULE)
    assert key == "7267c097661fe79125e365d2ed7a3e316a8aa64f2e9886b2c62fbbb986dab0a7"


def test_the_literal_check_can_fail():
    """Any change to what is keyed gives another key (so the literals above guard something)."""
    assert prediction_key(_bars(), "majority", seed=4, **SCHEDULE)[0] != (
        "46512086fbed41a77dd364b5d68c7ef0b8b43401b024cb570b493f0c69b34dd5"
    )
