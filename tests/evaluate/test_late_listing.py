"""A universe ticker listed too late to fit its features before a fold (GARCH needs 100
returns) sits that fold out and joins later ones, instead of failing the whole run."""

from __future__ import annotations

import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.errors import DataError
from forecast.evaluate.pooled import portfolio_walk_forward
from forecast.features.spec import FeatureSpec
from forecast.portfolio.universe import Universe

SCHEDULE = dict(window=5, test_days=200, retrain_every=100, min_train=60)


def _universe():
    bars = {t: random_walk_bars(700, seed=i) for i, t in enumerate(("AAA", "BBB"))}
    # CCC lists 430 bars in: about 70 bars before the first fold's last training day (GARCH needs 101),
    # about 170 before the second's.
    bars["CCC"] = random_walk_bars(700, seed=9).iloc[430:]
    return Universe.from_bars(bars)


@pytest.mark.slow
@pytest.mark.parametrize("pooled", [True, False])
def test_a_late_ticker_sits_out_the_folds_it_cannot_fit_garch_for(pooled):
    out = portfolio_walk_forward(_universe(), "logreg", pooled=pooled, spec={"garch": True}, **SCHEDULE)
    assert out.attrs["skipped_ticker_folds"] >= 1
    folds = out.groupby(level="ticker")["fold"].agg(["min", "count"])
    assert folds.loc["AAA", "min"] == folds.loc["BBB", "min"] == 0
    assert folds.loc["CCC", "min"] > 0 and folds.loc["CCC", "count"] > 0  # joins once it has the history

@pytest.mark.slow
def test_without_the_history_check_the_run_fails(monkeypatch):
    # Proves the test above can fail: the guard, not luck, keeps GARCH from fitting too few bars.
    monkeypatch.setattr(FeatureSpec, "min_fit", property(lambda self: 0))
    with pytest.raises(DataError, match="GARCH needs at least 100 returns"):
        portfolio_walk_forward(_universe(), "logreg", pooled=True, spec={"garch": True}, **SCHEDULE)
