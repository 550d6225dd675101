"""Charts of equity curves the pages and equity.png share: growth of 1 on a log axis,
drawdown from the running peak, and monthly returns as a year x month heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.dates import date2num
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from forecast.charts.base import (
    GROWTH,
    annotate,
    diverging,
    figure,
    growth,
    log_axis,
    page_figure,
    percent_axis,
    span,
    style,
)
from forecast.stats.returns import drawdown

COLOURS = {"strategy": "#1f6feb", "benchmark": "#6e7781", "market": "#d4a017",
           "long": "#2e7d32", "short": "#c62828", "costs": "#8250df", "net": "#1b1f24"}
LABELS = {"strategy": "strategy", "benchmark": "equal-weight B&H", "market": "SPY B&H"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BEST = "#d1242f"  # the best configuration, drawn over the rest


def growth_axis(ax) -> None:
    """Make the y axis of `ax` a log axis of growth multiples (0.8x, 1x, 1.5x...), its
    ticks chosen for the range drawn; call it once the data are drawn."""
    ax.set_yscale("log")
    log_axis(ax, span(*ax.get_ylim()), GROWTH, growth())


def log_equity(equity: pd.DataFrame, *, title: str = "Growth of 1 (log scale)"):
    """Each column of `equity` (strategy, benchmark, market) as growth of 1, log scale."""
    fig = figure(9.0, 3.6)
    ax = fig.add_subplot()
    for col in equity.columns:
        s = equity[col].dropna()
        if s.empty or not (s > 0).all():
            continue
        ax.plot(s.index, s / s.iloc[0], color=COLOURS.get(col), linewidth=1.6 if col == "strategy" else 1.1,
                label=LABELS.get(col, col))
    growth_axis(ax)
    ax.axhline(1.0, color="#999", linewidth=0.6)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    style(ax)
    return fig


def growth_ticks(lo: float, hi: float) -> list[float]:
    """Evenly spaced growth multiples (0.8, 1, 1.2...) inside [lo, hi], for a log axis that
    many small charts share (computed once, so each chart skips the tick search)."""
    ticks = GROWTH.with_bins(4).locator(span(lo, hi)).tick_values(lo, hi)
    return [float(t) for t in ticks if lo <= t <= hi and t > 0]


def small_equity(strategy: pd.Series, benchmark: pd.Series | None, *, ylim: tuple[float, float],
                 ticks: list[float], best: bool = False):
    """One configuration's growth of 1 (log scale) beside its buy-and-hold, small and fast:
    fixed axes (no layout engine), fixed ticks, no title (the page captions it)."""
    fig = figure(2.9, 1.55, margins=(0.0, 0.0, 0.0, 0.0))  # no layout engine: the axes are placed by hand
    ax = fig.add_axes((0.15, 0.05, 0.83, 0.92))
    if benchmark is not None and len(benchmark) and (benchmark > 0).all():
        ax.plot(benchmark.index, (benchmark / benchmark.iloc[0]).to_numpy(), color=COLOURS["benchmark"],
                linewidth=0.7)
    if len(strategy) and (strategy > 0).all():
        ax.plot(strategy.index, (strategy / strategy.iloc[0]).to_numpy(),
                color=BEST if best else COLOURS["strategy"], linewidth=1.0)
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FixedFormatter([f"{t:g}x" for t in ticks]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.axhline(1.0, color="#999", linewidth=0.5)
    ax.set_xticks([])
    ax.tick_params(labelsize=6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def all_curves(curves: list[pd.Series], best: int | None, *, title: str):
    """Every curve as growth of 1, faint, on one log axis; `best` (a position in `curves`)
    drawn bold on top."""
    fig = figure(9.0, 3.6)
    ax = fig.add_subplot()
    segments = []
    for s in curves:
        if len(s) < 2 or not (s > 0).all():
            continue
        segments.append(np.column_stack([date2num(s.index.to_pydatetime()), (s / s.iloc[0]).to_numpy()]))
    alpha = max(0.06, min(0.5, 6.0 / max(len(segments), 1)))
    if segments:
        ax.add_collection(LineCollection(segments, colors=COLOURS["strategy"], linewidths=0.7, alpha=alpha))
        ax.xaxis_date()
        ax.autoscale_view()
    if best is not None and len(curves[best]) > 1 and (curves[best] > 0).all():
        s = curves[best]
        ax.plot(s.index, s / s.iloc[0], color=BEST, linewidth=1.8, label="best by Sharpe")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    growth_axis(ax)
    ax.axhline(1.0, color="#555", linewidth=0.6)
    ax.set_title(title, fontsize=10, loc="left")
    style(ax)
    return fig


def trade_marks(curve: pd.Series, trades: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """`curve` at each trade's entry and at each closed trade's exit, at the nearest bar (fills
    happen on the curve's bars). A trade still open at the end has no exit: its last bar is
    only where it was marked. `open` may be bools or, read back from trades.csv, text."""
    if trades is None or len(trades) == 0:
        empty = curve.iloc[:0]
        return empty, empty
    closed = trades
    if "open" in trades:
        closed = trades[~trades["open"].astype(str).str.lower().isin(["true", "1"])]

    def at(dates) -> pd.Series:
        return curve.reindex(pd.DatetimeIndex(dates), method="nearest")

    return at(trades["entry_date"]), at(closed["exit_date"])


def draw_drawdowns(ax, equity: pd.DataFrame, *, areas: dict[str, dict], lines: dict[str, dict]) -> None:
    """Each column's drawdown from its running peak (over its own values) on `ax`: as an
    area down from 0 for the columns in `areas`, as a line for those in `lines` (each with
    its matplotlib keywords), on a percent axis."""
    for col in equity.columns:
        s = equity[col].dropna()
        if s.empty:
            continue
        dd = drawdown(s)
        if col in areas:
            ax.fill_between(dd.index, dd.to_numpy(), 0.0, **areas[col])
        if col in lines:
            ax.plot(dd.index, dd.to_numpy(), **lines[col])
    percent_axis(ax)


def underwater(equity: pd.DataFrame):
    """Drawdown from the running peak, for each column."""
    fig = figure(9.0, 2.6)
    ax = fig.add_subplot()
    draw_drawdowns(ax, equity,
                   areas={"strategy": {"color": COLOURS["strategy"], "alpha": 0.25, "linewidth": 0}},
                   lines={col: {"color": COLOURS.get(col), "linewidth": 1.0, "label": LABELS.get(col, col)}
                          for col in equity.columns})
    ax.set_title("Drawdown from the running peak", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    style(ax)
    return fig


def monthly_heatmap(table: pd.DataFrame, *, title: str = "Monthly returns"):
    """A year x month returns table (`forecast.stats.returns.monthly_returns`) as an
    annotated heatmap with a title, months along the bottom."""
    values = table.to_numpy(dtype=float)
    fig = figure(9.0, max(1.6, 0.7 + 0.32 * len(table)))
    ax = fig.add_subplot()
    diverging(ax, values, 0.01)
    ax.set_xticks(range(12), MONTHS, fontsize=8)
    ax.set_yticks(range(len(table)), [str(y) for y in table.index], fontsize=8)
    annotate(ax, values, "{:+.1%}", 7)
    ax.set_title(title, fontsize=10, loc="left")
    return fig


def monthly_heatmap_with_totals(grid: pd.DataFrame):
    """Monthly returns, years down and months across (along the top), with each year's total
    (the grid's "year" column) in a panel of its own beside them, coloured on its own scale;
    at the backtest page's width and fixed margins."""
    months = grid.drop(columns="year").to_numpy(dtype=float)
    years = grid[["year"]].to_numpy(dtype=float)
    fig = page_figure(0.55 + 0.28 * len(grid), left=0.55, bottom=0.1, top=0.35, wspace=0.03)
    left, right = fig.subplots(1, 2, width_ratios=[12, 1.4])
    for ax, values, labels in ((left, months, MONTHS), (right, years, ["year"])):
        diverging(ax, values, 0.01)
        annotate(ax, values, "{:+.1%}", 7)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(grid)), [str(y) for y in grid.index], fontsize=8)
        ax.tick_params(length=0)
    right.set_yticks([])
    return fig
