"""Rich tables: one backtest against buy-and-hold, or a summary over tickers."""

from __future__ import annotations

from rich.table import Table

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
    ("n_trades", "Round trips", "int"),
    ("win_rate", "Win rate", "pct"),
    ("avg_win", "Avg win", "money"),
    ("avg_loss", "Avg loss", "money"),
    ("profit_factor", "Profit factor", "num"),
    ("exposure", "Exposure", "pct"),
    ("turnover", "Turnover (x/yr)", "num"),
]


def render_report(result, console) -> None:
    """Print the strategy's metrics beside buy-and-hold's on a rich `console`."""
    title = (
        f"{result.ticker or ''} {result.strategy}: {result.start.date()} to {result.end.date()}"
        f" (first fill {result.first_fill.date()})"
    )
    table = Table(title=title.strip())
    table.add_column("Metric")
    table.add_column("Strategy", justify="right")
    table.add_column("Buy & hold", justify="right")
    for key, label, kind in ROWS:
        table.add_row(
            label,
            fmt(result.metrics["strategy"].get(key), kind),
            fmt(result.metrics["benchmark"].get(key), kind),
        )
    console.print(table)


def summary_table(results) -> Table:
    """One row per result (ticker): returns, Sharpe and drawdown of strategy and buy-and-hold."""
    table = Table(title="Backtest summary")
    for name in ("Ticker", "Strategy", "Return", "B&H return", "Sharpe", "B&H Sharpe", "Max DD", "Trades"):
        table.add_column(name, justify="left" if name in ("Ticker", "Strategy") else "right")
    for r in results:
        s, b = r.metrics["strategy"], r.metrics["benchmark"]
        table.add_row(
            str(r.ticker or ""),
            r.strategy,
            fmt(s["total_return"], "pct"),
            fmt(b["total_return"], "pct"),
            fmt(s["sharpe"], "num"),
            fmt(b["sharpe"], "num"),
            fmt(s["max_drawdown"], "pct"),
            fmt(s["n_trades"], "int"),
        )
    return table
