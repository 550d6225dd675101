"""The figure factory and the axis helpers every chart is built from."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
    PercentFormatter,
)

HEATMAP = "RdYlGn"  # losses red, gains green
# The backtest page's charts are drawn at the page's full width and shown at their own size
# (a narrower figure scaled into a column would shrink its text out of reading), with fixed
# margins in inches; 10 x 3.2 in at 96 dpi is about 40 kB of PNG.
PAGE_WIDTH = 10.0


def figure(width: float, height: float, *, margins: tuple[float, float, float, float] | None = None,
           **spacing) -> Figure:
    """A Figure on its own Agg canvas (savefig needs no pyplot, and no global figure list
    keeps it alive). `margins` (left, right, bottom, top) in inches fix the axes' place, with
    `spacing` (wspace, hspace) between subplots; without them the constrained layout places
    everything, which costs more (it measures every label) but fits any text."""
    if margins is None:
        fig = Figure(figsize=(width, height), layout="constrained")
    else:
        left, right, bottom, top = margins
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                            top=1 - top / height, **spacing)
    FigureCanvasAgg(fig)
    return fig


def page_figure(height: float = 3.2, *, left=0.8, right=0.15, bottom=0.5, top=0.15, **spacing) -> Figure:
    """A backtest-page figure: full page width, fixed margins (inches)."""
    return figure(PAGE_WIDTH, height, margins=(left, right, bottom, top), **spacing)


def style(ax) -> None:
    """The light look of the experiment and portfolio charts: a faint grid behind the data,
    no top or right spine, small tick labels."""
    ax.grid(True, color="#e6e9ed", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def percent_axis(ax, axis: str = "y", decimals: int | None = 0) -> None:
    """Fractions on `axis` labelled as percentages."""
    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def thousands() -> FuncFormatter:
    """Labels such as 12,500 (money, share counts)."""
    return FuncFormatter(lambda v, _: f"{v:,.0f}")


def growth() -> FuncFormatter:
    """Labels such as 0.8x, 1x, 1.5x (growth of 1)."""
    return FuncFormatter(lambda v, _: f"{v:g}x")


@dataclass(frozen=True)
class LogTicks:
    """Where a log axis puts its major ticks, by the data's range (high / low).

    Log axes label only powers of ten by default: over a typical run that is one tick, and
    over a short one none. Under `even_below` the ticks are evenly spaced values (at most
    `nbins`); wider ranges get ticks at `subs` times each power of ten, the first entry of
    `subs` (range below, multiples) that the range falls under. `clear_minor`: no minor
    ticks beside evenly spaced ones.
    """

    even_below: float
    nbins: int
    subs: tuple[tuple[float, tuple[float, ...]], ...]
    clear_minor: bool = True

    def locator(self, ratio: float):
        if ratio < self.even_below:
            return MaxNLocator(nbins=self.nbins, steps=[1, 2, 2.5, 5, 10])
        # The last entry serves every wider range, an infinite or undefined one included.
        subs = next((subs for below, subs in self.subs[:-1] if ratio < below), self.subs[-1][1])
        return LogLocator(base=10, subs=subs)

    def with_bins(self, nbins: int) -> LogTicks:
        return replace(self, nbins=nbins)


# The variants differ on purpose: the backtest page's money axis (10 in wide) spends the
# room on 1..9 of each power over a short run; equity.png's labels 1.5, 3 and 7 as well,
# and keeps minor ticks everywhere; growth-of-1 axes switch to log-spaced ticks only past
# 20x, where evenly spaced values would crowd the bottom.
PAGE_MONEY = LogTicks(3.0, 6, ((10.0, tuple(range(1, 10))), (1000.0, (1, 2, 5)), (math.inf, (1,))))
PNG_MONEY = LogTicks(3.0, 6, ((10.0, (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)), (math.inf, (1.0, 2.0, 5.0))),
                     clear_minor=False)
GROWTH = LogTicks(20.0, 5, ((math.inf, (1.0, 2.0, 5.0)),))


def log_axis(ax, ratio: float, ticks: LogTicks, labels: FuncFormatter) -> None:
    """Major ticks by `ticks` for data spanning `ratio` (high / low) on the (already log)
    y axis of `ax`, labelled by `labels`; never a label on a minor tick."""
    ax.yaxis.set_major_locator(ticks.locator(ratio))
    if ticks.clear_minor and ratio < ticks.even_below:
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(labels)
    ax.yaxis.set_minor_formatter(NullFormatter())


def span(lo: float, hi: float) -> float:
    """high / low of a positive range (infinite when `lo` is not positive)."""
    return hi / lo if lo > 0 else math.inf


def diverging(ax, values: np.ndarray, fallback: float, **imshow):
    """`values` as an image coloured red below 0 and green above, symmetric around 0 up to
    the largest finite |value| (`fallback` when there is none or it is 0); NaN cells blank."""
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else fallback
    limit = limit if limit > 0 else fallback
    return ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=HEATMAP,
                     norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit), **imshow)


def annotate(ax, values: np.ndarray, text: str, fontsize: float, blank: str | None = None) -> None:
    """Each cell's value written on it with the format `text` (e.g. "{:+.1%}"); a non-finite
    cell gets `blank`, or nothing when `blank` is None."""
    for (i, j), v in np.ndenumerate(values):
        label = text.format(v) if math.isfinite(v) else blank
        if label is not None:
            ax.text(j, i, label, ha="center", va="center", fontsize=fontsize)
