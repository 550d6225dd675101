"""Orders from targets: checked against arithmetic done here by hand."""

from __future__ import annotations

import math

import pytest

from forecast.errors import ConfigError
from forecast.settings import CostOptions
from forecast.signal.orders import orders_for, read_positions

FREE = CostOptions(commission=0.0, slippage=0.0, min_commission=0.0)


def test_a_full_long_target_from_cash_buys_the_whole_shares_the_cash_pays_for():
    costs = CostOptions(commission=0.001, slippage=0.0005)
    (order,) = orders_for({"AAA": 1.0}, {"AAA": 100.0}, {}, 10_000.0, costs)
    # 10,000 / (100 x 1.0005 x 1.001) = 99.85 -> 99 shares (100 would overdraw)
    assert order.shares == 99 and order.side == "buy"
    assert order.commission == pytest.approx(99 * 100.0 * 0.001)
    assert order.slippage == pytest.approx(99 * 100.0 * 0.0005)
    assert 99 * 100 * (1 + 0.0005) + order.commission <= 10_000.0


def test_whole_shares_are_rounded_toward_zero_on_both_sides():
    (buy,) = orders_for({"AAA": 0.5}, {"AAA": 30.0}, {}, 1_000.0, FREE)
    assert buy.shares == math.trunc(0.5 * 1_000 / 30)  # 16.67 -> 16
    (short,) = orders_for({"AAA": -0.5}, {"AAA": 30.0}, {}, 1_000.0, FREE)
    assert short.shares == -16


def test_the_account_value_counts_the_holdings_at_the_last_close():
    # 20 shares at 50 plus 1,000 cash is 2,000; half of it is 20 shares: nothing to do
    assert orders_for({"AAA": 0.5}, {"AAA": 50.0}, {"AAA": 20}, 1_000.0, FREE, rebalance_band=0.0) == []
    (sell,) = orders_for({"AAA": 0.0}, {"AAA": 50.0}, {"AAA": 20}, 1_000.0, FREE)
    assert sell.shares == -20 and sell.side == "sell"


def test_a_held_position_inside_the_band_is_left_alone():
    # 18 shares x 50 / (18 x 50 + 1,100) = 0.45: within 0.05 of 0.5
    assert orders_for({"AAA": 0.5}, {"AAA": 50.0}, {"AAA": 18}, 1_100.0, FREE, rebalance_band=0.05) == []
    (top_up,) = orders_for({"AAA": 0.5}, {"AAA": 50.0}, {"AAA": 18}, 1_100.0, FREE, rebalance_band=0.0)
    assert top_up.shares == 2


def test_sales_come_first_and_pay_for_the_buys():
    # all cash is in AAA; the target moves it to BBB: the buy needs the sale's money
    orders = orders_for({"AAA": 0.0, "BBB": 1.0}, {"AAA": 10.0, "BBB": 20.0}, {"AAA": 100}, 0.0, FREE)
    assert [(o.ticker, o.shares) for o in orders] == [("AAA", -100), ("BBB", 50)]


def test_an_order_whose_fee_exceeds_its_value_is_not_sent():
    costs = CostOptions(commission=0.001, slippage=0.0, min_commission=5.0)
    # one share at 3.00 would pay a 5.00 minimum fee
    assert orders_for({"AAA": 1.0}, {"AAA": 3.0}, {}, 14.0, costs) == []


def test_a_nan_target_keeps_the_position():
    assert orders_for({"AAA": float("nan")}, {"AAA": 10.0}, {"AAA": 5}, 100.0, FREE) == []


def test_positions_files_are_read_and_bad_ones_refused_in_one_line(tmp_path):
    good = tmp_path / "p.csv"
    good.write_text("ticker,shares\naapl,10\nMSFT,2.5\n")
    assert read_positions(good) == {"AAPL": 10.0, "MSFT": 2.5}
    for text, says in (("name,qty\nA,1\n", "needs columns"), ("ticker,shares\nA,x\n", "line 2"),
                       ("ticker,shares\nA,1\na,2\n", "listed twice")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=says):
            read_positions(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        read_positions(tmp_path / "missing.csv")
