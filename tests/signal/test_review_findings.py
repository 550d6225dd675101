"""What an independent review of `fcast signal` found (each failed on a98588c, the reviewed
commit): a portfolio run of a ticker list followed by --run, a per-share commission, a
short's cover trimmed, buys short of cash filled alphabetically."""

from __future__ import annotations

import json

import pytest
from cli_run import run

from forecast.settings import CostOptions
from forecast.signal.orders import orders_for

TEN = ("AAPL", "MSFT", "JPM", "XOM", "KO", "PG", "IBM", "GE", "WMT", "MRK")


@pytest.mark.slow
def test_signal_run_of_a_portfolio_run_given_tickers_is_a_portfolio_signal(capsys):
    """`fcast portfolio T1..T10` (tickers, not --universe) records a portfolio run; `fcast
    signal --run ID` re-parses its arguments as `fcast signal T1..T10 ...`, which is a
    TICKER signal: ten single-ticker long-only calls instead of the portfolio's weights,
    exit 0, no warning."""
    from forecast.runs import list_runs

    code, _, err = run(capsys, "portfolio", *TEN, "--model", "logreg", "--retrain-every", "63",
                       "--start", "2014-06-01", "--source", "bundled")
    assert code == 0, err
    (record,) = list_runs()
    code, out, err = run(capsys, "signal", "--run", record["id"], "--json", "--no-refresh")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["config"]["kind"] == "portfolio", (doc["config"]["kind"], doc["config"]["strategy"])
    assert doc["weights"] is not None


@pytest.mark.slow
def test_signal_run_of_a_backtest_with_commission_per_share(capsys):
    """A backtest run with --commission-per-share cannot be followed: the signal has no such
    option (a usage error, exit 2), though orders_for supports a per-share fee."""
    from forecast.runs import list_runs

    code, _, err = run(capsys, "backtest", "AAPL", "--model", "logreg", "--start", "2014-01-01",
                       "--retrain-every", "63", "--commission-per-share", "0.005", "--no-plot")
    assert code == 0, err
    (record,) = list_runs()
    code, out, err = run(capsys, "signal", "--run", record["id"], "--no-refresh")
    assert code == 0, err


def costs():
    return CostOptions(100_000, 0.001, 0.0005, 0.0)


def test_an_exit_from_a_short_is_never_trimmed():
    """The engine never trims an exit (strategies/base.py order_exposure: 'an exit is never
    trimmed'); orders_for trims a short's cover to what the cash pays, so a target of 0
    leaves the account short one share."""
    (order,) = orders_for({"A": 0.0}, {"A": 100.0}, {"A": -10}, 1000.5, costs())
    assert order.shares == 10


def test_buys_short_of_cash_are_scaled_alike_not_filled_alphabetically():
    """The portfolio engine scales every buy of a day by one common fraction when the cash
    falls short (forecast/portfolio/engine.py, cash rule); orders_for fills the buys in
    alphabetical order, so the last name alone absorbs the whole shortfall."""
    names = [f"T{i}" for i in range(10)]
    c = CostOptions(100_000, 0.01, 0.0005, 0.0)  # 1% commission
    orders = {o.ticker: o.shares for o in orders_for({t: 0.1 for t in names}, {t: 10.0 for t in names},
                                                     {}, 100_000.0, c)}
    assert max(orders.values()) - min(orders.values()) <= 1, orders
