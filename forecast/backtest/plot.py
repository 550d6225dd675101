"""equity.png: both equity curves (log scale) with the strategy's trades, the drawdowns
below, and the fraction of equity the strategy had invested at the bottom."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, MultipleLocator

from forecast.backtest.metrics import floor_ruin
from forecast.backtest.report import costs_text, params_text
from forecast.charts.base import PNG_MONEY, figure, log_axis, percent_axis, thousands
from forecast.charts.curves import draw_drawdowns, trade_marks
from forecast.formatting import fmt


def equity_figure(result) -> Figure:
    """A Figure of strategy and buy-and-hold equity (log scale, trades marked) on top,
    both drawdowns below and, when the result has a ledger, the strategy's exposure.

    The title block names the ticker, strategy and model, the period, the costs and the
    CAGR and Sharpe of both. Built on the Agg canvas directly, leaving pyplot's global
    state alone; notebooks display the returned Figure as they would any other.
    """
    exposure = exposure_series(result)
    ratios = [4, 1.4] + ([0.8] if exposure is not None else [])
    fig = figure(11, 7.5 if exposure is not None else 6.8)
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    top, dd_ax = axes[0], axes[1]
    eq = result.equity

    top.plot(eq.index, eq["strategy"], color="tab:blue", lw=1.2, label=f"strategy ({result.strategy})")
    top.plot(eq.index, eq["benchmark"], color="tab:orange", lw=1.0, alpha=0.85, label="buy-and-hold")
    _mark_trades(top, result)
    top.set_yscale("log")
    _money_axis(top, eq[["strategy", "benchmark"]].to_numpy())
    top.set_ylabel("equity (log scale)")
    top.grid(True, which="major", alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    fig.suptitle(headline(result), fontsize=12, fontweight="bold")
    top.set_title(details(result), fontsize=9, loc="center")

    draw_drawdowns(dd_ax, eq[["strategy", "benchmark"]],
                   areas={"strategy": {"color": "tab:blue", "alpha": 0.35, "lw": 0, "label": "strategy"}},
                   lines={"benchmark": {"color": "tab:orange", "lw": 0.9, "label": "buy-and-hold"}})
    dd_ax.set_ylabel("drawdown")
    dd_ax.grid(True, alpha=0.3)
    dd_ax.legend(loc="lower left", fontsize=8)

    if exposure is not None:
        ex_ax = axes[2]
        ex_ax.fill_between(exposure.index, exposure.to_numpy(), 0.0, step="post", color="tab:green",
                           alpha=0.45, lw=0)
        ex_ax.plot(exposure.index, exposure.to_numpy(), drawstyle="steps-post", color="tab:green", lw=0.6,
                   gid="exposure")
        low, high = min(0.0, float(np.nanmin(exposure))), max(1.0, float(np.nanmax(exposure)))
        ex_ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        ex_ax.yaxis.set_major_locator(MultipleLocator(0.5) if high - low <= 2 else MaxNLocator(3))
        percent_axis(ex_ax)
        ex_ax.set_ylabel("invested")
        ex_ax.grid(True, alpha=0.3)
    return fig


def plot_equity(result, path: Path) -> None:
    """Write `equity_figure(result)` to `path` as a PNG."""
    equity_figure(result).savefig(path, dpi=100)


def exposure_series(result) -> pd.Series | None:
    """Fraction of the strategy's equity invested per bar (position x close / value,
    negative when short), from the ledger; None without one."""
    ledger = getattr(result, "ledger", None)
    if ledger is None or not {"position", "close", "value"} <= set(ledger.columns):
        return None
    # A ruined account is worth nothing from its ruin on, whatever the broker still holds:
    # no exposure is drawn there (over a value <= 0 its sign would flip, or it would be inf).
    value = floor_ruin(ledger["value"])
    return (ledger["position"] * ledger["close"] / value.where(value > 0)).rename("exposure")


def headline(result) -> str:
    """e.g. "AAPL · long-only (threshold=0.5) on logreg predictions"."""
    model = f" on {result.model} predictions" if getattr(result, "model", None) else ""
    ticker = f"{result.ticker} · " if result.ticker else ""
    return f"{ticker}{result.strategy}{params_text(result.params)}{model}"


def details(result) -> str:
    """The period, the costs and cash, then CAGR and Sharpe of strategy and buy-and-hold."""
    cash = (result.settings or {}).get("cash")
    money = f", cash {cash:,.0f}" if cash is not None else ""
    s, b = result.metrics["strategy"], result.metrics["benchmark"]
    return (
        f"{result.start.date()} to {result.end.date()}  |  {costs_text(result.settings)}{money}\n"
        f"strategy: CAGR {fmt(s.get('cagr'), 'pct')}, Sharpe {fmt(s.get('sharpe'), 'num')}  |  "
        f"buy-and-hold: CAGR {fmt(b.get('cagr'), 'pct')}, Sharpe {fmt(b.get('sharpe'), 'num')}"
    )


def _mark_trades(ax, result) -> None:
    entries, exits = trade_marks(result.equity["strategy"], result.trades)
    # Marker size shrinks as trades crowd the chart.
    size = float(np.clip(45.0 / np.sqrt(max(len(entries), 1)), 2.5, 6.0))
    ax.plot(entries.index, entries.to_numpy(), linestyle="none", marker="^", ms=size, color="tab:green",
            alpha=0.8, label=f"entry ({len(entries)})" if len(entries) else None, gid="entries")
    ax.plot(exits.index, exits.to_numpy(), linestyle="none", marker="v", ms=size, color="tab:red",
            alpha=0.8, label=f"exit ({len(exits)})" if len(exits) else None, gid="exits")


def _money_axis(ax, values: np.ndarray) -> None:
    """Thousands-separated labels on the log axis, ticks dense enough for a narrow range."""
    positive = values[np.isfinite(values) & (values > 0)]
    ratio = positive.max() / positive.min() if len(positive) else math.inf
    log_axis(ax, ratio, PNG_MONEY, thousands())
