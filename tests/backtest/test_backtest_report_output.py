"""What a user sees of one backtest: equity.png and the terminal report."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from forecast.backtest import simulate
from forecast.backtest.plot import equity_figure, plot_equity
from forecast.backtest.report import render_report, summary_table
from forecast.data.synthetic import random_walk_bars
from forecast.evaluate.predictions import Predictions
from forecast.formatting import fmt
from strategies import LongOnly

TRADE_LABELS = ("Trades", "Open trades (marked to last close)", "Win rate", "Avg win", "Avg loss",
                "Profit factor")
TRADE_KEYS = ("n_trades", "n_open_trades", "win_rate", "avg_win", "avg_loss", "profit_factor")


@pytest.fixture(scope="module")
def result():
    """Three calendar years and a bit, starting and ending mid-year, traded often, with odd
    costs and cash so that each shows up verbatim."""
    bars = random_walk_bars(900, seed=4, sigma=0.012, start="2010-03-01", ticker="AAPL")
    index = bars.index[120:860]
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"prob_up": rng.uniform(0.0, 1.0, len(index))}, index=index)
    frame.attrs.update(model="logreg", window=20, retrain_every=63, seed=0)
    preds = Predictions.from_frame(frame, bars)
    return simulate(bars, preds, LongOnly, {"threshold": 0.55}, name="long-only", cash=250_000.0,
                    commission=0.002, slippage=0.0007)


def _line(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return line


# ---------------------------------------------------------------- equity.png


def test_equity_is_on_a_log_scale_with_separated_labels(result):
    fig = equity_figure(result)
    top = fig.axes[0]
    assert top.get_yscale() == "log"
    assert "equity" in top.get_ylabel() and "log" in top.get_ylabel()
    assert top.yaxis.get_major_formatter()(100_000.0, 0) == "100,000"
    assert top.yaxis.get_minor_formatter()(150_000.0, 0) == ""  # minor ticks stay unlabelled
    fig.canvas.draw()
    labels = [t.get_text() for t in top.get_yticklabels() if t.get_text()]
    assert len(labels) >= 2 and all("," in t for t in labels if float(t.replace(",", "")) >= 1000)


def test_title_block_has_period_costs_and_key_figures(result):
    fig = equity_figure(result)
    text = fig.get_suptitle() + "\n" + fig.axes[0].get_title()
    assert "AAPL" in text and "long-only" in text and "threshold=0.55" in text and "logreg" in text
    assert f"{result.start.date()} to {result.end.date()}" in text
    assert "commission 0.20%" in text and "slippage 0.07%" in text
    s, b = result.metrics["strategy"], result.metrics["benchmark"]
    assert f"strategy: CAGR {fmt(s['cagr'], 'pct')}, Sharpe {fmt(s['sharpe'], 'num')}" in text
    assert f"buy-and-hold: CAGR {fmt(b['cagr'], 'pct')}, Sharpe {fmt(b['sharpe'], 'num')}" in text


def test_exposure_strip_is_the_invested_fraction_of_equity(result):
    fig = equity_figure(result)
    assert len(fig.axes) == 3
    line = _line(fig.axes[2], "exposure")
    ledger = result.ledger
    expected = ledger["position"].to_numpy() * ledger["close"].to_numpy() / ledger["value"].to_numpy()
    assert np.allclose(np.asarray(line.get_ydata(), dtype=float), expected)
    assert expected.max() > 0.5 and expected.min() == 0.0  # the run was in and out of the market


def test_no_ledger_no_exposure_strip(result):
    fig = equity_figure(dataclasses.replace(result, ledger=None))
    assert len(fig.axes) == 2
    assert fig.axes[0].get_yscale() == "log"


def test_trades_are_marked_on_the_strategy_curve(result):
    fig = equity_figure(result)
    trades = result.trades
    assert len(trades) > 5
    entries, exits = _line(fig.axes[0], "entries"), _line(fig.axes[0], "exits")
    closed = trades[~trades["open"].astype(bool)]
    assert len(entries.get_xdata()) == len(trades)
    assert len(exits.get_xdata()) == len(closed)  # an open trade has no exit yet
    curve = result.equity["strategy"]
    assert np.allclose(entries.get_ydata(), curve.loc[pd.DatetimeIndex(trades["entry_date"])].to_numpy())
    assert np.allclose(exits.get_ydata(), curve.loc[pd.DatetimeIndex(closed["exit_date"])].to_numpy())


def test_plot_equity_writes_a_png(result, tmp_path):
    path = tmp_path / "equity.png"
    plot_equity(result, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- terminal report


def report(result, width=80, **kwargs) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    render_report(result, console, **kwargs)
    return console.export_text()


def rows(text: str) -> list[list[str]]:
    """The body cells of every table in `text`."""
    return [[c.strip() for c in line.strip().strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]


def test_titles_fit_on_one_line_at_80_columns(result):
    text = report(result)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    # A table's title is the line right above its top border: the whole title, unbroken.
    titles = [lines[i - 1].strip() for i, line in enumerate(lines) if line.startswith("┏")]
    expected = f"AAPL long-only, {result.start.date()} to {result.end.date()}"
    assert titles == [expected, "Calendar-year returns"]
    entry = f"buy-and-hold in at {result.benchmark_entry.date()}, first trade {result.first_trade.date()}"
    assert entry in lines


def test_long_titles_are_not_split_at_80_columns(result):
    r = dataclasses.replace(result, strategy="strategies/my_strategies.py:MeanReversion")
    lines = report(r).splitlines()
    titles = [lines[i - 1].strip() for i, line in enumerate(lines) if line.startswith("┏")]
    assert titles[0] == f"AAPL {r.strategy}, {r.start.date()} to {r.end.date()}"


def test_costs_cash_strategy_and_model_are_shown(result):
    text = report(result)
    assert "commission 0.20%, slippage 0.07%" in text and "cash 250,000" in text
    assert "strategy: long-only (" in text and "threshold=0.55" in text
    assert "model: logreg" in text and "window 20" in text and "retrain every 63 bars" in text
    # Given the parameters it ran with, the report lists them, defaults filled in.
    text = report(result, model_params={"C": 0.5})
    assert "C=0.5" in text and "max_iter=1000" in text
    text = report(result, width=120, model_params={})
    assert "model: logreg (C=1, input_mode=latest, max_iter=1000)" in text


def test_buy_and_hold_shows_no_trade_statistics(result):
    # Even if buy-and-hold's metrics carried trade statistics, they mean nothing for it.
    metrics = {**result.metrics, "benchmark": {**result.metrics["benchmark"], **dict.fromkeys(TRADE_KEYS, 3)}}
    r = dataclasses.replace(result, metrics=metrics)
    table = {cells[0]: cells[1:] for cells in rows(report(r, width=120)) if len(cells) == 3}
    for label in TRADE_LABELS:
        strategy, bench = table[label]
        assert strategy and bench == "", label
    assert table["Exposure"][1] == fmt(r.metrics["benchmark"]["exposure"], "pct")
    assert table["Sharpe"][1] == fmt(r.metrics["benchmark"]["sharpe"], "num")


def test_yearly_returns_match_an_independent_computation(result):
    eq = result.equity
    expected = {}
    for year in sorted(set(eq.index.year)):
        before = eq[eq.index.year < year]
        base = before.iloc[-1] if len(before) else eq.iloc[0]
        end = eq[eq.index.year == year].iloc[-1]
        ret = end / base - 1
        expected[year] = [fmt(ret["strategy"], "spct"), fmt(ret["benchmark"], "spct"),
                          fmt(ret["strategy"] - ret["benchmark"], "spct")]
    years = {cells[0]: cells[1:] for cells in rows(report(result)) if len(cells) == 4}
    assert len(years) == len(expected) >= 3
    for label, values in years.items():
        assert values == expected[int(label[:4])], label
    labels = list(years)
    first, last = result.start, result.end
    assert labels[0] == f"{first.year} (partial, from {first:%m-%d})"
    assert labels[-1] == f"{last.year} (partial, to {last:%m-%d})"
    assert all(label.isdigit() for label in labels[1:-1])


def test_summary_table_still_renders(result):
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(summary_table([result, result]))
    text = console.export_text()
    assert "Backtest summary" in text and text.count("AAPL") == 2
