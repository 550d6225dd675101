"""forecast.charts: the shared axis rules, and the shared drawing of drawdowns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from forecast.charts.base import GROWTH, PAGE_MONEY, PNG_MONEY, figure, log_axis, span, thousands
from forecast.charts.curves import draw_drawdowns, growth_ticks


def test_a_figure_has_a_canvas_of_its_own_and_fixed_margins_when_asked():
    fig = figure(10.0, 2.0, margins=(1.0, 0.5, 0.5, 0.5))
    assert fig.canvas is not None and fig.get_layout_engine() is None
    assert fig.subplotpars.left == pytest.approx(0.1) and fig.subplotpars.top == pytest.approx(0.75)
    assert figure(9.0, 3.0).get_layout_engine() is not None  # constrained


@pytest.mark.parametrize(("ticks", "ratio", "kind", "subs"), [
    (PAGE_MONEY, 2.0, MaxNLocator, None),
    (PAGE_MONEY, 5.0, LogLocator, list(range(1, 10))),
    (PAGE_MONEY, 50.0, LogLocator, [1, 2, 5]),
    (PAGE_MONEY, 5000.0, LogLocator, [1]),
    (PNG_MONEY, 5.0, LogLocator, [1, 1.5, 2, 3, 5, 7]),
    (PNG_MONEY, math.inf, LogLocator, [1, 2, 5]),
    (GROWTH, 15.0, MaxNLocator, None),
    (GROWTH, 25.0, LogLocator, [1, 2, 5]),
    (GROWTH, span(0.0, 1.0), LogLocator, [1, 2, 5]),
])
def test_log_tick_rules(ticks, ratio, kind, subs):
    locator = ticks.locator(ratio)
    assert isinstance(locator, kind)
    if subs is not None:
        assert list(locator._subs) == subs


def test_minor_ticks_are_cleared_beside_even_ticks_except_on_equity_png():
    for ticks, cleared in ((PAGE_MONEY, True), (PNG_MONEY, False)):
        ax = figure(4, 3).add_subplot()
        ax.set_yscale("log")
        log_axis(ax, 2.0, ticks, thousands())
        assert isinstance(ax.yaxis.get_minor_locator(), NullLocator) is cleared


def test_growth_ticks_fall_inside_the_range():
    assert growth_ticks(0.9, 1.5) == pytest.approx([1.0, 1.2, 1.4])
    assert all(0.5 <= t <= 80 for t in growth_ticks(0.5, 80)) and 1.0 in growth_ticks(0.5, 80)
    assert span(0.0, 2.0) == math.inf


def test_drawdowns_are_drawn_per_column_over_its_own_values():
    idx = pd.bdate_range("2020-01-01", periods=4)
    equity = pd.DataFrame({"strategy": [100, 120, 90, 130], "market": [np.nan, 10, 5, 10]}, index=idx,
                          dtype=float)
    ax = figure(4, 3).add_subplot()
    draw_drawdowns(ax, equity, areas={"strategy": {}}, lines={"strategy": {}, "market": {}})
    assert len(ax.collections) == 1 and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 0, -0.25, 0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0, -0.5, 0])  # from the market's first value
