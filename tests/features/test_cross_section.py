"""Cross-sectional normalisation (FeatureSpec `cross_section`): each date's rank or z-score
across that date's members, against an independent per-day computation; what a non-member
and a later bar may not move; where it is refused.

The walk-forward with a cross-sectional spec is in the leakage suite
(tests/evaluate/test_leakage.py, pooled and per-ticker shapes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from forecast.data import membership as ms
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import walk_forward
from forecast.evaluate.pooled import cross_sectional_columns
from forecast.features import FeaturePipeline, FeatureSpec, raw_features
from forecast.features.cross_section import columns, normalise
from forecast.features.universe_target import calendar_positions
from forecast.portfolio.universe import Universe

SMALL = {"return_lags": (1, 5), "vol_windows": (5,), "rsi": False, "macd": False, "bollinger": False,
         "atr": False, "day_of_week": True}


def _grid(seed=0, dates=40, tickers=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(dates, tickers)).round(1)  # rounded: ties
    x[rng.random(x.shape) < 0.15] = np.nan
    member = rng.random(x.shape) < 0.7
    member[3] = False  # a date without members
    return x, member


def _reference(x, member, mode):
    """Row by row with scipy / numpy: the members with a value, the ticker itself added when
    it is not one of them."""
    out = np.full(x.shape, np.nan)
    for d in range(x.shape[0]):
        pool = x[d][member[d] & ~np.isnan(x[d])]
        if pool.size == 0:
            continue
        for i in np.flatnonzero(~np.isnan(x[d])):
            if mode == "zscore":
                sd = pool.std(ddof=1) if pool.size > 1 else 0.0
                out[d, i] = (x[d, i] - pool.mean()) / sd if sd > 0 else 0.0
            else:
                group = pool if member[d, i] else np.append(pool, x[d, i])
                r = rankdata(group, method="average")[np.flatnonzero(group == x[d, i])[0]]
                out[d, i] = ((r - 0.5) / group.size - 0.5) * np.sqrt(12)
    return out


@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_values_equal_an_independent_per_day_computation(mode):
    x, member = _grid()
    got = normalise(x, member, mode)
    np.testing.assert_allclose(got, _reference(x, member, mode), rtol=1e-12, atol=1e-12)
    assert np.isnan(got[3]).all() and np.isnan(got[np.isnan(x)]).all()
    # With everyone a member, a day's ranks are centred and z-scores have mean 0, std 1.
    rows = ~np.isnan(x).any(axis=1)
    full = normalise(x[rows], np.ones((rows.sum(), x.shape[1]), bool), mode)
    assert rows.sum() > 3
    np.testing.assert_allclose(full.mean(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_a_non_member_moves_no_other_tickers_value(mode):
    x, member = _grid(seed=1)
    base = normalise(x, member, mode)
    other = x.copy()
    outsider = ~member & ~np.isnan(x)
    other[outsider] = np.random.default_rng(5).normal(size=outsider.sum()) * 100
    moved = normalise(other, member, mode)
    np.testing.assert_array_equal(moved[~outsider], base[~outsider])
    assert not np.array_equal(moved[outsider], base[outsider])  # its own value did move
    # A member's value, changed the same way, moves the others (the test can fail).
    insider = member & ~np.isnan(x)
    other = x.copy()
    other[insider] = other[insider] * 100
    assert not np.array_equal(normalise(other, member, mode)[outsider], base[outsider])


def _universe(k=4, n=160, membership=True) -> Universe:
    bars = {f"T{i}": random_walk_bars(n, seed=i, ticker=f"T{i}", start="2012-01-02") for i in range(k)}
    bars["T1"] = bars["T1"].iloc[25:]  # lists late
    universe = Universe.from_bars(bars)
    if membership:
        day = universe.calendar
        # T2 is out between days 60 and 99.
        intervals = pd.DataFrame({"ticker": ["T0", "T1", "T2", "T2", "T3"],
                                  "start": [day[0], day[0], day[0], day[100], day[0]],
                                  "end": [ms.OPEN_END, ms.OPEN_END, day[59], ms.OPEN_END, ms.OPEN_END]})
        universe.membership = type("M", (), {"mask": lambda self, dates, tickers=None:
                                             ms.member_mask(intervals, dates, tickers)})()
    return universe


def _columns(universe, spec):
    tickers = sorted(universe.bars)
    given = cross_sectional_columns(universe, tickers, calendar_positions(universe), spec)
    return {t: pd.DataFrame(g, index=universe.bars[t].index) for t, g in zip(tickers, given, strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_universe_columns_are_the_per_day_transform_of_each_tickers_raw_features(mode):
    universe = _universe()
    spec = FeatureSpec(**SMALL, cross_section=mode)
    got = _columns(universe, spec)
    tickers = sorted(universe.bars)
    raw = {t: raw_features(universe.bars[t], spec) for t in tickers}
    member = universe.membership.mask(universe.calendar, tickers).to_numpy()
    for col in columns(spec):
        grid = pd.DataFrame({t: raw[t][col] for t in tickers}).reindex(universe.calendar).to_numpy()
        ref = pd.DataFrame(_reference(grid, member, mode), index=universe.calendar, columns=tickers)
        for t in tickers:
            np.testing.assert_allclose(got[t][col], ref[t].loc[got[t].index], rtol=1e-12, atol=1e-12)
    for t in tickers:  # ret_1 and the day-of-week encoding stay as they are
        for col in ("ret_1", "dow_sin"):
            np.testing.assert_array_equal(got[t][col], raw[t][col])
    assert "ret_1" not in columns(spec) and "dow_cos" not in columns(spec) and "rvol_5" in columns(spec)


def _perturbed(universe, ticker, where):
    bars = dict(universe.bars)
    b = bars[ticker].copy()
    rng = np.random.default_rng(3)
    k = int(where.sum())
    for col in ("open", "high", "low", "close"):
        b.loc[where, col] = b.loc[where, col] * np.exp(rng.normal(0, 0.05, k))
    b.loc[where, "volume"] = b.loc[where, "volume"] * rng.uniform(0.5, 2.0, k)
    bars[ticker] = b
    out = Universe.from_bars(bars)
    out.membership = universe.membership
    return out


@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_one_tickers_later_bars_move_no_value_dated_before_them(mode):
    universe = _universe()
    spec = FeatureSpec(**SMALL, cross_section=mode)
    base = _columns(universe, spec)
    cut = universe.calendar[90]
    moved = _columns(_perturbed(universe, "T0", universe.bars["T0"].index > cut), spec)
    for t in base:
        early = base[t].index <= cut
        pd.testing.assert_frame_equal(base[t][early], moved[t][early])
        assert not base[t][~early].equals(moved[t][~early])  # later values of everyone moved


@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_a_non_members_bars_move_no_other_tickers_value_that_day(mode):
    universe = _universe()
    spec = FeatureSpec(**SMALL, cross_section=mode)
    base = _columns(universe, spec)
    out_days = universe.calendar[60:100]
    moved = _columns(_perturbed(universe, "T2", universe.bars["T2"].index.isin(out_days)), spec)
    for t in ("T0", "T1", "T3"):
        on = base[t].index.isin(out_days)
        pd.testing.assert_frame_equal(base[t][on], moved[t][on])
    assert not base["T2"].equals(moved["T2"])
    # Without the membership T2 is in every day's cross-section and moves the others.
    plain = _universe(membership=False)
    changed = _perturbed(plain, "T2", plain.bars["T2"].index.isin(out_days))
    a, b = _columns(plain, spec)["T0"], _columns(changed, spec)["T0"]
    assert not a[a.index.isin(out_days)].equals(b[b.index.isin(out_days)])


def test_pipeline_leaves_cross_sectional_columns_as_given_and_scales_ret_1():
    bars = random_walk_bars(200, seed=1)
    spec = FeatureSpec(**SMALL, cross_section="zscore")
    given = {c: v.to_numpy() for c, v in raw_features(bars, spec).items()}
    given["rvol_5"] = given["rvol_5"] * 0 + 0.25
    out = FeaturePipeline(spec).fit(bars, raw=given).transform(bars, raw=given).iloc[spec.warmup:]
    assert (out["rvol_5"] == 0.25).all()
    assert out["ret_1"].std() == pytest.approx(1.0, rel=0.05)


def test_one_ticker_and_fitted_features_are_refused_in_one_line():
    spec = FeatureSpec(**SMALL, cross_section="rank")
    bars = random_walk_bars(400, seed=1)
    with pytest.raises(ConfigError, match="universe walk-forward"):
        FeaturePipeline(spec).fit(bars)
    with pytest.raises(ConfigError, match="universe walk-forward"):
        walk_forward(bars, "logreg", spec=spec, window=5, test_days=60, retrain_every=30, min_train=100)
    with pytest.raises(ConfigError, match="fitted features"):
        FeatureSpec(garch=True, cross_section="rank")
    with pytest.raises(ConfigError, match="cross_section must be one of none, rank, zscore"):
        FeatureSpec(cross_section="median")
    assert "cross_section" not in FeatureSpec().to_dict()  # saved forms without it unchanged
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def _back_adjusted(universe, ticker, split_at, ratio=4.0):
    """`universe` as a vendor publishes it after `ticker` splits `ratio`-for-1 on
    `split_at`: every earlier bar's prices divided by the ratio and its volume multiplied by
    it (split-adjusted history, as us_liquid's and Yahoo's; fcast's own `adjusted` keeps
    volume as traded, but a store's bars may come adjusted)."""
    bars = dict(universe.bars)
    b = bars[ticker].copy()
    before = b.index < split_at
    for col in ("open", "high", "low", "close"):
        b.loc[before, col] = b.loc[before, col] / ratio
    b.loc[before, "volume"] = b.loc[before, "volume"] * ratio
    bars[ticker] = b
    out = Universe.from_bars(bars)
    out.membership = universe.membership
    return out


def _fold_rows(universe, spec, split_at):
    """Per ticker, the scaled feature rows a walk-forward fold trained up to day 90 and
    tested up to the split reads (`fold_windows`, as the universe walk-forward builds them)."""
    from forecast.evaluate.fold_windows import Member, fold_windows
    from forecast.evaluate.folds import Fold

    tickers = sorted(universe.bars)
    positions = calendar_positions(universe)
    given = cross_sectional_columns(universe, tickers, positions, spec)
    stop = universe.calendar.get_loc(split_at)
    fold = Fold(0, train_start=0, train_last=90, test_start=93, test_stop=stop)
    out = {}
    for t, g in zip(tickers, given, strict=True):
        bars = universe.bars[t]
        part = fold_windows(Member(t, bars, np.zeros(len(bars)), positions[t], given=g), fold, spec, 1)
        out[t] = pd.DataFrame(part.features, index=bars.index[part.offset:part.offset + len(part.features)],
                              columns=spec.columns())
    return out


@pytest.mark.parametrize("mode", ["rank", "zscore"])
def test_a_later_split_moves_no_value_dated_before_it(mode):
    """A split on day 120 is not known before it: the history as it was before the split
    and the same history back-adjusted for it give a fold the same feature rows before day
    120 (to rounding: the adjusted prices are divided by the ratio, log1p(volume) shifts by
    about log(ratio))."""
    universe = _universe(membership=False)
    spec = FeatureSpec(**SMALL, cross_section=mode)
    split_at = universe.calendar[120]
    base = _fold_rows(universe, spec, split_at)
    adjusted = _fold_rows(_back_adjusted(universe, "T0", split_at), spec, split_at)
    for t in base:
        assert len(base[t]) > 50 and base[t].index[-1] < split_at
        np.testing.assert_allclose(adjusted[t].to_numpy(), base[t].to_numpy(), rtol=0, atol=1e-5,
                                   err_msg=f"{t}: a feature row before the split moved")


def test_the_split_check_holds_without_levels_and_fails_on_a_level():
    """The check above, on the columns that are ratios (returns, volatility, volume z-score):
    the adjustment leaves them be; on log_volume itself (a level) it moves every value."""
    universe = _universe(membership=False)
    split_at = universe.calendar[120]
    spec = FeatureSpec(**SMALL, cross_section="rank")
    base = _columns(universe, spec)
    adjusted = _columns(_back_adjusted(universe, "T0", split_at), spec)
    ratios = [c for c in columns(spec) if c != "log_volume"]
    assert "log_volume" in spec.columns() and {"rvol_5", "ret_5", "volume_z"} <= set(ratios)
    for t in base:
        early = base[t].index < split_at
        np.testing.assert_allclose(adjusted[t][early][ratios].to_numpy(), base[t][early][ratios].to_numpy(),
                                   rtol=0, atol=1e-6)
    raw_before = raw_features(universe.bars["T0"], spec)["log_volume"]
    raw_after = raw_features(_back_adjusted(universe, "T0", split_at).bars["T0"], spec)["log_volume"]
    early = raw_before.index < split_at
    assert (raw_after[early] - raw_before[early]).min() > np.log(4.0) - 1e-3  # the level moved by log 4
