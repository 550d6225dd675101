"""The backtrader adapter: fill convention, costs, equity, benchmark, no look-ahead."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from backtest_inputs import hand_bars
from reference_backtest import simulate
from rich.console import Console

from forecast.backtest import simulate as run_backtest  # the engine; `simulate` here is the reference
from forecast.backtest.report import render_report, summary_table
from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.errors import ConfigError, DataError
from strategies import LongOnly, LongShort, ProbabilitySized, VolTargeted

APPROX = {"rel": 1e-10, "abs": 1e-8}


def random_predictions(bars, start, stop, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = bars.index[start:stop]
    up = (bars["close"].shift(-1) > bars["close"]).astype(float).loc[index]
    return pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "actual_up": up, "fold": 0}, index=index)


@pytest.fixture(scope="module")
def walk():
    return random_walk_bars(700, seed=3)


@pytest.fixture(scope="module")
def long_short_run(walk):
    preds = random_predictions(walk, 200, 500, seed=1)
    return (
        walk,
        preds,
        run_backtest(
            walk, preds, LongShort, {"upper": 0.6, "lower": 0.4}, name="long-short",
            commission=0.002, slippage=0.001,
        ),
    )


def test_hand_computed_fill_costs_and_equity():
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.8, 0.9, 0.2]}, index=bars.index[:3])
    cash, comm, slip = 10_000.0, 0.001, 0.01
    r = run_backtest(bars, preds, LongOnly, cash=cash, commission=comm, slippage=slip)

    # Decision on day 0's close -> buy at day 1's open + slippage, all the cash can pay for.
    buy = 102.0 * (1 + slip)
    size = cash / (buy * (1 + comm))
    cash1 = cash - size * buy - size * buy * comm
    # Day 2's prediction (0.2) -> sell at day 3's open - slippage.
    sell = 103.0 * (1 - slip)
    cash3 = cash1 + size * sell - size * sell * comm
    expected = [cash, cash1 + size * 104.0, cash1 + size * 105.0, cash3]

    assert list(r.equity.index) == list(bars.index[:4])  # the feed ends one bar after the last prediction
    assert r.equity["strategy"].tolist() == pytest.approx(expected, **APPROX)
    assert r.fills["price"].tolist() == pytest.approx([buy, sell], **APPROX)
    assert r.fills["commission"].tolist() == pytest.approx([size * buy * comm, size * sell * comm], **APPROX)
    assert r.fills["date"].tolist() == [bars.index[1], bars.index[3]]
    t = r.trades.iloc[0]
    assert (t.entry_date, t.exit_date, t.direction) == (bars.index[1], bars.index[3], "long")
    assert (t["size"], t.entry_price, t.exit_price) == pytest.approx((size, buy, sell), **APPROX)
    assert t.pnl == pytest.approx(size * (sell - buy), **APPROX)
    assert t.pnl_net == pytest.approx(size * (sell - buy) - size * (buy + sell) * comm, **APPROX)
    assert r.metrics["strategy"]["total_return"] == pytest.approx(cash3 / cash - 1, **APPROX)
    assert r.metrics["strategy"]["n_trades"] == 1
    # Benchmark: in at day 1's open, no costs, marked at each close.
    assert r.equity["benchmark"].tolist() == pytest.approx(
        [cash, cash * 104 / 102, cash * 105 / 102, cash * 101 / 102], **APPROX
    )
    assert r.benchmark_entry == bars.index[1] and r.start == bars.index[0] and r.end == bars.index[3]
    assert r.first_trade == bars.index[1]
    assert r.predictions["target"].tolist() == [1.0, 1.0, 0.0]


def test_commission_per_share_with_minimum():
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.8, 0.9, 0.2]}, index=bars.index[:3])
    r = run_backtest(
        bars,
        preds,
        LongOnly,
        cash=1_000.0,
        commission=0.0,
        commission_per_share=0.01,
        min_commission=1.0,
        slippage=0.0,
    )
    # ~9.8 shares: 0.098 per-share fee is under the 1.0 minimum, and the closing order's
    # minimum fee (1.0) stays in cash
    size = (1_000.0 - 1.0 - 1.0) / 102.0
    assert r.fills["size"].abs().tolist() == pytest.approx([size, size], **APPROX)
    assert r.fills["commission"].tolist() == pytest.approx([1.0, 1.0], **APPROX)
    assert size != int(size)  # fractional sizes are kept


def test_equity_identity_at_every_bar(long_short_run):
    _, _, r = long_short_run
    ledger = r.ledger
    assert (ledger["position"] < 0).any() and (ledger["position"] > 0).any()
    np.testing.assert_allclose(
        ledger["cash"] + ledger["position"] * ledger["close"], ledger["value"], rtol=1e-12
    )


def reference_run(bars, preds, targets, **costs):
    """The plain-python re-simulation over the bars the feed holds (no warm-up)."""
    first = bars.index.get_loc(preds.index[0])
    last = bars.index.get_loc(preds.index[-1]) + 1
    span = bars.iloc[first : last + 1]
    decided = pd.Series(targets, index=preds.index).reindex(span.index).to_numpy(dtype=float)
    return span.index, simulate(span["open"].to_numpy(), span["close"].to_numpy(), decided, **costs)


def long_short_targets(preds, upper=0.6, lower=0.4):
    p = preds["prob_up"].to_numpy()
    return np.select([p > upper, p < lower], [1.0, -1.0], 0.0)


def test_equity_fills_and_trades_match_a_plain_python_resimulation(long_short_run):
    bars, preds, r = long_short_run
    dates, sim = reference_run(bars, preds, long_short_targets(preds), cash=100_000.0,
                               commission=0.002, slippage=0.001)
    np.testing.assert_allclose(r.equity["strategy"], sim.value, rtol=1e-12)
    np.testing.assert_allclose(r.ledger["position"], sim.position, rtol=1e-12, atol=1e-9)
    bar, size, price, fee = (np.array(col) for col in zip(*sim.fills, strict=True))
    assert r.fills["date"].tolist() == list(dates[bar])
    np.testing.assert_allclose(r.fills["size"], size, rtol=1e-12)
    np.testing.assert_allclose(r.fills["price"], price, rtol=1e-12)
    np.testing.assert_allclose(r.fills["commission"], fee, rtol=1e-12)


def test_benchmark_total_return_is_close_over_entry_open(long_short_run):
    bars, preds, r = long_short_run
    entry = bars.index[bars.index.get_loc(preds.index[0]) + 1]
    last = bars.index[bars.index.get_loc(preds.index[-1]) + 1]
    assert r.benchmark_entry == entry and r.end == last
    expected = bars.at[last, "close"] / bars.at[entry, "open"] - 1
    assert r.metrics["benchmark"]["total_return"] == pytest.approx(expected, rel=1e-12)


def test_orders_fill_at_the_open_after_the_decision(long_short_run):
    bars, preds, r = long_short_run
    slip = 0.001
    targets = r.predictions.set_index("date")["target"]
    pos = bars.index.get_indexer(r.fills["date"])
    decided = bars.index[pos - 1]
    # Every fill is the bar after a prediction, at that bar's open moved by slippage.
    assert decided.isin(preds.index).all()
    opens = bars["open"].to_numpy()[pos]
    side = np.sign(r.fills["size"].to_numpy())
    np.testing.assert_allclose(r.fills["price"], opens * (1 + side * slip), rtol=1e-12)
    # Every trade's entry follows a prediction whose target called for that direction.
    entry_pos = bars.index.get_indexer(r.trades["entry_date"])
    called = targets.loc[bars.index[entry_pos - 1]].to_numpy()
    want = np.where(r.trades["direction"] == "long", 1.0, -1.0)
    assert len(r.trades) > 10 and (np.sign(called) == want).all()
    # The opening fill of each trade is on its entry date, at that open +/- slippage.
    opening = r.fills.drop_duplicates("date", keep="last").set_index("date").loc[r.trades["entry_date"]]
    entry_open = bars["open"].to_numpy()[entry_pos]
    np.testing.assert_allclose(opening["price"], entry_open * (1 + want * slip), rtol=1e-12)


def test_every_trade_matches_the_resimulated_trade(long_short_run):
    """Entry and exit prices (size-weighted over rebalancing fills), sizes and P&L of every
    trade, short and flipped ones included."""
    bars, preds, r = long_short_run
    dates, sim = reference_run(bars, preds, long_short_targets(preds), cash=100_000.0,
                               commission=0.002, slippage=0.001)
    want = pd.DataFrame(sim.trades)
    got = r.trades
    assert len(got) == len(want) > 10
    assert (got["direction"] == "short").any() and (got["size"] != got["size"].iloc[0]).any()
    flips = got["entry_date"].iloc[1:].to_numpy() == got["exit_date"].iloc[:-1].to_numpy()
    assert flips.any()  # one order closed a trade and opened the next
    assert got["entry_date"].tolist() == list(dates[want["entry_bar"]])
    assert got["exit_date"].tolist() == list(dates[want["exit_bar"]])
    assert got["direction"].tolist() == want["direction"].tolist()
    assert got["open"].tolist() == want["open"].tolist()
    for col in ("size", "entry_price", "exit_price"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, err_msg=col)
    for col in ("pnl", "pnl_net"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-9, atol=1e-7, err_msg=col)


@pytest.mark.parametrize(
    "strategy, params",
    [
        (LongOnly, None),
        (LongShort, None),
        (ProbabilitySized, {"allow_short": True}),
        (VolTargeted, {"vol_window": 10}),
        (VolTargeted, {"method": "garch", "garch_window": 120, "refit_every": 15}),
    ],
)
def test_future_bars_do_not_change_past_decisions(strategy, params):
    """Rewrite everything after day k (prices and predictions): nothing up to k may move."""
    bars = ar1_bars(330, seed=5)
    preds = random_predictions(bars, 150, 320, seed=2)
    k = bars.index[230]
    shocked = bars.copy()
    after = shocked.index > k
    shocked.loc[after, ["open", "high", "low", "close"]] *= 1.5
    shocked_preds = preds.copy()
    shocked_preds.loc[shocked_preds.index > k, "prob_up"] = 1 - shocked_preds["prob_up"]
    base = run_backtest(bars, preds, strategy, params)
    moved = run_backtest(shocked, shocked_preds, strategy, params)
    upto = base.equity.index <= k
    np.testing.assert_array_equal(base.equity["strategy"][upto], moved.equity["strategy"][upto])
    past = base.predictions["date"] <= k
    np.testing.assert_array_equal(base.predictions["target"][past], moved.predictions["target"][past])
    assert base.predictions["target"].notna().all()
    # ...and the later half did change, so the check had something to detect.
    assert not np.array_equal(base.equity["strategy"], moved.equity["strategy"])


def test_warmup_bars_are_never_traded():
    bars = random_walk_bars(300, seed=8)
    preds = random_predictions(bars, 100, 200, seed=3)
    preds["prob_up"] = 0.9
    r = run_backtest(bars, preds, VolTargeted, {"vol_window": 30})
    assert r.equity.index[0] == preds.index[0]
    assert r.fills["date"].min() == r.benchmark_entry == r.first_trade
    assert r.ledger["position"].iloc[0] == 0


def test_zero_trade_run_is_a_result(tmp_path):
    bars = random_walk_bars(120, seed=4)
    preds = random_predictions(bars, 20, 100)
    preds["prob_up"] = 0.3
    r = run_backtest(bars, preds, LongOnly)
    m = r.metrics["strategy"]
    assert m["n_trades"] == 0 and m["total_return"] == 0 and m["exposure"] == 0
    assert np.isnan(m["sharpe"]) and np.isnan(m["win_rate"])
    assert r.trades.empty and list(r.trades.columns)[:2] == ["entry_date", "exit_date"]
    out = r.write(tmp_path / "zero", plot=False)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["strategy"]["sharpe"] is None and saved["strategy"]["n_trades"] == 0
    # Buy-and-hold still enters on the first bar that can fill; the strategy never did.
    assert r.first_trade is None and saved["first_trade"] is None
    assert saved["benchmark_entry"] == r.equity.index[1].date().isoformat()


def test_write_outputs(tmp_path, long_short_run):
    _, preds, r = long_short_run
    r.model = "logistic"
    out = r.write(tmp_path / "run")
    saved = json.loads((out / "metrics.json").read_text())
    keys = {"ticker", "model", "strategy", "benchmark", "start", "end", "benchmark_entry", "first_trade"}
    assert keys <= set(saved) and "first_fill" not in saved
    assert saved["model"] == "logistic" and saved["strategy"]["name"] == "long-short"
    assert saved["benchmark"]["total_return"] == pytest.approx(r.metrics["benchmark"]["total_return"])
    assert saved["benchmark_entry"] == r.benchmark_entry.date().isoformat()
    assert saved["first_trade"] == r.first_trade.date().isoformat()
    equity = pd.read_csv(out / "equity.csv")
    assert list(equity.columns) == ["date", "strategy", "benchmark"] and len(equity) == len(r.equity)
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades.columns) == [
        "entry_date",
        "exit_date",
        "direction",
        "size",
        "entry_price",
        "exit_price",
        "pnl",
        "pnl_net",
        "open",
    ]
    predictions = pd.read_csv(out / "predictions.csv")
    assert list(predictions.columns) == ["date", "prob_up", "target", "actual_up"]
    assert len(predictions) == len(preds)
    assert (out / "equity.png").stat().st_size > 1000


def test_same_inputs_same_numbers(walk):
    preds = random_predictions(walk, 300, 400, seed=9)
    a = run_backtest(walk, preds, ProbabilitySized)
    b = run_backtest(walk, preds, ProbabilitySized)
    pd.testing.assert_frame_equal(a.equity, b.equity)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize(
    "mutate, error",
    [
        (lambda b, p: (b, p.iloc[:0]), ConfigError),
        (lambda b, p: (b, p.set_axis(p.index + pd.Timedelta(hours=1))), DataError),
        (lambda b, p: (b, p.assign(prob_up=p["prob_up"] + 1)), DataError),
        (lambda b, p: (b, p.drop(columns="prob_up")), DataError),
        (lambda b, p: (b.drop(columns="open"), p), DataError),
        (lambda b, p: (b, p.iloc[-1:].set_axis(b.index[-1:])), ConfigError),
    ],
)
def test_bad_input_raises_one_line(mutate, error):
    bars = random_walk_bars(60, seed=1)
    bars_in, preds_in = mutate(bars, random_predictions(bars, 10, 50))
    with pytest.raises(error) as info:
        run_backtest(bars_in, preds_in, LongOnly)
    assert "\n" not in str(info.value) and str(info.value)


def test_bad_strategy_or_parameter_is_config_error(walk):
    preds = random_predictions(walk, 300, 320)
    with pytest.raises(ConfigError, match="takes a backtrader Strategy class"):
        run_backtest(walk, preds, "long-only")  # names are resolved above the engine
    with pytest.raises(ConfigError, match="no parameter 'treshold'"):
        run_backtest(walk, preds, LongOnly, {"treshold": 0.6})
    with pytest.raises(ConfigError, match="lower <= upper"):
        run_backtest(walk, preds, LongShort, ["upper=0.4", "lower=0.6"])
    with pytest.raises(ConfigError):
        run_backtest(walk, preds, LongOnly, cash=0)


def test_report_tables(long_short_run):
    _, _, r = long_short_run
    console = Console(record=True, width=140)
    render_report(r, console)
    console.print(summary_table([r, r]))
    text = console.export_text()
    assert "Buy & hold" in text and "Sharpe" in text
    assert f"{r.metrics['benchmark']['total_return']:.2%}" in text
    assert text.count("long-short") >= 3
