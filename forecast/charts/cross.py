"""The experiment and portfolio pages' charts beyond the shared curves: information
coefficients, exposure and turnover, legs and books, weights, contributions, and the
experiment's Sharpe heatmap. Drawn from a run's files by the pages (constrained layout)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.charts.base import annotate, diverging, figure, percent_axis, style
from forecast.charts.curves import COLOURS


def ic_over_time(ic: pd.DataFrame, window: int = 63):
    """Daily IC and rank IC (faint) with their rolling `window`-day means, one panel each."""
    fig = figure(9.0, 4.4)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, col, name in zip(axes, ("ic", "rank_ic"), ("IC (Pearson)", "Rank IC (Spearman)"), strict=True):
        s = ic[col] if col in ic else pd.Series(dtype=float)
        ax.plot(s.index, s.to_numpy(), color="#9aa4ae", linewidth=0.5, alpha=0.6, label="daily")
        rolling = s.rolling(window, min_periods=max(5, window // 3)).mean()
        ax.plot(rolling.index, rolling.to_numpy(), color=COLOURS["strategy"], linewidth=1.5,
                label=f"{window}-day mean")
        mean = s.mean()
        if math.isfinite(mean):
            ax.axhline(mean, color=COLOURS["short"], linewidth=0.8, linestyle="--", label="mean")
        ax.axhline(0.0, color="#555", linewidth=0.6)
        ax.set_ylabel(name, fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="upper right", ncols=3)
        style(ax)
    return fig


def exposure_turnover(weights: pd.DataFrame, turnover: pd.Series):
    """Gross and net exposure from the end-of-day weights, and daily one-way turnover."""
    fig = figure(9.0, 3.8)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    gross, net = weights.abs().sum(axis=1), weights.sum(axis=1)
    top.plot(gross.index, gross.to_numpy(), color=COLOURS["strategy"], linewidth=1.0, label="gross Σ|w|")
    top.plot(net.index, net.to_numpy(), color=COLOURS["net"], linewidth=1.0, label="net Σw")
    top.axhline(0.0, color="#555", linewidth=0.6)
    percent_axis(top)
    top.set_title("Exposure and turnover", fontsize=10, loc="left")
    top.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.bar(turnover.index, turnover.to_numpy(), width=1.0, color=COLOURS["benchmark"])
    bottom.set_ylabel("turnover", fontsize=8)
    percent_axis(bottom)
    for ax in (top, bottom):
        style(ax)
    return fig


def cumulative_spread(spread: pd.Series, k: int):
    """The top-k minus bottom-k daily spread, summed over time (before costs)."""
    fig = figure(9.0, 2.6)
    ax = fig.add_subplot()
    total = spread.cumsum()
    ax.plot(total.index, total.to_numpy(), color=COLOURS["strategy"], linewidth=1.2)
    ax.axhline(0.0, color="#555", linewidth=0.6)
    percent_axis(ax, decimals=1)
    ax.set_title(f"Top-{k} minus bottom-{k} by prob_up: cumulative daily spread", fontsize=10, loc="left")
    style(ax)
    return fig


def legs(legs_frame: pd.DataFrame):
    """Cumulative daily P&L of the long and short legs and the costs (fractions of value)."""
    fig = figure(9.0, 3.0)
    ax = fig.add_subplot()
    for col in ("long", "short", "costs"):
        if col not in legs_frame:
            continue
        s = legs_frame[col].fillna(0.0).cumsum()
        if col == "costs":
            s = -s
        ax.plot(s.index, s.to_numpy(), color=COLOURS[col], linewidth=1.2,
                label="costs (negative)" if col == "costs" else f"{col} leg")
    ax.axhline(0.0, color="#555", linewidth=0.6)
    percent_axis(ax)
    ax.set_title("Legs: summed daily P&L over the previous close's value", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    style(ax)
    return fig


def books(weights: pd.DataFrame):
    """The long book (sum of positive weights) and the short book (sum of negative ones)."""
    fig = figure(9.0, 2.6)
    ax = fig.add_subplot()
    long_book = weights.clip(lower=0.0).sum(axis=1)
    short_book = weights.clip(upper=0.0).sum(axis=1)
    ax.fill_between(long_book.index, long_book.to_numpy(), 0.0, color=COLOURS["long"], alpha=0.35,
                    linewidth=0, label="long book")
    ax.fill_between(short_book.index, short_book.to_numpy(), 0.0, color=COLOURS["short"], alpha=0.35,
                    linewidth=0, label="short book")
    ax.axhline(0.0, color="#555", linewidth=0.6)
    percent_axis(ax)
    ax.set_title("Long and short books (end-of-day weights)", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    style(ax)
    return fig


def weights_heatmap(weights: pd.DataFrame, max_columns: int = 400):
    """Date x ticker weights as a diverging heatmap (long green, short red); long spans
    are averaged into at most `max_columns` time buckets."""
    w = weights.fillna(0.0)
    if len(w) > max_columns:
        bucket = np.arange(len(w)) * max_columns // len(w)
        w = w.groupby(bucket).mean().set_index(weights.index[np.searchsorted(bucket, np.unique(bucket))])
    fig = figure(9.0, max(2.2, 0.9 + 0.2 * w.shape[1]))
    ax = fig.add_subplot()
    dates = w.index
    image = diverging(ax, w.to_numpy().T, 1.0, interpolation="nearest")
    ax.set_yticks(range(w.shape[1]), [str(c) for c in w.columns], fontsize=7 if w.shape[1] <= 30 else 5)
    n_ticks = min(8, len(dates))
    if n_ticks:
        at = np.linspace(0, len(dates) - 1, n_ticks).round().astype(int)
        ax.set_xticks(at, [dates[i].strftime("%Y-%m") for i in at], fontsize=7)
    cbar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    cbar.ax.tick_params(labelsize=7)
    ax.set_title("Weights over time (date x ticker)", fontsize=10, loc="left")
    return fig


def contributions_bar(contributions: pd.Series):
    """Each ticker's P&L contribution (currency), sorted, as horizontal bars."""
    s = contributions.sort_values()
    fig = figure(9.0, max(2.2, 0.6 + 0.22 * len(s)))
    ax = fig.add_subplot()
    colours = [COLOURS["long"] if v >= 0 else COLOURS["short"] for v in s.to_numpy()]
    ax.barh([str(t) for t in s.index], s.to_numpy(), color=colours)
    ax.axvline(0.0, color="#555", linewidth=0.6)
    ax.set_title("Contribution to P&L by ticker (after that ticker's fees)", fontsize=10, loc="left")
    ax.tick_params(axis="y", labelsize=7 if len(s) <= 30 else 5)
    style(ax)
    return fig


def sharpe_heatmap(means: pd.DataFrame, *, x_label: str, y_label: str):
    """Mean Sharpe ratio per cell of two grid axes, annotated (blank: no finite Sharpe)."""
    values = means.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig = figure(min(11.0, max(4.5, 1.6 + 0.9 * n_cols)), min(9.0, max(2.2, 0.9 + 0.4 * n_rows)))
    ax = fig.add_subplot()
    image = diverging(ax, values, 1.0)
    small = 7 if n_cols * n_rows <= 150 else 5
    ax.set_xticks(range(n_cols), [str(c) for c in means.columns], fontsize=small, rotation=30 if n_cols > 6
                  else 0, ha="right" if n_cols > 6 else "center")
    ax.set_yticks(range(n_rows), [str(r) for r in means.index], fontsize=small)
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    if n_rows * n_cols <= 400:
        annotate(ax, values, "{:.2f}", small, blank="–")
    cbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.01)
    cbar.ax.tick_params(labelsize=7)
    ax.set_title("Mean Sharpe ratio", fontsize=10, loc="left")
    return fig
