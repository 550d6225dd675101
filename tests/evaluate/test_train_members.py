"""Who a universe model trains on: with a point-in-time membership, only the members on
the fold's last training decision date (the papers' constituents at the end of each
training period), read from nothing later; without one, everyone with bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecast.evaluate.pooled as pooled_mod
import forecast.evaluate.walkforward as wf
from forecast.cache import prediction_key
from forecast.data import membership as ms
from forecast.data.synthetic import ar1_bars
from forecast.errors import ConfigError
from forecast.evaluate.pooled import plan_universe_folds, portfolio_schedule, portfolio_walk_forward
from forecast.features.spec import as_spec
from forecast.portfolio.universe import Universe

TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
SPEC = {"return_lags": (1, 2), "vol_windows": (5,), "volume": False, "rsi": False, "macd": False,
        "bollinger": False, "atr": False, "hl_range": False, "gap": False, "day_of_week": False}
WF = {"window": 3, "test_days": 120, "retrain_every": 40, "min_train": 60, "spec": SPEC}


class Membership:
    """The one method the walk-forward and the cache read of a stored universe."""

    def __init__(self, intervals: pd.DataFrame):
        self.intervals = intervals

    def mask(self, dates, tickers=None):
        return ms.member_mask(self.intervals, dates, tickers)


def make_universe(cut: int = 330) -> Universe:
    bars = {t: ar1_bars(400, seed=i + 1, ticker=t, start="2010-01-04") for i, t in enumerate(TICKERS)}
    universe = Universe.from_bars(bars)
    day = universe.calendar
    # BBB leaves after day 250 and comes back at `cut`; CCC joins at 300; DDD leaves at 200.
    universe.membership = Membership(pd.DataFrame({
        "ticker": ["AAA", "BBB", "BBB", "CCC", "DDD", "EEE"],
        "start": [day[0], day[0], day[cut], day[300], day[0], day[0]],
        "end": [ms.OPEN_END, day[250], ms.OPEN_END, ms.OPEN_END, day[200], ms.OPEN_END],
    }))
    return universe


def spy_training(monkeypatch) -> list[list[str]]:
    """The tickers of each pooled fit, in fold order."""
    seen: list[list[str]] = []
    real = wf.pooled_training_set

    def spy(parts):
        seen.append([p.ticker for p in parts])
        return real(parts)

    monkeypatch.setattr(wf, "pooled_training_set", spy)
    return seen


def expected_trainers(universe: Universe) -> list[list[str]]:
    """By hand: for each fold, the tickers that are members on its last training decision date."""
    spec = as_spec(SPEC)
    schedule = portfolio_schedule(universe, spec, window=WF["window"], test_days=WF["test_days"],
                                  retrain_every=WF["retrain_every"], train_window=None,
                                  min_train=WF["min_train"], embargo=None)
    out = []
    for fold in plan_universe_folds(universe, schedule, spec):
        day = universe.calendar[fold.train_last]
        iv = universe.membership.intervals
        out.append(sorted(set(iv.loc[(iv["start"] <= day) & (iv["end"] >= day), "ticker"])))
    return out


def test_pooled_training_uses_the_members_at_the_training_end(monkeypatch):
    universe = make_universe()
    seen = spy_training(monkeypatch)
    preds = portfolio_walk_forward(universe, "logreg", **WF)
    assert [sorted(s) for s in seen] == expected_trainers(universe)
    # The folds differ in who trains (the test would pass vacuously otherwise).
    assert len({tuple(s) for s in seen}) >= 2
    # Pooled: every ticker is still forecast in every fold, members or not.
    per_fold = preds.reset_index().groupby("fold")["ticker"].nunique()
    assert (per_fold == len(TICKERS)).all()
    assert preds.attrs["train_on"] == "members"


@pytest.mark.slow
def test_train_on_all_and_no_membership_train_on_everyone(monkeypatch):
    universe = make_universe()
    seen = spy_training(monkeypatch)
    everyone = portfolio_walk_forward(universe, "logreg", train_on="all", **WF)
    assert all(sorted(s) == TICKERS for s in seen)
    universe.membership = None
    plain = portfolio_walk_forward(universe, "logreg", **WF)
    pd.testing.assert_frame_equal(plain, everyone)
    assert "train_on" not in plain.attrs


@pytest.mark.slow
def test_per_ticker_models_skip_non_members(monkeypatch):
    universe = make_universe()
    fitted: list[tuple[int, str]] = []
    real = wf._fit_member_fold

    def spy(part, models, fold, *rest):
        fitted.append((fold.index, part.ticker))
        return real(part, models, fold, *rest)

    monkeypatch.setattr(wf, "_fit_member_fold", spy)
    preds = portfolio_walk_forward(universe, "logreg", pooled=False, **WF)
    expected = [(k, t) for k, names in enumerate(expected_trainers(universe)) for t in names]
    assert sorted(fitted) == sorted(expected)
    have = set(zip(preds["fold"], preds.index.get_level_values("ticker"), strict=True))
    assert {(k, t) for k, t in have} <= set(expected)


def _forecasts_before(preds: pd.DataFrame, day) -> pd.DataFrame:
    return preds[preds.index.get_level_values("date") < day]


def test_a_later_membership_change_moves_no_earlier_forecast():
    """BBB's return date moves from day 330 to 360: every fold whose training ends before
    day 330 reads the same membership, so no forecast dated before 330 may change. The
    late folds must change (BBB trains in one and not the other)."""
    a = portfolio_walk_forward(make_universe(cut=330), "logreg", **WF)
    b = portfolio_walk_forward(make_universe(cut=360), "logreg", **WF)
    day = make_universe().calendar
    pd.testing.assert_frame_equal(_forecasts_before(a, day[330]), _forecasts_before(b, day[330]))
    assert not a.equals(b)


@pytest.mark.slow
def test_the_check_catches_membership_read_after_the_training_end(monkeypatch):
    """Planted leak: the training set read at the end of the test block instead. The check
    above must then see an earlier forecast move."""
    real = pooled_mod.training_members

    def leaky(universe, tickers, train_on):
        mask = real(universe, tickers, train_on)
        return np.vstack([mask[40:], np.repeat(mask[-1:], 40, axis=0)])  # row t reads t + 40

    monkeypatch.setattr(pooled_mod, "training_members", leaky)
    a = portfolio_walk_forward(make_universe(cut=330), "logreg", **WF)
    b = portfolio_walk_forward(make_universe(cut=360), "logreg", **WF)
    day = make_universe().calendar
    assert not _forecasts_before(a, day[330]).equals(_forecasts_before(b, day[330]))


def test_bad_train_on_is_one_line():
    with pytest.raises(ConfigError, match="train_on must be one of members, all"):
        portfolio_walk_forward(make_universe(), "logreg", train_on="everyone", **WF)


def test_cache_key_counts_train_on_only_with_a_membership():
    universe = make_universe()
    members, _ = prediction_key(universe, "logreg", universe=True, **WF)
    everyone, _ = prediction_key(universe, "logreg", universe=True, train_on="all", **WF)
    assert members != everyone
    universe.membership = None
    plain, _ = prediction_key(universe, "logreg", universe=True, **WF)
    plain_all, _ = prediction_key(universe, "logreg", universe=True, train_on="all", **WF)
    assert plain == plain_all


def test_cli_bad_train_on_is_one_line(capsys):
    from cli_run import run

    code, _, err = run(capsys, "portfolio", "KO", "MSFT", "--source", "bundled", "--train-on", "some")
    assert code != 0
    assert err.strip().splitlines() == ["error: --train-on must be one of members, all, not 'some'"]
