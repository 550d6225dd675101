"""Day-by-day parity of `fcast signal` with the backtest (issue 24's "done when").

History is replayed: the store holds the bars cut at day d, for every d of a span, and
each day's signal is compared with the row of day d of ONE backtest run over the whole
span (an independent run: it never sees the cut data). With the test span pinned
(`test_start`) they must be equal bit for bit: P(up) and the strategy's target, one
ticker and a portfolio. A control replays without the pin and finds differences (proof
the comparison can fail); `fcast signal --as-of D` is also the last row of `fcast
backtest --end D` with the same options, pinned or not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_run import run

import forecast as fc
from forecast.data.store import Store
from forecast.settings import ModelOptions, WalkForwardOptions
from forecast.signal import SignalConfig, portfolio_signal, ticker_signals

pytestmark = pytest.mark.slow

TEST_START = "2017-05-01"


def store_bundled(tickers, since="2014-06-01"):
    for ticker in tickers:
        Store().write(fc.load(ticker, source="bundled").loc[since:], ticker, source="test")


def ticker_config(**wf) -> SignalConfig:
    return SignalConfig(tickers=("AAPL",), model=ModelOptions("logreg"), strategy="long-only",
                        walk_forward=WalkForwardOptions(retrain_every=21, **wf))


def same(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True))


def test_every_days_ticker_signal_is_that_days_row_of_one_backtest_bit_for_bit():
    store_bundled(["AAPL"])
    config = ticker_config(test_start=TEST_START)
    whole = fc.run_backtest(fc.load("AAPL"), model="logreg", strategy="long-only",
                            walk_forward_kwargs={"retrain_every": 21, "test_start": TEST_START})
    rows = whole.predictions.set_index("date")
    days = rows.index[1:]  # the first test day alone leaves no bar to fill on, in both
    assert len(days) > 120
    mismatched = []
    for day in days:
        (made,) = ticker_signals(config, as_of=day)
        assert made.as_of == day
        if not (same(made.prob_up, rows.at[day, "prob_up"]) and same(made.target, rows.at[day, "target"])):
            mismatched.append(day)
    assert mismatched == []
    assert rows["target"].nunique() > 1  # the strategy changed its mind on the way: a real replay


def test_control_without_the_pin_the_replayed_signals_differ_from_the_backtests_rows():
    store_bundled(["AAPL"])
    n_test = 140
    whole = fc.run_backtest(fc.load("AAPL"), model="logreg", strategy="long-only",
                            walk_forward_kwargs={"retrain_every": 21, "test_days": n_test})
    rows = whole.predictions.set_index("date")
    config = ticker_config(test_days=n_test)  # counted back from each day's last bar: the folds move
    moved = [day for day in rows.index[-60::3]
             if not same(ticker_signals(config, as_of=day)[0].prob_up, rows.at[day, "prob_up"])]
    assert moved  # the comparison above can fail


@pytest.mark.parametrize("pin", [None, TEST_START])
def test_signal_as_of_d_is_the_last_row_of_backtest_end_d(tmp_path, capsys, pin):
    store_bundled(["AAPL"])
    options = ["--model", "logreg", "--retrain-every", "21", *(["--test-start", pin] if pin else [])]
    for day in ("2017-08-15", "2017-10-02"):
        code, out, err = run(capsys, "signal", "AAPL", *options, "--as-of", day, "--json", "--no-refresh")
        assert code == 0, err
        made = json.loads(out)["signals"][0]
        folder = tmp_path / f"bt-{pin}-{day}"
        code, _, err = run(capsys, "backtest", "AAPL", *options, "--end", day, "--output", folder,
                           "--no-plot")
        assert code == 0, err
        last = pd.read_csv(folder / "predictions.csv").iloc[-1]
        assert last["date"] == day == made["as_of"]
        assert made["prob_up"] == last["prob_up"] and made["target"] == last["target"]


def test_every_few_days_portfolio_signal_is_that_days_row_of_one_portfolio_run():
    tickers = ("AAPL", "MSFT", "JPM", "XOM", "KO")
    store_bundled(tickers)
    config = SignalConfig(kind="portfolio", tickers=tickers, model=ModelOptions("logreg"),
                          strategy="long-short", params={"k": 1}, portfolio={"pooled": True},
                          walk_forward=WalkForwardOptions(retrain_every=21, test_start="2017-07-03"))
    from forecast.portfolio.run import run_portfolio_backtest

    full = run_portfolio_backtest(list(tickers), model="logreg", strategy="long-short", params={"k": 1},
                                  walk_forward={"retrain_every": 21, "test_start": "2017-07-03", "seed": 0,
                                                "window": 20},
                                  model_params=ModelOptions("logreg").params())
    targets, preds = full.backtest.targets, full.predictions
    days = targets.index[1::6]
    assert len(days) >= 15
    for day in days:
        made = portfolio_signal(config, as_of=day, cache=False)
        assert made.as_of == day
        assert same(made.weights.reindex(targets.columns), targets.loc[day])
        assert same(made.forecasts["prob_up"], preds.xs(day, level="date")["prob_up"])
    assert (targets.loc[days].abs().sum(axis=1) > 0).all()  # it held positions on those days


@pytest.mark.keras
def test_a_networks_signal_is_its_days_row_too():
    store_bundled(["AAPL"], since="2015-06-01")
    config = SignalConfig(tickers=("AAPL",), model=ModelOptions("mlp", epochs=1), strategy="long-only",
                          walk_forward=WalkForwardOptions(retrain_every=42, test_start="2017-08-01"))
    whole = fc.run_backtest(fc.load("AAPL"), model="mlp", model_params=ModelOptions("mlp", epochs=1).params(),
                            strategy="long-only",
                            walk_forward_kwargs={"retrain_every": 42, "test_start": "2017-08-01", "seed": 0})
    rows = whole.predictions.set_index("date")
    for day in rows.index[[5, 30, 50, -1]]:
        (made,) = ticker_signals(config, as_of=day)
        assert same(made.prob_up, rows.at[day, "prob_up"]) and same(made.target, rows.at[day, "target"])


@pytest.mark.parametrize(("strategy", "params"), [
    ("long-short", {}), ("probability-sized", {}), ("vol-targeted", {}),
    ("vol-targeted", {"method": "garch"}),
], ids=["long-short", "probability-sized", "vol-targeted", "vol-targeted-garch"])
def test_strategies_that_read_prices_and_volatility_signal_their_backtests_targets(strategy, params):
    store_bundled(["AAPL"], since="2015-01-01")
    config = SignalConfig(tickers=("AAPL",), model=ModelOptions("logreg"), strategy=strategy, params=params,
                          walk_forward=WalkForwardOptions(retrain_every=30, test_start=TEST_START))
    whole = fc.run_backtest(fc.load("AAPL"), model="logreg", strategy=strategy, params=params,
                            walk_forward_kwargs={"retrain_every": 30, "test_start": TEST_START, "seed": 0})
    rows = whole.predictions.set_index("date")
    for day in rows.index[3::29]:
        (made,) = ticker_signals(config, as_of=day)
        assert same(made.prob_up, rows.at[day, "prob_up"]) and same(made.target, rows.at[day, "target"]), day


def test_a_dividend_after_d_moves_no_signal_as_of_d():
    """A vendor back-adjusts every price before a dividend's ex-date by its factor: a later
    dividend rescales the whole history up to D. The forecast as of D must not move (beyond
    the rescaling's rounding), nor the target. Before the labels snapped returns below 1e-12
    to zero, equal opens rescaled bar by bar flipped three labels and moved P(up) by 0.01."""
    raw = fc.load("AAPL", source="bundled").loc["2014-06-01":"2017-10-31"]
    raw = raw.assign(adj_close=raw["close"])
    later = raw.assign(adj_close=raw["close"].where(raw.index >= "2017-09-01", raw["close"] * 0.98))
    config = ticker_config(test_start=TEST_START)
    made = {}
    for name, bars in (("none", raw), ("dividend", later)):
        Store().write(bars, "AAPL", source="test")
        (made[name],) = ticker_signals(config, as_of="2017-08-15")
    assert made["dividend"].close == pytest.approx(made["none"].close * 0.98)  # the history moved ...
    assert made["dividend"].prob_up == pytest.approx(made["none"].prob_up, abs=1e-9)  # ... the call did not
    assert made["dividend"].target == made["none"].target


def test_equal_opens_rescaled_bar_by_bar_are_not_up():
    from forecast.features.target import forward_return, make_target

    opens = pd.Series([100.0, 100.0, 100.0, 100.0])
    factor = 0.98 * (1 + np.array([0.0, 1e-16, -1e-16, 2e-16]))  # adj_close / close, bar by bar
    bars = pd.DataFrame({"open": opens * factor, "close": opens * factor})
    assert (np.abs(bars["open"].pct_change().dropna()) < 1e-12).all()
    assert forward_return(bars, 1).dropna().eq(0.0).all()
    assert make_target(bars, 1).dropna().eq(0.0).all()
