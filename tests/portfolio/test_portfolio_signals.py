"""The forecasting half of portfolios: universe calendar, traded returns, targets, pooled and
per-ticker walk-forward (its look-ahead checks are in tests/evaluate/test_leakage.py), and information
coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from leakage_shapes import ticker_bars as _bars
from leakage_shapes import universe as _universe
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_limits

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import fold_windows as fold_windows_mod
from forecast.evaluate.fold_windows import Member, fold_windows
from forecast.evaluate.folds import Schedule
from forecast.evaluate.pooled import plan_universe_folds, portfolio_walk_forward
from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import as_spec
from forecast.features.universe_target import calendar_positions, membership, target_frame, traded_returns
from forecast.portfolio.ic import ic_summary, information_coefficients
from forecast.portfolio.universe import Universe, load_universe

# Small and fast: 3 folds of 40 calendar dates, windows of 10.
WF = {"window": 10, "min_train": 100, "test_days": 120, "retrain_every": 40}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Many tiny logistic regressions: BLAS threads only contend (5x slower on 2 cores)."""
    with threadpool_limits(1):
        yield


# -- calendar, traded returns, targets ----------------------------------------------------------


def test_traded_returns_match_a_hand_computation_without_forward_fill():
    u = Universe.from_bars({
        "AAA": _bars(random_walk_bars, 60, 1, "AAA"),
        "BBB": _bars(random_walk_bars, 60, 2, "BBB", drop_first=7),  # lists late
        "CCC": _bars(random_walk_bars, 60, 3, "CCC", holes=(20, 21, 40)),  # misses days
    })
    cal = u.calendar
    assert len(cal) == 60 and cal.is_monotonic_increasing
    ret = traded_returns(u)
    assert list(ret.columns) == ["AAA", "BBB", "CCC"] and ret.index.equals(cal)
    for t in u.tickers:
        b = u.bars[t]
        for i in range(len(cal)):
            days = cal[i : i + 3]
            if len(days) == 3 and all(d in b.index for d in days):
                want = b.loc[days[2], "open"] / b.loc[days[1], "open"] - 1.0
                assert ret.loc[cal[i], t] == pytest.approx(want, rel=1e-12)
            else:
                assert np.isnan(ret.loc[cal[i], t]), (t, i)
    # The hole at positions 20, 21 kills CCC's returns decided at 18..21, and 40 kills 38..40.
    assert ret["CCC"].iloc[[18, 19, 20, 21, 38, 39, 40]].isna().all()
    assert ret["CCC"].iloc[[17, 22, 37, 41]].notna().all()
    assert ret["BBB"].iloc[:7].isna().all() and ret["BBB"].iloc[7:-2].notna().all()
    assert ret.iloc[-2:].isna().all().all()

    member = membership(u)
    assert member.dtypes.eq(bool).all()
    assert member["AAA"].all()
    assert not member["BBB"].iloc[:7].any() and member["BBB"].iloc[7:].all()
    assert list(np.flatnonzero(~member["CCC"].to_numpy())) == [20, 21, 40]


def test_targets_match_a_hand_computation():
    u = _universe(n=80, k=5)
    ret = traded_returns(u)
    direction = target_frame(u, "direction")
    beats = target_frame(u, "beats-median")
    for date in ret.index:
        row = ret.loc[date]
        have = row.dropna()
        med = float(np.median(have.to_numpy())) if len(have) else np.nan
        for t in u.tickers:
            if np.isnan(row[t]):
                assert np.isnan(direction.loc[date, t]) and np.isnan(beats.loc[date, t])
            else:
                assert direction.loc[date, t] == float(row[t] > 0)
                assert beats.loc[date, t] == float(row[t] > med)
    # Roughly half the tickers beat the median on a full day.
    full = beats.dropna()
    assert ((full.sum(axis=1) == 2) | (full.sum(axis=1) == 3)).all()


def _schedule(u: Universe, embargo=None) -> Schedule:
    return Schedule.checked(window=WF["window"], horizon=1, label="open", threshold=0.0, symmetric=False,
                            embargo=embargo, retrain_every=WF["retrain_every"], train_window=None,
                            min_train=WF["min_train"], test_days=WF["test_days"], n_bars=len(u.calendar),
                            warmup=as_spec(None).warmup)


# -- what the pooled model is trained on ----------------------------------------------------------

class Recorder(ClassifierMixin, BaseEstimator):
    """Records the shape of every training set; predicts the training base rate."""

    fits: list = []

    def __init__(self, tag: int = 0):
        self.tag = tag

    def fit(self, X, y):
        Recorder.fits.append((X.shape, int(np.sum(y))))
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X):
        return np.tile([1 - self.rate_, self.rate_], (len(X), 1))


@pytest.mark.slow
def test_pooled_training_sees_every_tickers_samples_and_respects_the_embargo(monkeypatch):
    u = _universe(k=4)
    spec = as_spec(None)
    schedule = _schedule(u)
    folds = plan_universe_folds(u, schedule, spec)
    labels = target_frame(u, "direction")
    positions = calendar_positions(u)

    fitted: list = []

    class Recording(FeaturePipeline):
        def fit(self, bars, y=None, **kw):
            fitted.append((bars.attrs["ticker"], bars.index))
            return super().fit(bars, **kw)

    monkeypatch.setattr(fold_windows_mod, "FeaturePipeline", Recording)
    Recorder.fits = []
    out = portfolio_walk_forward(u, Recorder(), pooled=True, **WF)
    assert len(Recorder.fits) == len(folds) == 3

    cal = u.calendar
    for k, fold in enumerate(folds):
        expected_n, expected_up = 0, 0
        for t in sorted(u.tickers):
            member = Member(t, u.bars[t], labels[t].reindex(u.bars[t].index).to_numpy(), positions[t])
            part = fold_windows(member, fold, spec, WF["window"])
            assert part is not None and len(part.y_train) > 0
            expected_n += len(part.y_train)
            expected_up += int(part.y_train.sum())
            # Every training label's last price (position + 2) lies embargo (1) bars before the block.
            label_pos = cal.get_indexer(part.train_dates)
            assert (label_pos + 2 + schedule.embargo <= fold.test_start).all()
            assert set(part.train_dates) <= set(u.bars[t].index)
        (n, window, n_features), ups = Recorder.fits[k]
        assert (n, window, ups) == (expected_n, WF["window"], expected_up)

    # One pipeline per ticker per fold, fitted on that ticker's own bars up to the last
    # training decision only.
    mine = fitted[: len(folds) * len(u.tickers)]  # those of portfolio_walk_forward
    assert len(mine) == len(folds) * len(u.tickers)
    for i, (ticker, index) in enumerate(mine):
        fold = folds[i // len(u.tickers)]
        assert ticker == sorted(u.tickers)[i % len(u.tickers)]
        assert index.isin(u.bars[ticker].index).all()
        assert index.max() == u.bars[ticker].index[u.bars[ticker].index <= cal[fold.train_last]].max()

    # Every ticker is predicted on its own test dates only.
    for t in u.tickers:
        dates = out.xs(t, level="ticker").index
        assert dates.isin(u.bars[t].index).all()
    assert out.index.get_level_values("date").min() == cal[folds[0].test_start]
    assert out.attrs["pooled"] is True and out.attrs["embargo"] == 1 and out.attrs["n_tickers"] == 4


def test_pooled_training_does_not_depend_on_ticker_order():
    u = _universe()
    flipped = Universe.from_bars(dict(reversed(list(u.bars.items()))))
    a = portfolio_walk_forward(u, "logreg", **WF)
    b = portfolio_walk_forward(flipped, "logreg", **WF)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["prob_up", "actual_up", "realized", "fold"]
    assert a.index.names == ["date", "ticker"]
    ret = traded_returns(u).stack(future_stack=True).reindex(a.index)
    np.testing.assert_array_equal(a["realized"].to_numpy(), ret.to_numpy())


@pytest.mark.slow
def test_pooled_logreg_learns_an_ar1_universe_and_not_a_random_walk():
    settings = {"window": 5, "min_train": 200, "test_days": 300, "retrain_every": 100}
    ar = Universe.from_bars({f"A{i}": ar1_bars(700, phi=0.8, seed=i, ticker=f"A{i}") for i in range(4)})
    out = portfolio_walk_forward(ar, "logreg", **settings).dropna(subset=["actual_up"])
    acc = float(((out["prob_up"] > 0.5) == (out["actual_up"] == 1)).mean())
    assert acc >= 0.65, acc

    rw = Universe.from_bars({f"R{i}": random_walk_bars(700, seed=20 + i, ticker=f"R{i}") for i in range(4)})
    out = portfolio_walk_forward(rw, "logreg", **settings).dropna(subset=["actual_up"])
    acc = float(((out["prob_up"] > 0.5) == (out["actual_up"] == 1)).mean())
    se = np.sqrt(0.25 / len(out))
    assert abs(acc - 0.5) < 3 * se, (acc, se)


# -- information coefficients -------------------------------------------------------------------


def _panel(seed: int, signal: float, n_days=250, k=12):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=n_days, name="date")
    columns = [f"T{i}" for i in range(k)]
    realized = pd.DataFrame(rng.normal(0, 0.01, (n_days, k)), index=dates, columns=columns)
    prob = 0.5 + signal * realized + rng.normal(0, 0.01, (n_days, k))
    return prob, realized


def test_information_coefficients_match_scipy_and_the_summary_by_hand():
    prob, realized = _panel(0, signal=1.0)
    prob.iloc[3, :10] = np.nan  # 2 tickers left: no IC
    realized.iloc[5, 2] = np.nan  # 11 tickers
    ic = information_coefficients(prob, realized)
    assert np.isnan(ic["ic"].iloc[3]) and ic["n"].iloc[3] == 2 and ic["n"].iloc[5] == 11
    for i in (0, 5, 100):
        ok = prob.iloc[i].notna() & realized.iloc[i].notna()
        p, r = prob.iloc[i][ok], realized.iloc[i][ok]
        assert ic["ic"].iloc[i] == pytest.approx(stats.pearsonr(p, r)[0], abs=1e-12)
        assert ic["rank_ic"].iloc[i] == pytest.approx(stats.spearmanr(p, r)[0], abs=1e-12)

    s = ic_summary(ic)
    v = ic["ic"].dropna()
    assert s["n_days"] == len(v) == 249
    assert s["mean_ic"] == pytest.approx(v.mean())
    assert s["ic_std"] == pytest.approx(v.std(ddof=1))
    assert s["icir"] == pytest.approx(v.mean() / v.std(ddof=1))
    assert s["t_stat"] == pytest.approx(v.mean() / v.std(ddof=1) * np.sqrt(249))
    assert s["t_stat"] == pytest.approx(stats.ttest_1samp(v, 0.0).statistic)
    rv = ic["rank_ic"].dropna()
    assert s["rank_t_stat"] == pytest.approx(stats.ttest_1samp(rv, 0.0).statistic)
    assert s["mean_ic"] > 0.3 and s["t_stat"] > 3 and s["rank_t_stat"] > 3


def test_ic_of_noise_is_not_significant():
    prob, realized = _panel(1, signal=0.0)
    s = ic_summary(information_coefficients(prob, realized))
    assert abs(s["t_stat"]) < 3 and abs(s["rank_t_stat"]) < 3


def test_ic_of_pooled_forecasts_on_an_ar1_universe_is_positive():
    u = Universe.from_bars({f"A{i}": ar1_bars(600, phi=0.8, seed=i, ticker=f"A{i}") for i in range(5)})
    out = portfolio_walk_forward(u, "logreg", window=5, min_train=200, test_days=250, retrain_every=125)
    ic = information_coefficients(out["prob_up"].unstack("ticker"), out["realized"].unstack("ticker"))
    s = ic_summary(ic)
    assert s["mean_ic"] > 0 and s["t_stat"] > 3


# -- bad input ----------------------------------------------------------------------------------


def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


def test_bad_input_is_one_config_error_line():
    with pytest.raises(ConfigError) as e:
        Universe.from_bars({"AAA": random_walk_bars(50, seed=0)})
    assert "at least 2" in _one_line(e)
    with pytest.raises(ConfigError) as e:
        load_universe(["AAPL"], source="bundled")
    assert "at least 2" in _one_line(e)
    with pytest.raises(ConfigError) as e:
        load_universe("nasdaq100")
    assert "nasdaq100" in _one_line(e)
    with pytest.raises(ConfigError) as e:
        load_universe(["AAPL", "NOPEQ", "KO", "ZZZQ"], source="bundled", start="2017-01-01")
    msg = _one_line(e)
    assert "NOPEQ" in msg and "ZZZQ" in msg and "AAPL (" not in msg
    with pytest.raises(ConfigError) as e:
        portfolio_walk_forward(_universe(n=300), "logreg", target="momentum", **WF)
    assert "target" in _one_line(e)


def test_load_universe_of_bundled_tickers():
    u = load_universe(["KO", "MSFT", "^GSPC"], source="bundled", start="2016-06-01")
    assert u.tickers == ["KO", "MSFT", "^GSPC"]
    assert u.calendar.is_monotonic_increasing and u.calendar.is_unique
    for b in u.bars.values():
        assert b.index.isin(u.calendar).all()
    assert len(u.calendar) == len(u.calendar.union(u.bars["KO"].index))
    dow = load_universe("dow30", start="2017-06-01")
    assert len(dow.tickers) == 30 and not {"SPY", "DIA", "QQQ", "IWM"} & set(dow.tickers)


@pytest.mark.slow
@pytest.mark.parametrize("train_window", [None, 150])
def test_per_ticker_models_on_a_shared_calendar_match_single_ticker_walk_forward(train_window):
    from forecast.evaluate.walkforward import walk_forward

    u = _universe(late=False, hole=False)
    settings = {**WF, "train_window": train_window}
    out = portfolio_walk_forward(u, "logreg", pooled=False, **settings)
    for t in u.tickers:
        single = walk_forward(u.bars[t], "logreg", embargo=1, **settings)
        mine = out.xs(t, level="ticker")
        assert mine.index.equals(single.index)
        np.testing.assert_allclose(mine["prob_up"].to_numpy(), single["prob_up"].to_numpy(), atol=1e-12)
        np.testing.assert_array_equal(mine["actual_up"].to_numpy(), single["actual_up"].to_numpy())
        np.testing.assert_array_equal(mine["fold"].to_numpy(), single["fold"].to_numpy())


def test_a_ticker_listing_inside_the_test_span_is_forecast_once_it_has_a_training_history():
    n = 420
    u = Universe.from_bars({
        "AAA": _bars(random_walk_bars, n, 1, "AAA"),
        "BBB": _bars(random_walk_bars, n, 2, "BBB"),
        "NEW": _bars(random_walk_bars, n, 3, "NEW", drop_first=n - WF["test_days"] + 5),
    })
    out = portfolio_walk_forward(u, "logreg", pooled=True, **WF)
    new = out.xs("NEW", level="ticker")
    assert set(new["fold"]) == {2}  # folds 0 and 1 end training before NEW has features
    assert out.attrs["skipped_ticker_folds"] == 2
    assert new.index.isin(u.bars["NEW"].index).all()
    per_ticker = portfolio_walk_forward(u, "logreg", pooled=False, **WF)
    assert "NEW" not in per_ticker.index.get_level_values("ticker")  # < min_train samples of its own
    assert out.index.get_level_values("ticker").isin(["AAA", "BBB", "NEW"]).all()


def test_a_test_span_with_one_ticker_a_day_is_refused_in_one_line():
    u = Universe.from_bars({
        "AAA": _bars(random_walk_bars, 420, 1, "AAA"),
        "BBB": _bars(random_walk_bars, 280, 2, "BBB"),  # ends before the test span starts
    })
    with pytest.raises(ConfigError) as e:
        portfolio_walk_forward(u, "logreg", **WF)
    assert "BBB 2011-01-28" in _one_line(e)


class GapRecorder(ClassifierMixin, BaseEstimator):
    """An early-stopping stand-in: records the validation gap each fit was given."""

    gaps: list = []

    def __init__(self, validation_gap: int = 0):
        self.validation_gap = validation_gap

    def fit(self, X, y):
        GapRecorder.gaps.append(self.validation_gap)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.tile([0.5, 0.5], (len(X), 1))


def test_the_validation_gap_counts_the_folds_tickers_not_later_listings():
    """A ticker listing after a fold's training span must not change that fold (review finding)."""
    base = _universe(late=False, hole=False)
    later = dict(base.bars)
    later["ZZZ"] = _bars(random_walk_bars, 420, 99, "ZZZ", drop_first=400)  # lists in the last block
    runs = []
    for universe in (base, Universe.from_bars(later)):
        GapRecorder.gaps = []
        runs.append((portfolio_walk_forward(universe, GapRecorder(), test_days=126, retrain_every=63,
                                            min_train=100), list(GapRecorder.gaps)))
    (before, gaps_before), (after, gaps_after) = runs
    assert gaps_before[0] == 2 * 3 and gaps_after[0] == 2 * 3  # 3 tickers present, LOOKAHEAD 2
    assert gaps_before == gaps_after  # ZZZ has no training history in any fold


# -- warm refits (the Keras forecasters' default) ---------------------------------------------------

class WarmRecorder(ClassifierMixin, BaseEstimator):
    """Declares warm refits like the Keras forecasters; records which instance each fit
    continues (its id and how many fits it had before)."""

    warm_refits = True
    fits: list = []

    def __init__(self, warm_start: bool = True):
        self.warm_start = warm_start

    def fit(self, X, y):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        WarmRecorder.fits.append((id(self), self.n_fits_))
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X):
        return np.tile([1 - self.rate_, self.rate_], (len(X), 1))


@pytest.mark.parametrize("warm", [True, False])
def test_pooled_folds_continue_the_previous_model_when_it_refits_warm(warm):
    WarmRecorder.fits = []
    out = portfolio_walk_forward(_universe(), WarmRecorder(warm_start=warm), pooled=True, **WF)
    fits = WarmRecorder.fits
    assert len(fits) == out.attrs["n_folds"] >= 3 and out.attrs["warm_start"] is warm
    if warm:  # one model, fitted once per fold, oldest fold first
        assert len({i for i, _ in fits}) == 1 and [n for _, n in fits] == list(range(1, len(fits) + 1))
    else:  # a fresh clone every fold
        assert [n for _, n in fits] == [1] * len(fits)


def test_per_ticker_folds_continue_each_tickers_own_model():
    WarmRecorder.fits = []
    u = _universe(late=False, hole=False)
    portfolio_walk_forward(u, WarmRecorder(), pooled=False, **WF)
    by_model: dict = {}
    for model, n in WarmRecorder.fits:
        by_model.setdefault(model, []).append(n)
    assert len(by_model) == len(u.tickers)  # one model per ticker, carried across folds
    assert all(ns == list(range(1, len(ns) + 1)) and len(ns) >= 3 for ns in by_model.values())


def test_per_ticker_models_and_rows_are_keyed_by_the_universe_names():
    """Bars without a ticker attribute (read from a file, say) still get one model and
    their own rows per ticker (review: they once shared one warm network and one label)."""
    WarmRecorder.fits = []
    u = _universe(late=False, hole=False)
    bare = Universe.from_bars({t: b.copy() for t, b in u.bars.items()})
    for b in bare.bars.values():
        b.attrs = {}
    out = portfolio_walk_forward(bare, WarmRecorder(), pooled=False, **WF)
    assert sorted(out.index.get_level_values("ticker").unique()) == sorted(u.tickers)
    assert not out.index.duplicated().any()
    assert len({model for model, _ in WarmRecorder.fits}) == len(u.tickers)
