"""Charts for the experiment and portfolio pages, drawn from a run's files.

matplotlib's object API only (`Figure` on an Agg canvas, never pyplot), so building a
page touches no global state and needs no display. Every function returns a Figure for
`forecast.report.html.chart`; none reads files or computes a figure the page prints.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

COLOURS = {"strategy": "#1f6feb", "benchmark": "#6e7781", "market": "#d4a017",
           "long": "#2e7d32", "short": "#c62828", "costs": "#8250df", "net": "#1b1f24"}
LABELS = {"strategy": "strategy", "benchmark": "equal-weight B&H", "market": "SPY B&H"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def figure(width: float = 9.0, height: float = 3.2):
    """A Figure on its own Agg canvas (no pyplot, no global figure list)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax) -> None:
    ax.grid(True, color="#e6e9ed", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def _log_axis(ax) -> None:
    """A log y axis labelled with plain growth multiples (0.8x, 1x, 1.5x...); call it once
    the data are drawn. Over a narrow range (under 20x) the ticks are evenly spaced values,
    so the axis shows more than the one power of ten inside it."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo < 20:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


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
    _log_axis(ax)
    ax.axhline(1.0, color="#999", linewidth=0.6)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _style(ax)
    return fig


def underwater(equity: pd.DataFrame):
    """Drawdown from the running peak, for each column."""
    fig = figure(9.0, 2.6)
    ax = fig.add_subplot()
    for col in equity.columns:
        s = equity[col].dropna()
        if s.empty:
            continue
        dd = s / s.cummax() - 1.0
        if col == "strategy":
            ax.fill_between(dd.index, dd.to_numpy(), 0.0, color=COLOURS["strategy"], alpha=0.25, linewidth=0)
        ax.plot(dd.index, dd.to_numpy(), color=COLOURS.get(col), linewidth=1.0, label=LABELS.get(col, col))
    _percent_axis(ax)
    ax.set_title("Drawdown from the running peak", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    _style(ax)
    return fig


def _percent_axis(ax, axis: str = "y", decimals: int = 0) -> None:
    from matplotlib.ticker import PercentFormatter

    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0, decimals=decimals))


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
        _style(ax)
    return fig


def exposure_turnover(weights: pd.DataFrame, turnover: pd.Series):
    """Gross and net exposure from the end-of-day weights, and daily one-way turnover."""
    fig = figure(9.0, 3.8)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    gross, net = weights.abs().sum(axis=1), weights.sum(axis=1)
    top.plot(gross.index, gross.to_numpy(), color=COLOURS["strategy"], linewidth=1.0, label="gross Σ|w|")
    top.plot(net.index, net.to_numpy(), color=COLOURS["net"], linewidth=1.0, label="net Σw")
    top.axhline(0.0, color="#555", linewidth=0.6)
    _percent_axis(top)
    top.set_title("Exposure and turnover", fontsize=10, loc="left")
    top.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.bar(turnover.index, turnover.to_numpy(), width=1.0, color=COLOURS["benchmark"])
    bottom.set_ylabel("turnover", fontsize=8)
    _percent_axis(bottom)
    for ax in (top, bottom):
        _style(ax)
    return fig


def cumulative_spread(spread: pd.Series, k: int):
    """The top-k minus bottom-k daily spread, summed over time (before costs)."""
    fig = figure(9.0, 2.6)
    ax = fig.add_subplot()
    total = spread.cumsum()
    ax.plot(total.index, total.to_numpy(), color=COLOURS["strategy"], linewidth=1.2)
    ax.axhline(0.0, color="#555", linewidth=0.6)
    _percent_axis(ax, decimals=1)
    ax.set_title(f"Top-{k} minus bottom-{k} by prob_up: cumulative daily spread", fontsize=10, loc="left")
    _style(ax)
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
    _percent_axis(ax)
    ax.set_title("Legs: summed daily P&L over the previous close's value", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _style(ax)
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
    _percent_axis(ax)
    ax.set_title("Long and short books (end-of-day weights)", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _style(ax)
    return fig


def weights_heatmap(weights: pd.DataFrame, max_columns: int = 400):
    """Date x ticker weights as a diverging heatmap (long green, short red); long spans
    are averaged into at most `max_columns` time buckets."""
    from matplotlib.colors import TwoSlopeNorm

    w = weights.fillna(0.0)
    if len(w) > max_columns:
        bucket = np.arange(len(w)) * max_columns // len(w)
        w = w.groupby(bucket).mean().set_index(weights.index[np.searchsorted(bucket, np.unique(bucket))])
    limit = float(np.nanmax(np.abs(w.to_numpy()))) if w.size else 1.0
    limit = limit if limit > 0 else 1.0
    fig = figure(9.0, max(2.2, 0.9 + 0.2 * w.shape[1]))
    ax = fig.add_subplot()
    dates = w.index
    image = ax.imshow(w.to_numpy().T, aspect="auto", cmap="RdYlGn", interpolation="nearest",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit))
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
    _style(ax)
    return fig


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Year x month returns of an equity curve (the first month from the first value)."""
    s = equity.dropna()
    if s.empty:
        return pd.DataFrame(columns=range(1, 13), dtype=float)
    ends = s.groupby([s.index.year, s.index.month]).last()
    previous = ends.shift(1)
    previous.iloc[0] = s.iloc[0]
    r = ends / previous - 1.0
    r.index = r.index.set_names(["year", "month"])
    return r.unstack("month").reindex(columns=range(1, 13))


def monthly_heatmap(table: pd.DataFrame, *, title: str = "Monthly returns"):
    """A year x month returns table as an annotated heatmap."""
    from matplotlib.colors import TwoSlopeNorm

    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else 0.01
    limit = limit if limit > 0 else 0.01
    fig = figure(9.0, max(1.6, 0.7 + 0.32 * len(table)))
    ax = fig.add_subplot()
    ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="RdYlGn",
              norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit))
    ax.set_xticks(range(12), MONTHS, fontsize=8)
    ax.set_yticks(range(len(table)), [str(y) for y in table.index], fontsize=8)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            if math.isfinite(v):
                ax.text(j, i, f"{v:+.1%}", ha="center", va="center", fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    return fig


def sharpe_heatmap(means: pd.DataFrame, *, x_label: str, y_label: str):
    """Mean Sharpe ratio per cell of two grid axes, annotated (blank: no finite Sharpe)."""
    from matplotlib.colors import TwoSlopeNorm

    values = means.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    n_rows, n_cols = values.shape
    fig = figure(min(11.0, max(4.5, 1.6 + 0.9 * n_cols)), min(9.0, max(2.2, 0.9 + 0.4 * n_rows)))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="RdYlGn",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit))
    small = 7 if n_cols * n_rows <= 150 else 5
    ax.set_xticks(range(n_cols), [str(c) for c in means.columns], fontsize=small, rotation=30 if n_cols > 6
                  else 0, ha="right" if n_cols > 6 else "center")
    ax.set_yticks(range(n_rows), [str(r) for r in means.index], fontsize=small)
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    if n_rows * n_cols <= 400:
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                text = f"{v:.2f}" if math.isfinite(v) else "–"
                ax.text(j, i, text, ha="center", va="center", fontsize=small)
    cbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.01)
    cbar.ax.tick_params(labelsize=7)
    ax.set_title("Mean Sharpe ratio", fontsize=10, loc="left")
    return fig


def growth_ticks(lo: float, hi: float) -> list[float]:
    """Evenly spaced growth multiples (0.8, 1, 1.2...) inside [lo, hi], for a log axis that
    many small charts share (computed once, so each chart skips the tick search)."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    if lo > 0 and hi / lo < 20:
        ticks = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    else:
        ticks = LogLocator(base=10, subs=(1.0, 2.0, 5.0)).tick_values(lo, hi)
    return [float(t) for t in ticks if lo <= t <= hi and t > 0]


def small_equity(strategy: pd.Series, benchmark: pd.Series | None, *, ylim: tuple[float, float],
                 ticks: list[float], best: bool = False):
    """One configuration's growth of 1 (log scale) beside its buy-and-hold, small and fast:
    fixed axes (no layout engine), fixed ticks, no title (the page captions it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    fig = Figure(figsize=(2.9, 1.55))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.15, 0.05, 0.83, 0.92))
    if benchmark is not None and len(benchmark) and (benchmark > 0).all():
        ax.plot(benchmark.index, (benchmark / benchmark.iloc[0]).to_numpy(), color=COLOURS["benchmark"],
                linewidth=0.7)
    if len(strategy) and (strategy > 0).all():
        ax.plot(strategy.index, (strategy / strategy.iloc[0]).to_numpy(),
                color="#d1242f" if best else COLOURS["strategy"], linewidth=1.0)
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
    from matplotlib.collections import LineCollection
    from matplotlib.dates import date2num

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
        ax.plot(s.index, s / s.iloc[0], color="#d1242f", linewidth=1.8, label="best by Sharpe")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    _log_axis(ax)
    ax.axhline(1.0, color="#555", linewidth=0.6)
    ax.set_title(title, fontsize=10, loc="left")
    _style(ax)
    return fig
