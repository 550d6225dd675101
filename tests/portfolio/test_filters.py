"""Universe filters: each against a by-hand computation, no look-ahead (and a planted leak
that the look-ahead check catches), and no ineligible ticker ever holds a weight."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from forecast.data import checks
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.portfolio import filters as flt
from forecast.portfolio.engine import run_portfolio
from forecast.portfolio.filters import FilterSettings, eligibility
from strategies.portfolio import LongShort, TopK

TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
COSTS = {"cash": 100_000.0, "commission": 0.001, "slippage": 0.0005}
N = 120
JUMP = 50  # CCC's close doubles on this bar (an extreme move)


def _scaled(frame: pd.DataFrame, factor) -> pd.DataFrame:
    out = frame.copy()
    for col in ("open", "high", "low", "close"):
        out[col] = out[col] * factor
    return out


def universe(seed=0) -> dict[str, pd.DataFrame]:
    """Five tickers whose prices and dollar volumes wander across the thresholds below;
    DDD misses every fifth day (its calendar differs), CCC has one extreme move."""
    bars = {}
    for i, t in enumerate(TICKERS):
        frame = random_walk_bars(N, seed=seed * 10 + i, sigma=0.03, ticker=t)
        frame = _scaled(frame, 0.1 + 0.05 * i)  # closes near 10 .. 30
        frame["volume"] = frame["volume"] * (1 + i)
        bars[t] = frame
    factor = np.where(np.arange(N) >= JUMP, 2.0, 1.0)
    bars["CCC"] = _scaled(bars["CCC"], factor)
    bars["DDD"] = bars["DDD"].iloc[[k for k in range(N) if k % 5 != 3]]
    return bars


def calendar(bars) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))))


# --- by-hand rules: plain loops over each ticker's bars dated <= the day -------------------


def by_hand(bars, dates, settings: FilterSettings) -> pd.DataFrame:
    out = pd.DataFrame(False, index=dates, columns=TICKERS)
    for t in TICKERS:
        rows = list(bars[t].itertuples())
        for day in dates:
            past = [r for r in rows if r.Index <= day]
            if not past:
                continue
            last = past[-1]
            ok = True
            if settings.min_price is not None:
                ok &= last.close >= settings.min_price
            if settings.min_dollar_volume is not None:
                window = past[-settings.dollar_volume_window:]
                full = len(window) == settings.dollar_volume_window
                median = statistics.median(r.close * r.volume for r in window) if full else 0.0
                ok &= full and median >= settings.min_dollar_volume
            if settings.drop_extreme_moves and len(past) >= 2:
                ok &= abs(math.log(last.close / past[-2].close)) <= 0.4
            out.at[day, t] = ok
    return out


def test_min_price_matches_by_hand():
    bars = universe()
    dates = calendar(bars)
    settings = FilterSettings(min_price=18.0)
    got = eligibility(bars, dates, TICKERS, settings)
    want = by_hand(bars, dates, settings)
    pd.testing.assert_frame_equal(got, want, check_freq=False)
    assert 0.2 < got.to_numpy().mean() < 0.8  # the threshold splits the universe


def test_min_dollar_volume_matches_by_hand():
    bars = universe()
    dates = calendar(bars)
    settings = FilterSettings(min_dollar_volume=3e7, dollar_volume_window=10)
    got = eligibility(bars, dates, TICKERS, settings)
    pd.testing.assert_frame_equal(got, by_hand(bars, dates, settings), check_freq=False)
    assert 0.2 < got.to_numpy().mean() < 0.8
    assert not got.iloc[:9].any().any()  # fewer bars than the window: not eligible


def test_extreme_moves_matches_by_hand_and_uses_the_checks_threshold(monkeypatch):
    bars = universe()
    dates = calendar(bars)
    settings = FilterSettings(drop_extreme_moves=True)
    got = eligibility(bars, dates, TICKERS, settings)
    pd.testing.assert_frame_equal(got, by_hand(bars, dates, settings), check_freq=False)
    assert list(dates[~got["CCC"]]) == [bars["CCC"].index[JUMP]]
    # the data checks' rule itself, not a copy: its threshold moves the filter
    monkeypatch.setattr(checks, "MAX_LOG_MOVE", 0.03)
    assert eligibility(bars, dates, TICKERS, settings).to_numpy().sum() < got.to_numpy().sum()


def test_all_filters_together_and_adjusted_closes():
    """The extreme-move rule reads the adjusted close (a split in `close` that adj_close
    explains is no move); price and dollar volume read the close as traded."""
    bars = universe()
    split = bars["AAA"].copy()
    split["adj_close"] = split["close"]
    split.loc[split.index[60]:, ["open", "high", "low", "close"]] /= 4  # a 4:1 split, unadjusted
    split.loc[split.index[60]:, "volume"] *= 4
    bars["AAA"] = split
    dates = calendar(bars)
    settings = FilterSettings(min_price=6.0, min_dollar_volume=2e7, dollar_volume_window=5,
                              drop_extreme_moves=True)
    got = eligibility(bars, dates, TICKERS, settings)
    want = by_hand({**bars, "AAA": split.assign(close=split["adj_close"])}, dates,
                   FilterSettings(drop_extreme_moves=True))
    want &= by_hand(bars, dates, FilterSettings(min_price=6.0, min_dollar_volume=2e7, dollar_volume_window=5))
    pd.testing.assert_frame_equal(got, want, check_freq=False)


# --- look-ahead -----------------------------------------------------------------------------


def perturbed_after(bars, cut, seed=1) -> dict:
    """Every bar dated after `cut` changed: prices and volumes scaled, jumps planted."""
    rng = np.random.default_rng(seed)
    out = {}
    for t, frame in bars.items():
        frame = frame.copy()
        after = frame.index > cut
        k = int(after.sum())
        scale = np.exp(rng.normal(0, 0.6, k))
        for col in ("open", "high", "low", "close"):
            frame.loc[after, col] = frame.loc[after, col].to_numpy() * scale
        frame.loc[after, "volume"] = frame.loc[after, "volume"].to_numpy() * np.exp(rng.normal(0, 1.5, k))
        out[t] = frame
    return out


SETTINGS = FilterSettings(min_price=15.0, min_dollar_volume=2.5e7, dollar_volume_window=10,
                          drop_extreme_moves=True)


def lookahead_violations(bars, dates) -> list[str]:
    """Cuts at which perturbing the bars after the cut changed eligibility on or before it."""
    base = eligibility(bars, dates, TICKERS, SETTINGS)
    found = []
    for cut in dates[15:-5:7]:
        moved = eligibility(perturbed_after(bars, cut), dates, TICKERS, SETTINGS)
        if not base.loc[:cut].equals(moved.loc[:cut]):
            found.append(str(cut.date()))
        assert not base.loc[cut:].iloc[1:].equals(moved.loc[cut:].iloc[1:])  # the perturbation bites
    return found


def test_no_filter_reads_a_later_bar():
    bars = universe()
    assert lookahead_violations(bars, calendar(bars)) == []


def test_the_lookahead_check_catches_a_centered_window(monkeypatch):
    """Planted leak: the dollar-volume median over a centered window (reads later bars)."""
    real = flt.ticker_eligibility

    def centered(frame, settings):
        ok = real(frame, FilterSettings(min_price=settings.min_price,
                                        drop_extreme_moves=settings.drop_extreme_moves))
        dollars = (frame["close"] * frame["volume"]).rolling(settings.dollar_volume_window, center=True)
        return ok & (dollars.median() >= settings.min_dollar_volume)

    monkeypatch.setattr(flt, "ticker_eligibility", centered)
    bars = universe()
    assert lookahead_violations(bars, calendar(bars))


# --- the engine: no ineligible ticker holds a weight ------------------------------------------


def probs(bars, seed=7) -> pd.DataFrame:
    dates = calendar(bars)
    rng = np.random.default_rng(seed)
    prob = pd.DataFrame(rng.uniform(0.2, 0.8, (len(dates), len(TICKERS))), index=dates, columns=TICKERS)
    prob["CCC"] = 0.95  # ranks first whenever it may: dropped on its extreme-move day
    return prob


def ineligible_holdings(result, eligible) -> list[str]:
    """Independent check: a nonzero target at the decision on t needs eligibility on t; a
    nonzero end-of-day weight on day d needs eligibility at the previous decision (the
    position was set then, from bars up to that day)."""
    ok = eligible.reindex(index=result.weights.index, columns=result.weights.columns).fillna(False)
    ok = ok.to_numpy(dtype=bool)
    before = np.vstack([np.zeros((1, ok.shape[1]), bool), ok[:-1]])
    targets = np.abs(np.nan_to_num(result.targets.to_numpy())) > 0
    weights = np.abs(np.nan_to_num(result.weights.to_numpy())) > 1e-12
    days, names = result.weights.index, result.weights.columns

    def named(kind, where):
        return [f"{kind} {names[j]} {days[i].date()}" for i, j in zip(*np.nonzero(where), strict=True)]

    return named("target", targets & ~ok) + named("weight", weights & ~before)


@pytest.mark.parametrize(("cls", "params"), [(TopK, {"k": 2}), (LongShort, {"k": 1})])
def test_no_ineligible_ticker_holds_a_weight(cls, params):
    bars = universe()
    prob = probs(bars)
    eligible = eligibility(bars, prob.index, TICKERS, SETTINGS)
    got = run_portfolio(bars, prob, cls, params, eligible=eligible, **COSTS)
    assert ineligible_holdings(got, eligible) == []
    assert (got.weights.abs() > 0).sum().gt(0).sum() >= 3  # several tickers are traded
    leaky = run_portfolio(bars, prob, cls, params, **COSTS)  # the check can fail
    assert ineligible_holdings(leaky, eligible)


def test_filters_and_membership_combine():
    bars = universe()
    prob = probs(bars)
    eligible = eligibility(bars, prob.index, TICKERS, SETTINGS)
    members = pd.DataFrame(True, index=prob.index, columns=TICKERS)
    members.iloc[30:70, [0, 1]] = False
    got = run_portfolio(bars, prob, TopK, {"k": 2}, members=members, eligible=eligible, **COSTS)
    assert ineligible_holdings(got, eligible) == []
    weights = got.weights[["AAA", "BBB"]].abs() > 0
    assert not weights.iloc[30:70].any().any()


@pytest.mark.slow
def test_engine_reads_eligibility_on_the_decision_day_only():
    """Perturbing the bars after t changes no target up to t; a planted leak (the filters
    folded into the membership mask, which is read a day ahead) does."""
    bars = universe()
    prob = probs(bars)
    cut = bars["CCC"].index[JUMP - 1]  # the day before CCC's extreme move
    later = perturbed_after(bars, cut)
    later["CCC"] = bars["CCC"]  # keep the planted jump
    dates = prob.index

    def targets(b, as_members=False):
        eligible = eligibility(b, dates, TICKERS, SETTINGS)
        kw = {"members": eligible} if as_members else {"eligible": eligible}
        return run_portfolio(b, prob, TopK, {"k": 2}, **kw, **COSTS).targets.loc[:cut]

    pd.testing.assert_frame_equal(targets(bars), targets(later))
    leaky = targets(bars, as_members=True)
    assert leaky.at[cut, "CCC"] == 0 and targets(bars).at[cut, "CCC"] > 0


@pytest.mark.slow
def test_no_filter_changes_nothing():
    bars = universe(seed=3)
    prob = probs(bars)
    plain = run_portfolio(bars, prob, TopK, {"k": 2}, **COSTS)
    everyone = pd.DataFrame(True, index=prob.index, columns=TICKERS)
    masked = run_portfolio(bars, prob, TopK, {"k": 2}, eligible=everyone, **COSTS)
    for name in ("equity", "weights", "targets", "fills", "legs"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(masked, name))
    assert plain.metrics == masked.metrics
    assert not FilterSettings().active


@pytest.mark.parametrize("kw", [{"min_price": 0}, {"min_price": -1.0}, {"min_dollar_volume": float("nan")},
                                {"min_price": True}, {"dollar_volume_window": 0},
                                {"dollar_volume_window": 2.5}])
def test_bad_settings_are_one_line(kw):
    with pytest.raises(ConfigError) as err:
        FilterSettings(**kw)
    assert "\n" not in str(err.value)


# --- the run records its filters --------------------------------------------------------------


def scored(filters):
    from types import SimpleNamespace

    from forecast.portfolio.run import score_portfolio

    bars = universe()
    prob = probs(bars)
    realized = pd.DataFrame(np.random.default_rng(5).normal(0, 0.01, prob.shape), index=prob.index,
                            columns=TICKERS)
    preds = pd.DataFrame({"prob_up": prob.stack(), "realized": realized.stack()})
    preds.index.names = ["date", "ticker"]
    uni = SimpleNamespace(tickers=TICKERS, bars=bars, membership=None)
    return score_portfolio(uni, preds, TopK, {"k": 2}, model="m", pooled=True, target="direction",
                           strategy="top-k", market=None, filters=filters, **COSTS)


@pytest.mark.slow
def test_filters_are_recorded_and_defaults_change_nothing():
    import json

    from forecast.report.portfolio_page import _meta

    plain = scored(None).to_dict()
    assert json.dumps(scored(FilterSettings()).to_dict()) == json.dumps(plain)
    assert "filters" not in plain["settings"]
    filtered = scored(SETTINGS)
    doc = filtered.to_dict()
    assert doc["settings"]["filters"] == {"min_price": 15.0, "min_dollar_volume": 2.5e7,
                                          "dollar_volume_window": 10, "drop_extreme_moves": True}
    assert filtered.run_record().metrics["settings"]["filters"] == doc["settings"]["filters"]
    assert doc["strategy"] != plain["strategy"]
    eligible = eligibility(universe(), probs(universe()).index, TICKERS, SETTINGS)
    assert ineligible_holdings(filtered.backtest, eligible) == []
    # IC counts eligible tickers only
    assert (filtered.ic["n"] == eligible.loc[filtered.ic.index].sum(axis=1)).all()
    text = dict(_meta(doc))["filters"]
    assert "close >= 15" in text and "over 10 bars" in text and "extreme-move" in text


@pytest.mark.slow
def test_bad_filter_option_is_one_line(capsys):
    from forecast.cli.app import main

    assert main(["portfolio", "KO", "MSFT", "--min-price", "-1"]) != 0
    assert main(["portfolio", "KO", "MSFT", "--min-dollar-volume", "1e6", "--dollar-volume-window", "0"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 2 and "min-price" in err


@pytest.mark.slow
def test_fcast_portfolio_with_filters_end_to_end(tmp_path, monkeypatch):
    import json
    from types import SimpleNamespace

    from forecast.cli.app import main
    from forecast.portfolio.universe import load_universe
    from forecast.runs import list_runs

    monkeypatch.setenv("FCAST_OFFLINE", "1")
    names = ["KO", "MSFT", "AAPL", "IBM", "XOM"]
    out = tmp_path / "out"
    assert main(["--home", str(tmp_path / "home"), "portfolio", *names, "--source", "bundled",
                 "--start", "2013-01-01", "--model", "logreg", "--strategy", "top-k", "--param", "k=2",
                 "--test-days", "252", "--min-price", "60", "--min-dollar-volume", "5e8",
                 "--drop-extreme-moves", "--output", str(out)]) == 0
    doc = json.loads((out / "metrics.json").read_text())
    want = {"min_price": 60.0, "min_dollar_volume": 5e8, "dollar_volume_window": 20,
            "drop_extreme_moves": True}
    assert doc["settings"]["filters"] == want
    (record,) = list_runs(tmp_path / "home")
    assert record["metrics"]["settings"]["filters"] == want
    assert "median close x volume over 20 bars" in (out / "report.html").read_text()
    weights = pd.read_csv(out / "weights.csv", index_col="date", parse_dates=True)
    targets = pd.DataFrame(np.nan, index=weights.index, columns=weights.columns)  # weights carry the check
    bars = load_universe(names, source="bundled", start="2013-01-01").bars
    eligible = eligibility(bars, weights.index, list(weights.columns), FilterSettings(**want))
    assert ineligible_holdings(SimpleNamespace(weights=weights, targets=targets), eligible) == []
    assert not eligible.all().all() and (weights.abs() > 0).any().sum() >= 2
