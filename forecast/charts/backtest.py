"""The backtest page's charts beyond the shared curves: equity with trades, drawdown,
exposure, rolling Sharpe, the return distribution and the forecasts' calibration.

Figures are small (10 x 3.2 in at 96 dpi, about 40 kB as PNG each) so the one-file page
stays far below its 5 MB limit; each is drawn at the page's full width (`page_figure`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecast.charts.base import PAGE_MONEY, log_axis, page_figure, percent_axis, thousands
from forecast.charts.curves import draw_drawdowns, trade_marks

STRATEGY, BENCHMARK = "#1f6feb", "#8c959f"  # the page's accent; buy-and-hold in grey
ENTRY, EXIT = "#2e7d32", "#c62828"
DARK = "#444c56"


def _lines(ax, frame: pd.DataFrame, labels=("strategy", "buy-and-hold")) -> None:
    ax.plot(frame.index, frame["strategy"], color=STRATEGY, lw=1.2, label=labels[0])
    ax.plot(frame.index, frame["benchmark"], color=BENCHMARK, lw=1.0, label=labels[1])
    ax.grid(alpha=0.3)
    ax.margins(x=0)


def equity(curves: pd.DataFrame, trades: pd.DataFrame | None) -> Figure:
    """Both curves on a log scale (equal slopes are equal returns), with the strategy's
    entries (▲) and exits (▼) placed on its curve; on a linear scale when a curve reaches 0."""
    fig = page_figure(left=0.95)
    ax = fig.add_subplot()
    _lines(ax, curves)
    # A curve at or below 0 (a strategy that lost everything, or more when short) has no
    # logarithm: a log axis would drop those bars, so it gets plain values instead.
    positive = bool((curves.min() > 0).all())
    ax.set_yscale("log" if positive else "linear")
    if trades is not None and len(trades):
        entries, exits = trade_marks(curves["strategy"], trades)
        ax.scatter(entries.index, entries, marker="^", s=22, color=ENTRY, zorder=3,
                   label=f"entry ({len(entries)})")
        ax.scatter(exits.index, exits, marker="v", s=22, color=EXIT, zorder=3, label=f"exit ({len(exits)})")
    if not positive:
        ax.yaxis.set_major_formatter(thousands())
        ax.set_ylabel("equity")
    else:
        log_axis(ax, float(curves.max().max()) / float(curves.min().min()), PAGE_MONEY, thousands())
        ax.set_ylabel("equity (log scale)")
    ax.set_xlabel("date")
    ax.legend(loc="upper left", fontsize=8, ncols=4)
    return fig


def drawdown(curves: pd.DataFrame) -> Figure:
    """Underwater curves: how far below its running peak each curve is."""
    fig = page_figure(height=2.6)
    ax = fig.add_subplot()
    draw_drawdowns(ax, curves,
                   areas={"strategy": {"color": STRATEGY, "alpha": 0.4, "lw": 0.6, "ec": STRATEGY,
                                       "label": "strategy"}},
                   lines={"benchmark": {"color": DARK, "lw": 0.9, "label": "buy-and-hold"}})
    ax.set_ylabel("drawdown")
    ax.grid(alpha=0.3)
    ax.margins(x=0)
    ax.legend(loc="lower left", fontsize=8)
    return fig


def exposure(expo: pd.Series, position: pd.Series) -> Figure:
    """Position value as a share of the portfolio, and the shares held, per close."""
    fig = page_figure(height=3.4, hspace=0.08)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.fill_between(expo.index, expo, 0, step="post", color=STRATEGY, alpha=0.5, lw=0)
    percent_axis(top)
    top.set_ylabel("exposure")
    bottom.step(position.index, position, where="post", color=DARK, lw=0.8)
    bottom.yaxis.set_major_formatter(thousands())
    bottom.set_ylabel("shares")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.margins(x=0)
    return fig


def rolling_sharpe(roll: pd.DataFrame, window: int) -> Figure:
    fig = page_figure(height=2.8)
    ax = fig.add_subplot()
    _lines(ax, roll.dropna(how="all"))
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel(f"Sharpe ({window} bars)")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def distribution(rets: pd.DataFrame) -> Figure:
    """Histogram of daily returns of both, on shared bins clipped to the 0.5-99.5% range
    (the tails would squash the body). Days of exactly 0 return (out of the market) are
    left out: they would make one bar that dwarfs the rest. The moments use every day."""
    rets = rets.where(rets != 0)
    values = rets.to_numpy(dtype=float)
    low, high = np.nanpercentile(values, [0.5, 99.5])
    bins = np.linspace(low, high, 61)
    fig = page_figure(height=2.8)
    ax = fig.add_subplot()
    for col, colour, label in (("benchmark", BENCHMARK, "buy-and-hold"), ("strategy", STRATEGY, "strategy")):
        r = rets[col].dropna().clip(low, high)
        ax.hist(r, bins=bins, color=colour, alpha=0.5, label=f"{label} ({len(r):,} days)")
    ax.axvline(0.0, color="black", lw=0.6)
    percent_axis(ax, "x", decimals=1)
    ax.set_xlabel("daily return")
    ax.set_ylabel("days")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def calibration(table: pd.DataFrame) -> Figure:
    """Reliability diagram: mean predicted P(up) per bin against the observed frequency of
    up (± one standard error), the diagonal where they would agree, and each bin's count."""
    fig = page_figure(height=3.6)
    ax = fig.add_subplot()
    ax.errorbar(table["prob"], table["freq"], yerr=table["se"], fmt="o-", color=STRATEGY, ms=4,
                capsize=2, label="observed")
    for x, y, n in zip(table["prob"], table["freq"], table["n"], strict=True):
        ax.annotate(f"{n}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7, color="#5b6570")
    lo = float(min(table["prob"].min(), (table["freq"] - table["se"]).min())) - 0.02
    hi = float(max(table["prob"].max(), (table["freq"] + table["se"]).max())) + 0.02
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.7, ls="--", label="perfectly calibrated")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("mean predicted P(up)")
    ax.set_ylabel("observed frequency of up")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def accuracy_by_year(table: pd.DataFrame) -> Figure:
    """Yearly accuracy ± one standard error against the year's majority-class rate."""
    fig = page_figure(height=3.2, bottom=0.35)
    ax = fig.add_subplot()
    x = np.arange(len(table))
    ax.errorbar(x, table["accuracy"], yerr=table["se"], fmt="o", color=STRATEGY, capsize=3, label="accuracy")
    ax.scatter(x, table["majority"], marker="_", s=200, color=EXIT, label="majority class", zorder=3)
    ax.axhline(0.5, color="black", lw=0.6)
    ax.set_xticks(x, [str(y) for y in table.index], fontsize=8)
    percent_axis(ax, decimals=None)  # 52.5%, not 52% twice
    ax.set_ylabel("share of days")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return fig
