"""Regression targets beside direction: the traded return and a universe's daily rank.

The targets are checked against loops over the bars written here (never the functions
under test), the rank against the day's members only (a planted rank over non-members is
caught), and the models' twins against a series whose next return is linear in a feature
(high IC) and a random walk (IC within noise of 0). The leakage suite runs the
perturbation check with both targets (tests/evaluate/test_leakage.py).
"""

from __future__ import annotations

import math

import leakage_shapes as shapes
import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, rankdata

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import walk_forward
from forecast.evaluate.metrics import score_metrics
from forecast.evaluate.pooled import portfolio_walk_forward
from forecast.features.universe_target import cross_sectional_rank, target_frame
from forecast.portfolio.universe import Universe

SCHEDULE = dict(window=5, test_days=300, retrain_every=150, min_train=300)


def _traded_return_loop(bars: pd.DataFrame) -> dict:
    """open[t+2] / open[t+1] - 1 by decision date, one bar at a time."""
    opens = bars["open"].to_numpy()
    return {bars.index[t]: opens[t + 2] / opens[t + 1] - 1.0 for t in range(len(bars) - 2)}


def test_ticker_return_target_is_the_traded_return():
    bars = random_walk_bars(700, seed=3)
    pred = walk_forward(bars, "logreg", target="return", **SCHEDULE)
    assert list(pred.columns) == ["score", "actual_up", "realized", "fold"]
    expected = _traded_return_loop(bars)
    known = pred.dropna(subset=["realized"])
    assert len(known) == len(pred) - 2  # the last two decisions' returns are not known yet
    for day, row in known.iterrows():
        assert row["realized"] == pytest.approx(expected[day], rel=1e-12)
        assert row["actual_up"] == float(expected[day] > 0)
    assert np.isfinite(pred["score"]).all() and pred.attrs["target"] == "return"


def test_threshold_and_rank_are_refused_for_one_ticker():
    bars = random_walk_bars(700, seed=3)
    with pytest.raises(ConfigError, match="threshold"):
        walk_forward(bars, "logreg", target="return", threshold=0.01, **SCHEDULE)
    with pytest.raises(ConfigError, match="rank is a universe's target"):
        walk_forward(bars, "logreg", target="rank", **SCHEDULE)


class _Membership:
    """A point-in-time membership: `out` is not a member from `since` on."""

    def __init__(self, out: str, since):
        self.out, self.since = out, pd.Timestamp(since)

    def mask(self, dates, tickers):
        frame = pd.DataFrame(True, index=pd.DatetimeIndex(dates), columns=list(tickers))
        frame.loc[frame.index >= self.since, self.out] = False
        return frame


def _universe(membership=None) -> Universe:
    u = shapes.universe(k=6)
    u.membership = membership
    return u


def _rank_loop(u: Universe, day_members) -> pd.DataFrame:
    """Per calendar day, rankdata of the members' traded returns, scaled to [0, 1]."""
    per_ticker = {t: _traded_return_loop(b) for t, b in u.bars.items()}
    out = pd.DataFrame(np.nan, index=u.calendar, columns=list(u.bars))
    for i, day in enumerate(u.calendar[:-2]):
        nxt, after = u.calendar[i + 1], u.calendar[i + 2]
        names, rets = [], []
        for t, b in u.bars.items():
            # a traded return needs the ticker's bars at t, t+1 and t+2 (calendar positions)
            if day in b.index and nxt in b.index and after in b.index and day_members(day, t):
                names.append(t)
                rets.append(per_ticker[t][day])
        if len(rets) >= 3:
            out.loc[day, names] = (rankdata(rets) - 1) / (len(rets) - 1)
    return out


def test_universe_return_and_rank_targets_match_a_loop_over_the_bars():
    u = _universe()
    ret = target_frame(u, "return")
    for t, b in u.bars.items():
        expected = pd.Series(_traded_return_loop(b))
        # a ticker's own-bar returns, where the calendar has no hole between them
        got = ret[t].reindex(expected.index)
        both = got.notna()
        assert both.sum() > 300
        np.testing.assert_allclose(got[both], expected[both], rtol=1e-12)
    rank = target_frame(u, "rank")
    expected = _rank_loop(u, lambda day, t: True)
    pd.testing.assert_frame_equal(rank, expected, check_names=False, check_freq=False)


def test_rank_uses_only_that_days_members():
    since = shapes.universe(k=6).calendar[250]
    u = _universe(_Membership("T03", since))
    rank = target_frame(u, "rank")
    expected = _rank_loop(u, lambda day, t: not (t == "T03" and day >= since))
    pd.testing.assert_frame_equal(rank, expected, check_names=False, check_freq=False)
    assert rank.loc[rank.index >= since, "T03"].isna().all()
    assert rank.loc[rank.index < since, "T03"].notna().sum() > 100


def _non_member_moved(u: Universe, since) -> Universe:
    """T03 with its bars from `since` on (when it is no member) perturbed."""
    bars = dict(u.bars)
    bars["T03"] = shapes.perturb(bars["T03"], since, seed=9)
    moved = Universe.from_bars(bars)
    moved.membership = u.membership
    return moved


def test_a_non_members_prices_move_no_members_rank():
    """The cross-sectional check: perturbing a non-member's prices leaves every member's rank
    as it was; the planted rank over every ticker with a return (non-members too) moves."""
    since = shapes.universe(k=6).calendar[250]
    u = _universe(_Membership("T03", since))
    moved = _non_member_moved(u, since)
    members = [t for t in u.bars if t != "T03"]
    late = u.calendar >= since
    real_a, real_b = target_frame(u, "rank"), target_frame(moved, "rank")
    pd.testing.assert_frame_equal(real_a.loc[late, members], real_b.loc[late, members])
    planted_a = cross_sectional_rank(target_frame(u, "return"))  # ranks across non-members
    planted_b = cross_sectional_rank(target_frame(moved, "return"))
    assert not planted_a.loc[late, members].equals(planted_b.loc[late, members])


def test_pooled_rank_frame_scores_the_median_split():
    u = _universe()
    pred = portfolio_walk_forward(u, "logreg", target="rank", **shapes.SCHEDULES["pooled"])
    assert list(pred.columns) == ["score", "actual_up", "realized", "fold"]
    rank = target_frame(u, "rank").stack(future_stack=True).reindex(pred.index)
    known = rank.notna()
    np.testing.assert_array_equal(pred.loc[known, "actual_up"], (rank[known] > 0.5).astype(float))


def _ic(pred: pd.DataFrame) -> tuple[float, int]:
    known = pred.dropna(subset=["realized"])
    return pearsonr(known["score"], known["realized"])[0], len(known)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["logreg", "gbm"])
def test_a_linear_next_return_is_learnt_and_a_random_walk_is_not(model):
    """AR(1) close returns, phi = 0.5: the next close-to-close return is 0.5 x today's (the
    first feature) plus noise, so the best score's IC is about 0.5. On a random walk the IC
    stays within 3 standard errors (1 / sqrt(n)) of 0."""
    schedule = dict(window=5, test_days=1200, retrain_every=400, label="close")
    ic, n = _ic(walk_forward(ar1_bars(2500, phi=0.5, seed=1), model, target="return", **schedule))
    assert ic > 0.35, f"{model}: IC {ic:.3f} on a linear next return"
    ic, n = _ic(walk_forward(random_walk_bars(2500, seed=2), model, target="return", **schedule))
    assert abs(ic) < 3 / math.sqrt(n), f"{model}: IC {ic:.3f} on a random walk (n {n})"


def test_score_metrics_against_numpy():
    rng = np.random.default_rng(0)
    realized = rng.normal(0, 0.01, 200)
    score = 0.3 * realized + rng.normal(0, 0.01, 200)
    up = (realized > 0).astype(float)
    up[:5] = np.nan  # unknown outcomes are left out
    m = score_metrics(score, up, realized)
    s, r = score[5:], realized[5:]
    assert m["n"] == 195
    assert m["ic"] == pytest.approx(np.corrcoef(s, r)[0, 1])
    assert m["rank_ic"] == pytest.approx(np.corrcoef(rankdata(s), rankdata(r))[0, 1])
    assert m["accuracy"] == pytest.approx(((s > 0) == (r > 0)).mean())
    assert m["mean_ret_up"] == pytest.approx(r[s > 0].mean())
