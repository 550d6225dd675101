"""Metrics on hand-made equity curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast.backtest.metrics import (
    cagr,
    compute_metrics,
    max_drawdown,
    trade_metrics,
)
from forecast.errors import DataError
from forecast.jsonsafe import json_safe
from forecast.stats import sharpe_ratio, sortino_ratio


def curve(values) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)), dtype=float)


def test_max_drawdown_depth_and_duration():
    # Peak 120, trough 90 (-25%); under water for bars 2, 3, 4; a new high at 130, then 1 bar under.
    depth, bars = max_drawdown(curve([100, 120, 90, 100, 110, 130, 120]))
    assert depth == pytest.approx(-0.25) and bars == 3
    # Never recovers: the run lasts to the end.
    assert max_drawdown(curve([100, 90, 95, 99, 98])) == (pytest.approx(-0.10), 4)
    assert max_drawdown(curve([100, 101, 102])) == (0.0, 0)


def test_sharpe_and_sortino_formulas():
    zero_mean = pd.Series([0.01, -0.02, 0.015, 0.005, -0.01])
    assert sharpe_ratio(zero_mean) == pytest.approx(0.0, abs=1e-12)
    r = pd.Series([0.02, -0.01, 0.01, 0.0])
    m = 0.005
    sd = math.sqrt(((0.015**2) + (0.015**2) + (0.005**2) + (0.005**2)) / 3)
    assert sharpe_ratio(r) == pytest.approx(m / sd * math.sqrt(252))
    assert sortino_ratio(r) == pytest.approx(m / math.sqrt(0.01**2 / 4) * math.sqrt(252))
    rf = 0.05
    daily = 1.05 ** (1 / 252) - 1
    assert sharpe_ratio(r, risk_free=rf) == pytest.approx((m - daily) / sd * math.sqrt(252))
    # Sortino subtracts the same daily rate before taking the downside deviation.
    excess = [0.02 - daily, -0.01 - daily, 0.01 - daily, -daily]
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / 4)
    assert sortino_ratio(r, rf) == pytest.approx((m - daily) / downside * math.sqrt(252), rel=1e-12)
    m_rf = compute_metrics(curve(100 * np.cumprod([1.0, 1.02, 0.99, 1.01, 1.0])), risk_free=rf)
    assert m_rf["sharpe"] == pytest.approx((m - daily) / sd * math.sqrt(252), rel=1e-9)
    assert math.isnan(sharpe_ratio(pd.Series([0.01, 0.01, 0.01])))


def test_sharpe_from_equity_matches_returns():
    values = 100 * np.cumprod([1, 1.01, 0.99, 1.02, 1.0, 0.995])
    m = compute_metrics(curve(values))
    r = np.diff(values) / values[:-1]
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    assert m["volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252))
    assert m["total_return"] == pytest.approx(values[-1] / values[0] - 1)


def test_cagr_counts_bars_as_years():
    assert cagr(curve(np.linspace(100, 200, 253))) == pytest.approx(1.0)  # 252 returns = 1 year
    assert cagr(curve(np.linspace(100, 200, 505))) == pytest.approx(math.sqrt(2) - 1)
    assert cagr(curve([100, 100, 100])) == 0.0


def test_calmar_is_cagr_over_drawdown():
    values = np.concatenate(
        [np.linspace(100, 150, 127), np.linspace(150, 120, 64), np.linspace(120, 160, 62)]
    )
    m = compute_metrics(curve(values))
    assert m["max_drawdown"] == pytest.approx(-0.2)
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.2)
    assert math.isnan(compute_metrics(curve([100, 101, 102]))["calmar"])


def test_trade_metrics_count_open_trades_marked():
    # The last trade is open, its pnl_net marked to the last close: it counts like the others.
    trades = pd.DataFrame(
        {
            "exit_date": pd.to_datetime(["2020-01-02", "2020-01-05", "2020-01-09", "2020-01-12"]),
            "pnl_net": [100.0, -50.0, 30.0, -10.0],
            "open": [False, False, False, True],
        }
    )
    m = trade_metrics(trades)
    assert m["n_trades"] == 4 and m["n_open_trades"] == 1
    assert m["win_rate"] == pytest.approx(2 / 4)
    assert m["avg_win"] == pytest.approx(65.0) and m["avg_loss"] == pytest.approx(-30.0)
    assert m["profit_factor"] == pytest.approx(130 / 60)
    empty = trade_metrics(trades.iloc[:0])
    assert empty["n_trades"] == 0 and empty["n_open_trades"] == 0
    assert all(math.isnan(empty[k]) for k in ("win_rate", "avg_win", "profit_factor"))


def test_no_trades_given_means_no_trade_statistics():
    # Buy-and-hold: a single position never closed is no sample of wins and losses.
    m = compute_metrics(curve([100.0, 101.0, 99.0]))
    assert not {"n_trades", "n_open_trades", "win_rate", "avg_win", "avg_loss", "profit_factor"} & set(m)
    assert "n_trades" in compute_metrics(curve([100.0, 101.0]), trades=pd.DataFrame(columns=["pnl_net"]))


def test_exposure_and_turnover():
    eq = curve(np.full(253, 1000.0))
    m = compute_metrics(eq, positions=np.r_[np.zeros(53), np.ones(200)], traded_value=3000.0)
    assert m["exposure"] == pytest.approx(200 / 253)
    assert m["turnover"] == pytest.approx(3.0)  # 3000 traded over one year on 1000 of equity


def test_flat_curve_is_defined_andjson_safe():
    m = compute_metrics(curve([100.0] * 10))
    assert m["total_return"] == 0 and m["max_drawdown"] == 0 and m["max_drawdown_bars"] == 0
    safe = json_safe(m)
    assert safe["sharpe"] is None and safe["calmar"] is None and safe["total_return"] == 0.0
    assert json_safe({"x": float("inf"), "n": np.int64(3)}) == {"x": None, "n": 3}


def test_too_short_curve_is_a_data_error():
    with pytest.raises(DataError):
        compute_metrics(curve([100.0]))
