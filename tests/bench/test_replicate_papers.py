"""bench/replicate_papers.py: the papers' long-short returns, the reversal rule and the
candidate mask, against independent computations on small synthetic data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.portfolio.universe import Universe

_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "replicate_papers.py"
_spec = importlib.util.spec_from_file_location("replicate_papers", _SCRIPT)
rp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rp)


def _frames(n_days=30, n_tickers=12, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-01", periods=n_days, name="date")
    cols = [f"T{i:02d}" for i in range(n_tickers)]
    prob = pd.DataFrame(rng.uniform(size=(n_days, n_tickers)), index=idx, columns=cols)
    prob = prob.mask(rng.uniform(size=prob.shape) < 0.15)
    realized = pd.DataFrame(rng.normal(0, 0.02, size=(n_days, n_tickers)), index=idx, columns=cols)
    realized = realized.mask(rng.uniform(size=prob.shape) < 0.05)
    return prob, realized


def _by_hand(prob, realized, k, cost):
    """pandas nlargest/nsmallest per day, weights diffed with the previous traded day."""
    gross, net, prev = {}, {}, pd.Series(0.0, index=prob.columns)
    for day in prob.index:
        both = prob.loc[day].notna() & realized.loc[day].notna()
        p = prob.loc[day][both]
        kk = min(k, len(p) // 2)
        if kk < 1:
            continue
        top = p.sort_values(ascending=False, kind="stable").index
        w = pd.Series(0.0, index=prob.columns)
        w[top[:kk]] = 1 / kk
        w[top[-kk:]] = -1 / kk
        g = float((w * realized.loc[day].fillna(0)).sum())
        gross[day] = g
        net[day] = g - cost * float((w - prev).abs().sum())
        prev = w
    return pd.Series(gross), pd.Series(net)


@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_long_short_equals_an_independent_computation(k):
    prob, realized = _frames()
    gross, net, traded = rp.long_short(prob, realized, k, cost=0.0005)
    g, n = _by_hand(prob, realized, k, 0.0005)
    np.testing.assert_allclose(gross.to_numpy(), g.to_numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(net.to_numpy(), n.to_numpy(), rtol=0, atol=1e-15)
    assert (gross.index == g.index).all()
    assert traded.iloc[0] == pytest.approx(2.0)  # the first day buys the whole book ($1 + $1)
    assert (traded <= 4 + 1e-12).all()


def test_long_short_reads_the_decisions_own_traded_return_only():
    """Perturbing the traded returns of other days leaves a day's return unchanged; moving
    them one day earlier (a planted look-ahead) changes it."""
    prob, realized = _frames(seed=1)
    gross, _, _ = rp.long_short(prob, realized, 3)
    other = realized.copy()
    other.iloc[10:] += 0.05
    moved, _, _ = rp.long_short(prob, other, 3)
    pd.testing.assert_series_equal(gross.iloc[:10], moved.iloc[:10])
    leak, _, _ = rp.long_short(prob, realized.shift(-1), 3)
    assert not np.allclose(gross.iloc[:10], leak.reindex(gross.index[:10]).fillna(0))


def _universe(n_days=60, n_tickers=6, seed=2):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2016-01-01", periods=n_days, name="date")
    bars = {}
    for i in range(n_tickers):
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, n_days)))
        frame = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                              "volume": 1e6}, index=idx)
        bars[f"T{i}"] = frame.drop(index=idx[5 * i:5 * i + 2]) if i else frame  # own gaps
    return Universe.from_bars(bars)


def _like(universe):
    index = pd.MultiIndex.from_product([universe.calendar, sorted(universe.bars)], names=["date", "ticker"])
    return pd.DataFrame({"prob_up": 0.5, "actual_up": np.nan, "realized": np.nan, "fold": 0}, index=index)


def test_reversal_ranks_yesterdays_losers_first_from_closes_up_to_t():
    u = _universe()
    prob = rp.reversal_predictions(u, _like(u))["prob_up"].unstack("ticker")
    closes = pd.DataFrame({t: b["close"].reindex(u.calendar) for t, b in u.bars.items()})
    last = closes / closes.shift(1) - 1
    day = u.calendar[20]
    row, ret = prob.loc[day].dropna(), last.loc[day].dropna()
    assert list(row.sort_values().index) == list(ret.sort_values(ascending=False).index)
    assert row.sum() == pytest.approx(len(row) / 2)  # symmetric around 0.5
    # no bar of the day (or the day before): no score, never a filled price
    gap = u.calendar[5]
    assert np.isnan(prob.at[gap, "T1"]) and np.isnan(prob.at[u.calendar[7], "T1"])

    cut = u.calendar[30]
    moved = {t: b.assign(close=b["close"].where(b.index <= cut, b["close"] * 3)) for t, b in u.bars.items()}
    moved["T3"].loc[moved["T3"].index > cut, "close"] *= 0.1
    other = rp.reversal_predictions(Universe.from_bars(moved), _like(u))["prob_up"].unstack("ticker")
    pd.testing.assert_frame_equal(prob.loc[:cut], other.loc[:cut])
    assert not prob.loc[cut:].equals(other.loc[cut:])  # the check can see a change


class _Members:
    """Members: every ticker but T0, which is a member only on the first 10 days."""

    def __init__(self, calendar):
        self.calendar = calendar

    def mask(self, dates, tickers):
        m = pd.DataFrame(True, index=pd.DatetimeIndex(dates), columns=tickers)
        m.loc[m.index >= self.calendar[10], "T0"] = False
        return m


def test_candidates_need_membership_on_t_and_the_next_day():
    u = _universe()
    u.membership = _Members(u.calendar)
    prob = _like(u)["prob_up"].unstack("ticker")
    out = rp.candidates(u, prob, None)
    assert out["T0"].iloc[:9].notna().all()
    assert out["T0"].iloc[9:].isna().all()  # day 9: member, but not on day 10 when held
    assert out.drop(columns="T0").notna().all().all()  # the calendar's last day keeps its own


def test_candidates_apply_the_price_floor():
    from forecast.portfolio.filters import FilterSettings

    u = _universe()
    prob = _like(u)["prob_up"].unstack("ticker")
    floor = float(pd.concat([b["close"] for b in u.bars.values()]).median())
    out = rp.candidates(u, prob, FilterSettings(min_price=floor))
    closes = pd.DataFrame({t: b["close"].reindex(u.calendar).ffill() for t, b in u.bars.items()})
    expect = prob.where(closes >= floor)
    pd.testing.assert_frame_equal(out, expect, check_names=False)


def test_score_rows_and_the_deflated_sharpe_ratio_agree_with_long_short():
    rng = np.random.default_rng(5)
    u = _universe(n_days=80)
    dates = pd.bdate_range("2009-10-01", periods=80, name="date")
    tickers = sorted(u.bars)
    index = pd.MultiIndex.from_product([dates, tickers], names=["date", "ticker"])
    n = len(index)
    preds = pd.DataFrame({"prob_up": rng.uniform(size=n), "realized": rng.normal(0, 0.01, n),
                          "actual_up": (rng.uniform(size=n) > 0.5).astype(float), "fold": 0}, index=index)
    rows, daily = rp.score("m", preds, u, (1, 2), None)
    res = pd.DataFrame(rows)
    assert set(res["period"]) == {"all", "before 2010", "from 2010"}  # the span crosses 2010
    gross, net, _ = rp.long_short(preds["prob_up"].unstack("ticker"), preds["realized"].unstack("ticker"), 2)
    row = res[(res["k"] == 2) & (res["costs"] == "0 bp") & (res["period"] == "all")].iloc[0]
    assert row["mean daily %"] == pytest.approx(100 * gross.mean(), abs=1e-12)
    assert row["days"] == len(gross)
    after = res[(res["k"] == 2) & (res["costs"] == "5 bp") & (res["period"] == "all")].iloc[0]
    assert after["mean daily %"] == pytest.approx(100 * net.mean(), abs=1e-12)
    dsr = rp.deflated(res, daily)
    assert len(dsr) == 4 and (dsr["trials"] == 2).all()
    assert dsr["DSR"].between(0, 1).all()
