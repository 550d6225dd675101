"""equity.png: both equity curves on top, the strategy's drawdown below."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter


def equity_figure(result) -> Figure:
    """A Figure of strategy and buy-and-hold equity on top, both drawdowns below.

    Built on the Agg canvas directly, leaving pyplot's global state alone; notebooks
    display the returned Figure as they would any other.
    """
    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    eq = result.equity
    top.plot(eq.index, eq["strategy"], label=f"strategy ({result.strategy})")
    top.plot(eq.index, eq["benchmark"], label="buy-and-hold", alpha=0.8)
    top.set_ylabel("equity")
    model = f" on {result.model} predictions" if getattr(result, "model", None) else ""
    top.set_title(f"{result.ticker or ''} {result.strategy}{model}".strip())
    top.legend(loc="best")
    drawdown = eq["strategy"] / eq["strategy"].cummax() - 1.0
    bench_dd = eq["benchmark"] / eq["benchmark"].cummax() - 1.0
    bottom.fill_between(eq.index, drawdown.to_numpy(), 0.0, color="tab:red", alpha=0.4,
                        label="strategy")
    bottom.plot(eq.index, bench_dd.to_numpy(), color="tab:orange", lw=1, label="buy-and-hold")
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bottom.set_ylabel("drawdown")
    bottom.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_equity(result, path: Path) -> None:
    """Write `equity_figure(result)` to `path` as a PNG."""
    equity_figure(result).savefig(path, dpi=100)
