"""Rich tables: one backtest against buy-and-hold, or a summary over tickers."""

from __future__ import annotations

from rich.table import Table

from forecast.backtest.recorder import REFUSED
from forecast.formatting import fmt

# (key, label, format): fractions print as percentages.
ROWS = [
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "Volatility (ann.)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_bars", "Max DD duration (bars)", "int"),
    ("calmar", "Calmar", "num"),
    ("n_trades", "Trades", "int"),
    ("n_open_trades", "Open trades (marked to last close)", "int"),
    ("win_rate", "Win rate", "pct"),
    ("avg_win", "Avg win", "money"),
    ("avg_loss", "Avg loss", "money"),
    ("profit_factor", "Profit factor", "num"),
    ("exposure", "Exposure", "pct"),
    ("turnover", "Turnover (x/yr)", "num"),
]


def render_report(result, console) -> None:
    """Print the strategy's metrics beside buy-and-hold's on a rich `console`, then the
    orders that did not fill. A metric one side does not have (buy-and-hold's trade
    statistics) is left blank."""
    first = result.first_trade.date() if result.first_trade is not None else "none"
    title = (
        f"{result.ticker or ''} {result.strategy}: {result.start.date()} to {result.end.date()}"
        f" (buy-and-hold in at {result.benchmark_entry.date()}, first trade {first})"
    )
    table = Table(title=title.strip(), caption=run_caption(result))
    table.add_column("Metric")
    table.add_column("Strategy", justify="right")
    table.add_column("Buy & hold", justify="right")
    sides = (result.metrics["strategy"], result.metrics["benchmark"])
    for key, label, kind in ROWS:
        table.add_row(label, *(fmt(m[key], kind) if key in m else "" for m in sides))
    console.print(table)
    for line in refused_lines(result.metrics["strategy"]):
        console.print(line)


def run_caption(result) -> str:
    """Which engine ran and at what costs, e.g. "vector engine, commission 0.10%, ..."."""
    cfg = result.settings or {}
    if cfg.get("commission_per_share") is not None:
        fee = f"fee {cfg['commission_per_share']:g}/share"
    else:
        fee = f"fee {fmt(cfg.get('commission'), 'pct')}"
    if cfg.get("min_commission"):
        fee += f" (min {cfg['min_commission']:g})"
    return (f"{result.engine} engine, {fee}, slippage {fmt(cfg.get('slippage'), 'pct')}, "
            f"cash {cfg.get('cash', 0):,.0f}")


def refused_lines(metrics: dict) -> list[str]:
    """Lines such as "orders rejected: 12 (not enough cash)", one per count above zero."""
    return [text.format(n=metrics[key]) for key, text in REFUSED.values() if metrics.get(key)]


def summary_table(results) -> Table:
    """One row per result (ticker): its span, returns, Sharpe and drawdown of strategy and
    buy-and-hold. Spans differ unless they were aligned (`--common-span`): the caption says so."""
    spans = {(r.start, r.end) for r in results}
    caption = None if len(spans) == 1 else (
        "the tickers cover different periods: compare with care, or use --common-span"
    )
    table = Table(title="Backtest summary", caption=caption)
    for name in ("Ticker", "Span", "Strategy", "Return", "B&H return", "Sharpe", "B&H Sharpe",
                 "Max DD", "Trades"):
        table.add_column(name, justify="left" if name in ("Ticker", "Span", "Strategy") else "right")
    for r in results:
        s, b = r.metrics["strategy"], r.metrics["benchmark"]
        table.add_row(
            str(r.ticker or ""),
            f"{r.start.date()} to {r.end.date()}",
            r.strategy,
            fmt(s["total_return"], "pct"),
            fmt(b["total_return"], "pct"),
            fmt(s["sharpe"], "num"),
            fmt(b["sharpe"], "num"),
            fmt(s["max_drawdown"], "pct"),
            fmt(s["n_trades"], "int"),
        )
    return table
