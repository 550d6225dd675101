"""The portfolio backtest (forecast.portfolio.engine) and the ranking strategies
(strategies.portfolio), checked against an independent pandas/numpy re-simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.portfolio.engine import run_portfolio
from strategies.portfolio import (
    PORTFOLIO_STRATEGIES,
    LongShort,
    RankingStrategy,
    TopK,
    TopkDropout,
    load_portfolio_strategy,
    parse_portfolio_params,
)

N_BARS = 90
TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
COSTS = {"cash": 100_000.0, "commission": 0.001, "slippage": 0.0005}


def universe(seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Six random-walk tickers: BBB lists 15 bars late, CCC misses four days (two in a
    row); probs NaN for the first 5 days, and here and there."""
    bars = {t: random_walk_bars(N_BARS, seed=seed * 10 + i, ticker=t) for i, t in enumerate(TICKERS)}
    bars["BBB"] = bars["BBB"].iloc[15:]
    bars["CCC"] = bars["CCC"].drop(bars["CCC"].index[[20, 21, 40, 61]])
    calendar = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))), name="date")
    rng = np.random.default_rng(seed + 100)
    prob = pd.DataFrame(rng.uniform(0.2, 0.8, (len(calendar), len(TICKERS))), index=calendar, columns=TICKERS)
    prob.iloc[:5] = np.nan
    prob.iloc[30, 4] = np.nan
    prob.iloc[31:33, 0] = np.nan
    return bars, prob


# --- independent re-simulation -------------------------------------------------------


def _fraction(costs, rate, minimum, cash):
    """Largest f with sum(f c + max(rate f c, minimum)) <= cash, by bisection."""
    def total(f):
        return sum(f * c + max(rate * f * c, minimum) for c in costs)

    if total(1.0) <= cash:
        return 1.0
    if cash <= minimum * len(costs):
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if total(mid) <= cash:
            lo = mid
        else:
            hi = mid
    return lo * (1.0 - 1e-12)


def resimulate(bars, prob, cls, params, *, cash, commission, slippage, min_commission=0.0, band=0.0,
               fee_share=1.0):
    tickers = list(bars)
    calendar = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))))
    opens = pd.DataFrame({t: b["open"] for t, b in bars.items()}).reindex(calendar)
    closes = pd.DataFrame({t: b["close"] for t, b in bars.items()}).reindex(calendar)
    probs = prob.reindex(index=calendar, columns=tickers)
    has_bar = opens.notna()
    tradable = has_bar & probs.notna()
    start = calendar[tradable.any(axis=1).to_numpy()][0]
    calendar = calendar[calendar >= start]
    last_close = closes.ffill()  # a held ticker without a bar is valued at its last close
    ranker = cls(**params)
    pos = pd.Series(0.0, index=tickers)
    money = cash
    pending: dict = {}
    equity, weights, targets, fills = [], [], [], []
    trimmed = skipped = 0
    for day in calendar:
        # the open: orders decided at the previous close, for tickers with a bar today
        sells, buys = [], []
        avail = money
        for t, target in pending.items():
            if not has_bar.at[day, t]:
                continue
            delta = target - pos[t]
            if delta < 0:
                price = opens.at[day, t] * (1 - slippage)
                fee = max(commission * -delta * price, min_commission)
                if fee > fee_share * -delta * price:  # a fee too large a share of the order: skipped
                    skipped += 1
                    continue
                avail += -delta * price - fee
                sells.append((t, delta, price, fee))
            elif delta > 0:
                buys.append((t, delta, opens.at[day, t] * (1 + slippage)))
        f = 0.0
        while buys:  # buys whose scaled fee is too large a share are dropped, the rest rescaled
            f = _fraction([d * p for _, d, p in buys], commission, min_commission, avail)
            kept = [(t, d, p) for t, d, p in buys
                    if max(commission * f * d * p, min_commission) <= fee_share * f * d * p]
            if len(kept) == len(buys):
                break
            skipped += len(buys) - len(kept)
            buys, f = kept, 0.0
        trimmed += f < 1.0 and bool(buys)
        for t, delta, price, fee in sells:
            pos[t] += delta
            money += -delta * price - fee
            fills.append((day, t, delta, price, fee))
        if f > 0:
            for t, delta, price in buys:
                size = delta * f
                fee = max(commission * size * price, min_commission)
                pos[t] += size
                money -= size * price + fee
                fills.append((day, t, size, price, fee))
        # the close: value, weights, decision
        held = pos[pos != 0]
        value = money + float((held * last_close.loc[day, held.index]).sum())
        equity.append(value)
        w_now = (pos * last_close.loc[day]).where(pos != 0, 0.0) / value
        weights.append(w_now)
        live = [t for t in tickers if tradable.at[day, t]]
        decided = pd.Series(np.nan, index=tickers)
        pending = {}
        if live and value > 0:  # a ruined portfolio decides nothing
            w = ranker.target_weights(probs.loc[day, live].astype(float), w_now[pos != 0])
            for t in live:
                target = float(w.get(t, 0.0))
                decided[t] = target
                same = pos[t] != 0 and target != 0 and (pos[t] > 0) == (target > 0)
                if same and abs(target - w_now[t]) <= band:
                    continue
                shares = target * value / closes.at[day, t]
                if shares != pos[t]:
                    pending[t] = shares
        targets.append(decided)
    entry = calendar[1]
    members = [t for t in tickers if tradable.at[start, t] and has_bar.at[entry, t]]
    bench = pd.Series(cash, index=calendar)
    later = calendar >= entry
    held = last_close.loc[calendar[later]]
    bench[later] = sum(cash / len(members) / opens.at[entry, t] * held[t].to_numpy() for t in members)
    return {
        "equity": pd.DataFrame({"strategy": equity, "benchmark": bench.to_numpy()}, index=calendar),
        "weights": pd.DataFrame(weights, index=calendar),
        "targets": pd.DataFrame(targets, index=calendar),
        "fills": pd.DataFrame(fills, columns=["date", "ticker", "size", "price", "commission"]),
        "trimmed": trimmed,
        "skipped": skipped,
    }


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-9)


def _sorted_fills(frame):
    return frame.sort_values(["date", "ticker"]).reset_index(drop=True)


CASES = [
    ("top-k", {"k": 2}, 0.0, 0.0),
    ("top-k", {"k": 3}, 5.0, 0.0),
    ("long-short", {"k": 2}, 0.0, 0.0),
    ("long-short", {"k": 2}, 5.0, 0.0),
    ("topk-dropout", {"k": 3, "n_drop": 1}, 0.0, 0.0),
    ("topk-dropout", {"k": 3, "n_drop": 1}, 5.0, 0.0),
    ("top-k", {"k": 2}, 1.0, 0.02),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params", "minimum", "band"), CASES)
def test_engine_matches_independent_resimulation(name, params, minimum, band):
    bars, prob = universe()
    cls = load_portfolio_strategy(name)
    got = run_portfolio(bars, prob, cls, params, min_commission=minimum, rebalance_band=band, **COSTS)
    want = resimulate(bars, prob, cls, params, min_commission=minimum, band=band, **COSTS)
    assert got.equity.index.equals(want["equity"].index)
    _close(got.equity, want["equity"])
    _close(got.weights, want["weights"][got.weights.columns])
    _close(got.targets, want["targets"][got.targets.columns])
    mine, ref = _sorted_fills(got.fills), _sorted_fills(want["fills"])
    assert len(mine) == len(ref) > 0
    assert (mine["date"] == ref["date"]).all() and (mine["ticker"] == ref["ticker"]).all()
    _close(mine[["size", "price", "commission"]], ref[["size", "price", "commission"]])
    _close(mine["value"], ref["size"].abs() * ref["price"])
    # the run exercises what it claims: trimming, shorts, a minimum fee
    if name == "top-k" and band == 0:
        assert want["trimmed"] > 0
    if name == "long-short":
        assert got.weights.min().min() < 0 and abs(got.metrics["strategy"]["net_exposure"]) < 0.05
    if minimum:
        assert (got.fills["commission"] == minimum).any()
    # orders whose fee exceeded their value were skipped, as many as the re-simulation skips
    assert got.metrics["strategy"]["orders_skipped_costs"] == want["skipped"]
    assert sum(v for k, v in got.metrics["strategy"].items() if k.startswith("orders_rejected")) == 0


def test_calendars_holds_and_accounting():
    bars, prob = universe()
    got = run_portfolio(bars, prob, TopK, {"k": 3}, min_commission=2.0, **COSTS)
    # no fill on a day a ticker has no bar; nothing before BBB lists
    for t, frame in bars.items():
        assert set(got.fills.loc[got.fills["ticker"] == t, "date"]) <= set(frame.index)
    assert (got.weights.loc[: bars["BBB"].index[0], "BBB"] == 0).all()
    assert got.targets.loc[bars["BBB"].index[0] - pd.Timedelta(days=1):, "BBB"].notna().any()
    # legs, costs and contributions add up
    returns = got.equity["strategy"].pct_change().fillna(0.0)
    _close(got.legs["long"] + got.legs["short"] - got.legs["costs"], returns)
    assert got.contributions.sum() == pytest.approx(got.equity["strategy"].iloc[-1] - COSTS["cash"], abs=1e-6)
    assert (got.legs["short"] == 0).all()
    m = got.metrics["strategy"]
    assert m["n_fills"] == len(got.fills) and 0.9 < m["gross_exposure"] <= 1.0
    traded = got.fills.groupby("date")["value"].sum().reindex(got.equity.index, fill_value=0.0)
    daily = traded.iloc[1:].to_numpy() / got.equity["strategy"].iloc[:-1]
    assert m["turnover"] == pytest.approx(daily.mean() / 2)
    assert set(got.metrics["benchmark"]) >= {"total_return", "cagr", "sharpe", "max_drawdown"}
    assert got.settings["benchmark_members"] == ["AAA", "CCC", "DDD", "EEE", "FFF"]  # BBB lists later
    assert got.equity["benchmark"].iloc[0] == COSTS["cash"]
    assert got.settings["params"] == {"k": 3} and got.settings["strategy"] == "TopK"


# --- look-ahead -----------------------------------------------------------------------


def _perturbed(bars, prob, after, tickers, seed=7):
    rng = np.random.default_rng(seed)
    new_bars = {}
    for t, frame in bars.items():
        frame = frame.copy()
        if t in tickers:
            later = frame.index > after
            scale = rng.uniform(0.7, 1.4, later.sum())
            for col in ("open", "high", "low", "close"):
                frame.loc[later, col] = frame.loc[later, col].to_numpy() * scale
        new_bars[t] = frame
    new_prob = prob.copy()
    if prob is not None and tickers == TICKERS:
        later = new_prob.index > after
        new_prob.loc[later] = rng.uniform(0.0, 1.0, (later.sum(), len(TICKERS)))
    return new_bars, new_prob


def _same_up_to(a, b, t) -> bool:
    frames = [(a.equity, b.equity), (a.weights, b.weights), (a.targets, b.targets)]
    if not all(x.loc[:t].equals(y.loc[:t]) for x, y in frames):
        return False
    fa, fb = a.fills[a.fills["date"] <= t], b.fills[b.fills["date"] <= t]
    return fa.reset_index(drop=True).equals(fb.reset_index(drop=True))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PORTFOLIO_STRATEGIES))
def test_no_look_ahead_across_tickers(name):
    bars, prob = universe(seed=1)
    cls = load_portfolio_strategy(name)
    t = prob.index[45]
    base = run_portfolio(bars, prob, cls, {"k": 2}, min_commission=1.0, **COSTS)
    costs = {**COSTS, "min_commission": 1.0}
    everything = run_portfolio(*_perturbed(bars, prob, t, TICKERS), cls, {"k": 2}, **costs)
    one = run_portfolio(*_perturbed(bars, prob, t, ["DDD"]), cls, {"k": 2}, **costs)
    assert _same_up_to(base, everything, t) and _same_up_to(base, one, t)
    # ... and the perturbation did reach the later values
    assert not base.equity.loc[t:].iloc[2:].equals(everything.equity.loc[t:].iloc[2:])
    assert not base.weights.iloc[-1].equals(one.weights.iloc[-1])


def test_planted_look_ahead_is_caught():
    """Feeding tomorrow's probabilities (prob.shift(-1)) lets the perturbation after t
    change the decision dated t: the same check fails."""
    bars, prob = universe(seed=1)
    t = prob.index[45]
    new_bars, new_prob = _perturbed(bars, prob, t, TICKERS)
    leak = run_portfolio(bars, prob.shift(-1), TopK, {"k": 2}, **COSTS)
    leak_perturbed = run_portfolio(new_bars, new_prob.shift(-1), TopK, {"k": 2}, **COSTS)
    assert not _same_up_to(leak, leak_perturbed, t)
    assert not leak.targets.loc[t].equals(leak_perturbed.targets.loc[t])


# --- strategies on hand-made probs ----------------------------------------------------


def _probs(**values):
    return pd.Series(values, dtype=float)


NONE = pd.Series(dtype=float)


def test_top_k_picks_and_ties():
    w = TopK(k=2).target_weights(_probs(A=0.6, B=0.9, D=0.7, C=0.7), NONE)
    assert w.to_dict() == {"B": 0.5, "C": 0.5}  # C beats D on the name
    assert TopK(k=5).target_weights(_probs(A=0.1, B=0.2, C=0.3), NONE).to_dict() == pytest.approx(
        {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})


def test_long_short_is_dollar_neutral():
    w = LongShort(k=2).target_weights(_probs(A=0.6, B=0.9, C=0.1, D=0.7, E=0.3), NONE)
    assert w.to_dict() == {"B": 0.25, "D": 0.25, "E": -0.25, "C": -0.25}
    assert w.sum() == 0 and w.abs().sum() == 1
    w3 = LongShort(k=3).target_weights(_probs(A=0.6, B=0.9, C=0.1, D=0.7, E=0.3), NONE)
    assert (w3 > 0).sum() == 2 and (w3 < 0).sum() == 2 and w3.sum() == 0  # k = 5 // 2
    assert LongShort(k=2).target_weights(_probs(A=0.5), NONE).empty


def test_topk_dropout_replaces_at_most_n_drop():
    s = TopkDropout(k=3, n_drop=1)
    held = pd.Series(1 / 3, index=["A", "B", "C"])
    w = s.target_weights(_probs(A=0.5, B=0.6, C=0.1, D=0.9, E=0.8, F=0.2), held)
    assert sorted(w.index) == ["A", "B", "D"] and np.allclose(w, 1 / 3)  # C out, D in; E waits
    keep = s.target_weights(_probs(A=0.5, B=0.6, C=0.4, D=0.3), held)
    assert sorted(keep.index) == ["A", "B", "C"]  # the candidate ranks below every held name
    frozen = TopkDropout(k=3, n_drop=0).target_weights(_probs(A=0.1, B=0.1, C=0.1, D=0.9), held)
    assert sorted(frozen.index) == ["A", "B", "C"]
    assert sorted(s.target_weights(_probs(A=0.5, B=0.6, C=0.1, D=0.9), NONE).index) == ["A", "B", "D"]
    rng = np.random.default_rng(3)
    names = list("ABCDEFGH")
    holding = NONE
    for day in range(40):
        s2 = TopkDropout(k=4, n_drop=2)
        w = s2.target_weights(pd.Series(rng.uniform(size=8), index=names), holding)
        assert len(w) == 4 and np.allclose(w, 0.25)
        if day:
            assert len(set(holding.index) - set(w.index)) <= 2
        holding = w


def test_user_ranking_strategy_from_a_file(tmp_path):
    path = tmp_path / "my_ranker.py"
    path.write_text(
        "import pandas as pd\n"
        "from strategies.portfolio import RankingStrategy\n"
        "class Worst(RankingStrategy):\n"
        "    '''Long the k lowest probs.'''\n"
        "    params = (('k', 1),)\n"
        "    def target_weights(self, probs, holdings):\n"
        "        names = sorted(probs.index, key=lambda t: (probs[t], t))[: self.p.k]\n"
        "        return pd.Series(1.0 / len(names), index=names)\n"
    )
    cls = load_portfolio_strategy(f"{path}:Worst")
    params = parse_portfolio_params(cls, ["k=2"])
    assert params == {"k": 2} and cls.param_defaults() == {"k": 1}
    bars, prob = universe()
    got = run_portfolio(bars, prob, cls, params, **COSTS)
    day = prob.index[10]
    lowest = prob.loc[day].dropna().nsmallest(2).index
    assert sorted(got.targets.loc[day][got.targets.loc[day] > 0].index) == sorted(lowest)
    assert len(got.fills) > 0


# --- bad input ------------------------------------------------------------------------


def _one_line(excinfo):
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_bad_strategy_and_params(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_portfolio_strategy("top-ten")
    assert "top-k" in _one_line(e)
    with pytest.raises(ConfigError) as e:
        load_portfolio_strategy("strategies.builtin:LongOnly")
    assert "RankingStrategy" in _one_line(e)
    for items, word in ((["k=0"], "'k'"), (["n_drop=-1"], "n_drop"), (["x=1"], "'x'"),
                        (["k=two"], "'k'"), (["k"], "key=value")):
        with pytest.raises(ConfigError) as e:
            parse_portfolio_params(TopkDropout, items)
        assert word in _one_line(e)
    assert parse_portfolio_params(TopkDropout, {"k": "4", "n_drop": 2}) == {"k": 4, "n_drop": 2}
    assert TopkDropout.param_defaults() == {"k": 5, "n_drop": 1}
    assert issubclass(TopK, RankingStrategy)


def test_bad_engine_input():
    bars, prob = universe()
    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob.assign(ZZZ=0.5), TopK, **COSTS)
    assert "ZZZ" in _one_line(e)
    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob, TopK, {"k": 0}, **COSTS)
    _one_line(e)
    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob * 2, TopK, **COSTS)
    _one_line(e)
    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob, "top-k", **COSTS)
    _one_line(e)

    class Greedy(RankingStrategy):
        def target_weights(self, probs, holdings):
            return pd.Series(1.0, index=probs.index)

    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob, Greedy, **COSTS)
    assert "> 1" in _one_line(e)

    class Outsider(RankingStrategy):
        def target_weights(self, probs, holdings):
            return pd.Series(0.5, index=["ZZZ"])

    with pytest.raises(ConfigError) as e:
        run_portfolio(bars, prob, Outsider, **COSTS)
    assert "not tradable" in _one_line(e)
