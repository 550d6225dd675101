"""Trade statistics (open trades marked, none for buy-and-hold) and the dates a run reports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from backtest_inputs import hand_bars
from rich.console import Console

from forecast.backtest import simulate
from forecast.backtest.report import render_report
from forecast.data.synthetic import random_walk_bars
from strategies import LongOnly, LongShort, ProbabilitySized, VolTargeted

APPROX = {"rel": 1e-10, "abs": 1e-8}
TRADE_KEYS = {"n_trades", "n_open_trades", "win_rate", "avg_win", "avg_loss", "profit_factor"}


def random_predictions(bars, start, stop, seed=0) -> pd.DataFrame:
    index = bars.index[start:stop]
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "fold": 0}, index=index)


def report_text(result) -> str:
    console = Console(record=True, width=160)
    render_report(result, console)
    return console.export_text()


def words(text: str) -> str:
    return " ".join(text.split())  # the title wraps


def test_open_trade_is_marked_to_the_last_close_counted_and_flagged(tmp_path):
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.8, 0.9, 0.9]}, index=bars.index[:3])
    cash, comm, slip = 10_000.0, 0.001, 0.01
    r = simulate(bars, preds, LongOnly, cash=cash, commission=comm, slippage=slip)
    buy = 102.0 * (1 + slip)
    size = cash / (buy * (1 + comm))
    last_close = 101.0  # day 3, the fill-only bar after the last prediction
    t = r.trades.iloc[0]
    assert len(r.trades) == 1 and bool(t.open) and t.direction == "long"
    assert (t.entry_date, t.exit_date) == (bars.index[1], bars.index[3])
    assert (t["size"], t.entry_price, t.exit_price) == pytest.approx((size, buy, last_close), **APPROX)
    assert t.pnl == pytest.approx(size * (last_close - buy), **APPROX)
    assert t.pnl_net == pytest.approx(size * (last_close - buy) - size * buy * comm, **APPROX)
    m = r.metrics["strategy"]
    assert (m["n_trades"], m["n_open_trades"], m["win_rate"]) == (1, 1, 0.0)
    assert m["avg_loss"] == pytest.approx(t.pnl_net, **APPROX)
    saved = pd.read_csv(r.write(tmp_path / "run", plot=False) / "trades.csv")
    assert saved["open"].tolist() == [True]
    assert "Open trades (marked to last close)" in report_text(r)


@pytest.mark.parametrize(
    "strategy, params",
    [
        (LongShort, {"upper": 0.6, "lower": 0.4}),
        (ProbabilitySized, {"allow_short": True, "gain": 1.5}),  # rebalances in between
        (VolTargeted, {"vol_window": 10, "allow_short": True}),
    ],
)
def test_net_pnl_over_all_trades_is_the_equity_change(strategy, params):
    bars = random_walk_bars(500, seed=12)
    preds = random_predictions(bars, 150, 450, seed=5)
    preds.iloc[-5:, 0] = 0.95  # end in a position, so the last trade is open
    r = simulate(bars, preds, strategy, params, commission=0.002, slippage=0.001,
                     min_commission=2.0)
    t = r.trades
    assert r.ledger["position"].iloc[-1] != 0
    assert t["open"].tolist() == [False] * (len(t) - 1) + [True]
    assert t["exit_date"].notna().all() and t["pnl_net"].notna().all()
    change = r.equity["strategy"].iloc[-1] - r.equity["strategy"].iloc[0]
    assert t["pnl_net"].sum() == pytest.approx(change, rel=1e-9, abs=1e-6)
    m = r.metrics["strategy"]
    assert m["n_trades"] == len(t) and m["n_open_trades"] == 1
    assert m["win_rate"] == pytest.approx((t["pnl_net"] > 0).mean())


def test_buy_and_hold_has_no_trade_statistics(tmp_path):
    bars = random_walk_bars(300, seed=4)
    preds = random_predictions(bars, 100, 250, seed=1)
    r = simulate(bars, preds, LongShort)
    assert not TRADE_KEYS & set(r.metrics["benchmark"])
    assert TRADE_KEYS <= set(r.metrics["strategy"])
    saved = json.loads((r.write(tmp_path / "run", plot=False) / "metrics.json").read_text())
    assert not TRADE_KEYS & set(saved["benchmark"]) and "n_trades" in saved["strategy"]
    rows = {line.split("│")[1].strip(): line.split("│")[2:4] for line in report_text(r).splitlines()
            if line.count("│") == 4}
    for label in ("Trades", "Win rate", "Avg win", "Avg loss", "Profit factor"):
        strategy_cell, benchmark_cell = (c.strip() for c in rows[label])
        assert strategy_cell and benchmark_cell == "", label
    assert rows["Sharpe"][1].strip()  # the rest of the column is filled


def test_benchmark_entry_and_first_trade_are_reported_apart(tmp_path):
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.3, 0.8, 0.9]}, index=bars.index[:3])
    r = simulate(bars, preds, LongOnly)
    # Buy-and-hold is in at the first bar an order can fill; the strategy waited a day.
    assert r.benchmark_entry == bars.index[1] and r.first_trade == bars.index[2]
    assert r.first_trade == r.fills["date"].min()
    saved = json.loads((r.write(tmp_path / "run", plot=False) / "metrics.json").read_text())
    assert (saved["benchmark_entry"], saved["first_trade"]) == ("2021-01-05", "2021-01-06")
    assert "first_fill" not in saved
    assert "buy-and-hold in at 2021-01-05, first trade 2021-01-06" in words(report_text(r))


def test_a_run_that_never_trades_says_so_in_its_dates():
    bars = hand_bars()
    preds = pd.DataFrame({"prob_up": [0.3, 0.2, 0.1]}, index=bars.index[:3])
    r = simulate(bars, preds, LongOnly)
    assert r.first_trade is None and r.benchmark_entry == bars.index[1]
    assert r.to_dict()["first_trade"] is None
    assert "first trade none" in words(report_text(r))
    assert np.isnan(r.metrics["strategy"]["win_rate"]) and r.metrics["strategy"]["n_open_trades"] == 0
