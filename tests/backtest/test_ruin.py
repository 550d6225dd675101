"""Money that cannot be: equity never goes below zero on fees, orders whose fee exceeds
their value are skipped (and counted), and an account whose equity reaches zero is ruined:
it stops trading and its metrics say so. Both engines, equal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from test_vector_engine import assert_same, both

from forecast.backtest import simulate
from forecast.backtest.report import no_trades_line, render_report
from forecast.data.bundled import load_bundled
from strategies import LongOnly, LongShort, ProbabilitySized


def path_bars(opens, closes) -> pd.DataFrame:
    index = pd.bdate_range("2022-01-03", periods=len(opens), name="date")
    opens, closes = np.asarray(opens, dtype=float), np.asarray(closes, dtype=float)
    frame = pd.DataFrame({"open": opens, "high": np.maximum(opens, closes) * 1.01,
                          "low": np.minimum(opens, closes) * 0.99, "close": closes,
                          "volume": 1e6}, index=index)
    frame.attrs["ticker"] = "PATH"
    return frame


def preds_on(bars, probs) -> pd.DataFrame:
    return pd.DataFrame({"prob_up": probs}, index=bars.index[: len(probs)])


@pytest.mark.slow
def test_the_reproduction_ends_with_equity_at_or_above_zero_in_both_engines():
    # The F run, on a bundled ticker: $1,000, no commission but a $5 minimum per order,
    # probability-sized orders of a few dollars. It used to end at -$5 (-100.5%).
    bars = load_bundled("KO")
    rng = np.random.default_rng(0)
    index = bars.index[100:]
    preds = pd.DataFrame({"prob_up": rng.uniform(0.4, 0.8, len(index))}, index=index)
    vec, ref = both(bars, preds, ProbabilitySized, {}, cash=1000.0, commission=0.0, min_commission=5.0)
    assert_same(vec, ref)
    for r in (vec, ref):
        assert (r.equity["strategy"] >= 0).all()
        assert (r.ledger["cash"] >= 0).all()
        value = r.fills["size"].abs() * r.fills["price"]
        assert (r.fills["commission"] <= value).all()  # no order paid more in fee than it was worth
        assert r.metrics["strategy"]["orders_skipped_costs"] > 0


def test_fills_of_a_tiny_case_match_a_hand_computation():
    # $100, a $5 minimum fee, no commission or slippage; long on day 0's close, out on day 1's,
    # long again on day 2's. Worked out by hand:
    # day 1 open 10: buy the most that leaves the exit's $5 in cash: 100 = 5 + 10 s + 5 -> s = 9.
    # day 2 open 12: sell 9 for 108, fee 5 -> cash 5 + 108 - 5 = 108.
    # day 3 open 0.5: buy s with 108 = 5 + 0.5 s + 5 -> s = 196 (worth 98), cash 5 left.
    # day 4 open 0.02: exit wanted, but 196 shares are worth 3.92 < the $5 fee: skipped.
    bars = path_bars([10, 10, 12, 0.5, 0.02], [10, 11, 12, 0.5, 0.02])
    preds = preds_on(bars, [0.9, 0.1, 0.9, 0.1])
    vec, ref = both(bars, preds, LongOnly, {}, cash=100.0, commission=0.0, min_commission=5.0,
                    slippage=0.0)
    assert_same(vec, ref)
    fills = ref.fills
    assert list(fills["date"]) == list(bars.index[1:4])
    np.testing.assert_allclose(fills["size"], [9.0, -9.0, 196.0], rtol=1e-9)
    np.testing.assert_allclose(fills["price"], [10.0, 12.0, 0.5])
    np.testing.assert_allclose(fills["commission"], [5.0, 5.0, 5.0])
    np.testing.assert_allclose(ref.ledger["cash"], [100.0, 5.0, 108.0, 5.0, 5.0], atol=1e-9)
    assert ref.metrics["strategy"]["orders_skipped_costs"] == 1
    assert ref.equity["strategy"].iloc[-1] == pytest.approx(5.0 + 196 * 0.02)
    assert not ref.metrics["strategy"]["ruined"]


def short_squeeze():
    # Short everything at day 1's open (100); day 1 closes at 250: equity 1000 + 1000 - 2500 < 0.
    # The price then falls back, which would turn the ruined account's equity positive again.
    bars = path_bars([100, 100, 240, 120, 60, 50], [100, 250, 200, 100, 55, 50])
    return bars, preds_on(bars, [0.1, 0.1, 0.1, 0.9, 0.1])


def test_a_ruined_account_stops_trading_and_says_so_in_both_engines():
    bars, preds = short_squeeze()
    vec, ref = both(bars, preds, LongShort, {}, cash=1000.0, commission=0.0, slippage=0.0)
    assert_same(vec, ref)
    for r in (vec, ref):
        m = r.metrics["strategy"]
        assert m["ruined"] is True
        assert m["ruined_on"] == bars.index[1]  # the first close at or below zero
        assert len(r.fills) == 1  # the short; nothing after the ruin
        equity = r.equity["strategy"]
        assert list(equity) == [1000.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        assert m["total_return"] == -1.0
        assert np.isfinite(m["volatility"]) or np.isnan(m["volatility"])
        assert r.to_dict()["strategy"]["ruined_on"] == str(bars.index[1].date())
        assert not r.metrics["benchmark"]["ruined"]


def test_the_report_says_when_the_account_was_ruined():
    bars, preds = short_squeeze()
    r = simulate(bars, preds, LongShort, {}, cash=1000.0, commission=0.0, slippage=0.0)
    console = Console(record=True, width=120)
    render_report(r, console)
    text = console.export_text()
    assert f"ruined on {bars.index[1].date()}: equity reached zero, no trading after it" in text


def test_returns_after_the_ruin_are_not_computed_from_negative_equity():
    from forecast.backtest.metrics import compute_metrics

    index = pd.bdate_range("2022-01-03", periods=5)
    m = compute_metrics(pd.Series([100.0, 50.0, -20.0, -40.0, 10.0], index=index))
    assert m["ruined"] and m["ruined_on"] == index[2]
    assert m["total_return"] == -1.0 and m["max_drawdown"] == -1.0
    # Returns: -50%, then -100% on the ruin; none after it.
    returns = np.array([-0.5, -1.0])
    assert m["volatility"] == pytest.approx(returns.std(ddof=1) * np.sqrt(252))


def test_orders_skipped_for_costs_are_counted_and_explained():
    # --min-commission 1e9: the strategy wants in on every up day, no order can pay its fee.
    bars = load_bundled("KO").iloc[-120:]
    rng = np.random.default_rng(3)
    probs = rng.uniform(0, 1, 80)
    preds = pd.DataFrame({"prob_up": probs}, index=bars.index[20:100])
    vec, ref = both(bars, preds, LongOnly, {}, min_commission=1e9)
    assert_same(vec, ref)
    wanted = int((probs > 0.5).sum())  # never in: every up decision is a buy that was not sent
    assert ref.metrics["strategy"]["orders_skipped_costs"] == wanted
    assert len(ref.fills) == 0
    line = no_trades_line(ref)
    assert line == f"no trades: {wanted} orders skipped because their fees exceeded their value or the cash"
    doc = json.loads(json.dumps(ref.to_dict()))
    assert doc["strategy"]["orders_skipped_costs"] == wanted


def test_no_trades_line_without_wanted_orders():
    bars = load_bundled("KO").iloc[-60:]
    preds = pd.DataFrame({"prob_up": 0.2}, index=bars.index[10:40])
    r = simulate(bars, preds, LongOnly, {})
    assert no_trades_line(r) == "no trades: the strategy never took a position on these predictions"


def ruined_portfolio():
    """Long AAA, short BBB (half the value each) from day 1's open at 100; BBB closes at 500 on
    day 2: 1000 + 5 x 100 (short proceeds) - 5 x 100 (long) + 5 x 100 (long marked) - 5 x 500 < 0."""
    from forecast.portfolio.engine import run_portfolio
    from strategies.portfolio import LongShort as RankedLongShort

    aaa = path_bars([100] * 6, [100] * 6)
    bbb = path_bars([100, 100, 100, 400, 50, 50], [100, 100, 500, 60, 50, 50])
    prob = pd.DataFrame({"AAA": 0.9, "BBB": 0.1}, index=aaa.index)
    return aaa, run_portfolio({"AAA": aaa, "BBB": bbb}, prob, RankedLongShort, {"k": 1}, cash=1000.0,
                              commission=0.0, slippage=0.0)


def test_a_ruined_portfolio_stops_and_its_equity_floors_at_zero():
    aaa, got = ruined_portfolio()
    m = got.metrics["strategy"]
    assert m["ruined"] and m["ruined_on"] == aaa.index[2]
    assert list(got.equity["strategy"].iloc[2:]) == [0.0] * 4
    assert (got.fills["date"] <= aaa.index[2]).all()  # nothing traded after the ruin
    assert m["total_return"] == -1.0


def test_a_ruined_portfolio_reports_no_exposure_after_its_ruin():
    # The case above by hand: weights 0, then +0.5 / -0.5 (value 1000), then the ruin (value
    # <= 0: weights undefined, NaN) and nothing held after it. Held at 2 closes of 6; gross
    # exposure 1 on the one day it is defined and held, 0 on the other 4 defined days.
    aaa, got = ruined_portfolio()
    w = got.weights
    assert list(w["AAA"].iloc[:2]) == [0.0, 0.5] and list(w["BBB"].iloc[:2]) == [0.0, -0.5]
    assert w.iloc[2].isna().all() and (w.iloc[3:] == 0.0).all().all()
    m = got.metrics["strategy"]
    assert m["exposure"] == pytest.approx(2 / 6)
    assert m["gross_exposure"] == pytest.approx(1 / 5) and m["net_exposure"] == 0.0


def test_the_equity_plot_of_a_ruined_account_draws_no_exposure_after_the_ruin(tmp_path):
    # The squeeze's broker value is -500 at the ruin, then exactly 0: position x close / value
    # was +500% "invested" (a short's sign flipped) and then -inf, which failed the PNG write.
    from forecast.backtest.plot import exposure_series

    bars, preds = short_squeeze()
    result = simulate(bars, preds, LongShort, {}, cash=1000.0, commission=0.0, slippage=0.0)
    exposure = exposure_series(result)
    assert exposure.iloc[0] == 0.0 and exposure.iloc[1:].isna().all()
    result.write(tmp_path / "out", plot=True)
    assert (tmp_path / "out" / "equity.png").stat().st_size > 0


def test_a_ruined_configuration_does_not_shrink_the_days_an_experiment_judges():
    # Experiments judge every configuration on the days they all have returns. A ruined one's
    # returns after its ruin were 0/0 = NaN, which dropped those days for every configuration.
    from forecast.backtest.metrics import daily_returns, floor_ruin
    from forecast.experiment.judge import judge

    days = pd.bdate_range("2020-01-01", periods=300)
    rng = np.random.default_rng(0)
    curves = {i: pd.Series(1000 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, 300))), index=days)
              for i in range(3)}
    ruined = curves[2].copy()
    ruined.iloc[20], ruined.iloc[21:] = -50.0, 500.0  # below zero on day 20, positive again later
    curves[2] = floor_ruin(ruined)
    returns = {i: daily_returns(c) for i, c in curves.items()}
    assert returns[2].iloc[19] == -1.0 and (returns[2].iloc[20:] == 0.0).all()
    rows = [{"status": "ok", "label": f"c{i}", "ticker": "X"} for i in curves]
    out = judge(rows, returns, {i: returns[0] for i in curves}, spa_reps=50)
    assert out["n_days"] == 299


def test_a_top_up_the_kept_exit_fee_cannot_pay_is_not_counted_as_skipped():
    # $100, a $5 minimum, no rebalance band. Worked out by hand:
    # day 1 open 10: buy 9 shares (100 = 5 + 10 x 9 + 5), the exit's $5 kept in cash.
    # days 2, 3 open 12: the target wants a top-up, but the cash is the kept $5: not an order
    # priced out by its fee, not counted.
    # day 4 open 1: sell 9 for 9, fee 5 -> cash 9.
    # days 5, 6 open 1: an entry wanted, 9 < 5 + 5 fees: two orders skipped for costs.
    bars = path_bars([10, 10, 12, 12, 1, 1, 1], [10, 12, 12, 12, 1, 1, 1])
    preds = preds_on(bars, [0.9, 0.9, 0.9, 0.1, 0.9, 0.9])
    vec, ref = both(bars, preds, LongOnly, {"rebalance_band": 0.0}, cash=100.0, commission=0.0,
                    slippage=0.0, min_commission=5.0)
    assert_same(vec, ref)
    for r in (vec, ref):
        assert list(r.fills["size"].round(9)) == [9.0, -9.0]
        assert r.metrics["strategy"]["orders_skipped_costs"] == 2


def test_buy_and_hold_without_a_band_counts_no_skipped_top_ups():
    # The review's case: one entry that fills, then a wanted top-up on every up day that the
    # cash kept for the exit fee cannot pay. An independent count of orders priced out: none.
    from strategies import BuyAndHold

    bars = load_bundled("KO")
    bars = bars[bars.index >= "2015-01-01"]
    preds = pd.DataFrame({"prob_up": 0.6}, index=bars.index)
    vec, ref = both(bars, preds, BuyAndHold, {"rebalance_band": 0.0}, cash=10_000.0,
                    min_commission=1.0)
    assert_same(vec, ref)
    for r in (vec, ref):
        assert len(r.fills) == 1 and r.fills["size"].iloc[0] > 0
        assert r.metrics["strategy"]["orders_skipped_costs"] == 0


def test_a_ruined_account_reports_no_gain_after_its_ruin_in_both_engines():
    # The squeeze by hand: short 10 at day 1's open (100), day 1 closes at 250: value
    # 1000 + 1000 - 2500 = -500, ruined. The open short is marked at the ruin close, not at
    # the last close (50, a +500 "win"): pnl 10 x (100 - 250) = -1500. The account holds
    # nothing after it: position and cash 0, value floored at 0 like equity. Exposure: held
    # at 1 close of 6 (the ruin's).
    bars, preds = short_squeeze()
    vec, ref = both(bars, preds, LongShort, {}, cash=1000.0, commission=0.0, slippage=0.0)
    assert_same(vec, ref)
    ruin = bars.index[1]
    for r in (vec, ref):
        (trade,) = r.trades.itertuples()
        got = (trade.exit_date, trade.exit_price, trade.pnl, trade.pnl_net)
        assert got == (ruin, 250.0, -1500.0, -1500.0)
        assert trade.open  # no order closed it
        m = r.metrics["strategy"]
        assert (m["n_trades"], m["win_rate"], m["avg_loss"]) == (1, 0.0, -1500.0)
        assert np.isnan(m["avg_win"])
        assert m["exposure"] == pytest.approx(1 / 6)
        assert list(r.ledger["value"]) == [1000.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        assert list(r.ledger["position"]) == [0.0, -10.0, 0.0, 0.0, 0.0, 0.0]
        assert list(r.ledger["cash"]) == [1000.0, 2000.0, 0.0, 0.0, 0.0, 0.0]
