"""Point-in-time membership in the portfolio: a ticker is ranked and holds a weight only
while it is a member; without membership nothing changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.data import membership as ms
from forecast.data.synthetic import random_walk_bars
from forecast.data.universe_import import import_universe
from forecast.portfolio.engine import run_portfolio
from forecast.portfolio.universe import load_universe
from strategies.portfolio import LongShort, TopK

TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
COSTS = {"cash": 100_000.0, "commission": 0.001, "slippage": 0.0005}


def setup(seed=0):
    bars = {t: random_walk_bars(120, seed=seed * 10 + i, ticker=t) for i, t in enumerate(TICKERS)}
    calendar = bars["AAA"].index
    rng = np.random.default_rng(seed + 7)
    prob = pd.DataFrame(rng.uniform(0.2, 0.8, (len(calendar), len(TICKERS))), index=calendar, columns=TICKERS)
    prob["AAA"] = 0.9  # AAA ranks first while it may: it must be dropped when it leaves
    day = calendar
    intervals = pd.DataFrame({
        "ticker": ["AAA", "BBB", "CCC", "CCC", "DDD", "EEE"],
        "start": [day[0], day[40], day[10], day[70], day[0], day[0]],
        "end": [day[59], ms.OPEN_END, day[49], ms.OPEN_END, ms.OPEN_END, ms.OPEN_END],
    })
    return bars, prob, ms.member_mask(intervals, calendar, TICKERS)


def non_member_holdings(result, mask) -> list[str]:
    """Independent check: a nonzero target on decision day t needs membership on t and on
    t+1 (the day it is held); a nonzero end-of-day weight on day t needs membership on t."""
    member = mask.reindex(index=result.weights.index, columns=result.weights.columns).fillna(False)
    member = member.to_numpy(dtype=bool)
    after = np.vstack([member[1:], np.ones((1, member.shape[1]), bool)])
    targets = np.abs(np.nan_to_num(result.targets.to_numpy())) > 0
    weights = np.abs(np.nan_to_num(result.weights.to_numpy())) > 1e-12
    days, names = result.weights.index, result.weights.columns
    def named(kind, where):
        return [f"{kind} {names[j]} {days[i].date()}" for i, j in zip(*np.nonzero(where), strict=True)]

    return named("target", targets & ~(member & after)) + named("weight", weights & ~member)


@pytest.mark.parametrize(("cls", "params"), [(TopK, {"k": 2}), (LongShort, {"k": 1})])
def test_no_non_member_ever_holds_a_weight(cls, params):
    bars, prob, mask = setup()
    got = run_portfolio(bars, prob, cls, params, members=mask, **COSTS)
    assert non_member_holdings(got, mask) == []
    day = prob.index
    held_aaa = got.weights["AAA"].abs() > 0
    if cls is TopK:  # AAA is held while a member, and sold at the open of its first day out
        assert held_aaa.loc[day[5]:day[59]].all() and not held_aaa.loc[day[60]:].any()
    assert (got.weights["BBB"].loc[: day[40]] == 0).all()


def test_the_check_catches_a_run_without_membership():
    bars, prob, mask = setup()
    leaky = run_portfolio(bars, prob, TopK, {"k": 2}, **COSTS)
    assert non_member_holdings(leaky, mask)


def test_without_membership_or_all_members_nothing_changes():
    bars, prob, _ = setup(seed=3)
    plain = run_portfolio(bars, prob, TopK, {"k": 2}, **COSTS)
    everyone = pd.DataFrame(True, index=prob.index, columns=prob.columns)
    masked = run_portfolio(bars, prob, TopK, {"k": 2}, members=everyone, **COSTS)
    for name in ("equity", "weights", "targets", "fills", "legs"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(masked, name))
    assert plain.metrics == masked.metrics


def test_membership_uses_no_later_day():
    """Changing who is a member from day 80 on moves no weight dated before it (the decision
    on day 79 may read day 80's membership, the day its positions are held)."""
    bars, prob, mask = setup()
    later = mask.copy()
    later.iloc[80:] = ~later.iloc[80:]
    base = run_portfolio(bars, prob, TopK, {"k": 2}, members=mask, **COSTS)
    moved = run_portfolio(bars, prob, TopK, {"k": 2}, members=later, **COSTS)
    cut = prob.index[80]
    pd.testing.assert_frame_equal(base.targets.loc[: prob.index[78]], moved.targets.loc[: prob.index[78]])
    pd.testing.assert_frame_equal(base.weights.loc[: prob.index[79]], moved.weights.loc[: prob.index[79]])
    assert not base.targets.loc[cut:].equals(moved.targets.loc[cut:])


def test_load_universe_resolves_a_stored_universe(tmp_path):
    frames = []
    for i, ticker in enumerate(("AAA", "BBB", "CCC")):
        one = random_walk_bars(600, seed=i, start="2001-01-02").reset_index()
        one.insert(0, "ticker", ticker)
        frames.append(one)
    pd.concat(frames).to_parquet(tmp_path / "bars.parquet", index=False)
    (tmp_path / "m.csv").write_text("year,ticker\n2001,AAA\n2001,BBB\n2002,BBB\n2002,CCC\n")
    import_universe("mine", tmp_path / "bars.parquet", tmp_path / "m.csv", home=tmp_path)
    universe = load_universe("mine", home=tmp_path)
    assert universe.tickers == ["AAA", "BBB", "CCC"] and universe.membership is not None
    assert universe.bars["AAA"].attrs["source"] == "file:bars.parquet"
    assert load_universe("mine", home=tmp_path, start="2002-01-01").tickers == ["BBB", "CCC"]
    import_universe("plain", tmp_path / "bars.parquet", home=tmp_path)
    assert load_universe("plain", home=tmp_path).membership is None


@pytest.mark.slow
def test_fcast_portfolio_on_an_imported_universe_trades_members_only(tmp_path, capsys):
    from cli_run import run

    frames = []
    for i, ticker in enumerate(("AAA", "BBB", "CCC", "DDD")):
        one = random_walk_bars(700, seed=i, start="2001-01-02").reset_index()
        one.insert(0, "ticker", ticker)
        frames.append(one)
    pd.concat(frames).to_parquet(tmp_path / "bars.parquet", index=False)
    # forecasts start in April 2003: BBB leaves for six weeks, AAA joins in mid-June
    (tmp_path / "m.csv").write_text("ticker,start,end\nBBB,2001-01-01,2003-05-31\nBBB,2003-07-15,\n"
                                    "AAA,2003-06-16,\nCCC,2001-01-01,\nDDD,2001-01-01,\n")
    assert run(capsys, "universe", "import", "mine", tmp_path / "bars.parquet", "--membership",
               tmp_path / "m.csv")[0] == 0
    code, _, err = run(capsys, "portfolio", "--universe", "mine", "--model", "logreg", "--strategy", "top-k",
                       "--param", "k=2", "--test-days", "100", "--output", tmp_path / "out")
    assert code == 0, err
    weights = pd.read_csv(tmp_path / "out" / "weights.csv", index_col="date", parse_dates=True)
    def member(day, ticker):
        if ticker == "BBB":
            return not (pd.Timestamp("2003-06-01") <= day <= pd.Timestamp("2003-07-14"))
        return ticker != "AAA" or day >= pd.Timestamp("2003-06-16")

    held = [(d, t) for d, row in weights.iterrows() for t, w in row.items() if abs(w) > 1e-12]
    assert held and [(d, t) for d, t in held if not member(d, t)] == []
    assert {"AAA", "BBB"} <= {t for _, t in held}  # both are traded, each while a member
