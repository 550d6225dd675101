"""Rich tables: one backtest against buy-and-hold, or a summary over tickers."""

from __future__ import annotations

import pandas as pd
from rich.table import Table
from rich.text import Text

from forecast.backtest.recorder import COUNTED, SKIPPED_COSTS
from forecast.formatting import fmt
from forecast.stats.labels import BACKTEST_ROWS, TRADE_KEYS
from forecast.stats.returns import yearly_comparison

# Walk-forward settings worth a mention beside the model, as (key, how it reads).
WALK_FORWARD_KEYS = (
    ("window", "window {}"),
    ("retrain_every", "retrain every {} bars"),
    ("train_window", "train window {} bars"),
    ("seed", "seed {}"),
)


def render_report(result, console, model_params: dict | None = None) -> None:
    """Print the strategy's metrics beside buy-and-hold's on a rich `console`, the run's
    settings (costs, cash, strategy, model), its calendar-year returns, then the orders
    that did not fill. Buy-and-hold's trade statistics are left blank.

    `model_params`: the parameters the model was given (the CLI passes them); the report
    then lists the model's parameters with their defaults filled in. None: not known, and
    only the walk-forward settings recorded in the result are shown.
    """
    title = f"{result.ticker or ''} {result.strategy}, {result.start.date()} to {result.end.date()}".strip()
    table = _table(title, console)
    table.add_column("Metric")
    table.add_column("Strategy", justify="right")
    table.add_column("Buy & hold", justify="right")
    strategy, benchmark = result.metrics["strategy"], result.metrics["benchmark"]
    for key, label, kind in BACKTEST_ROWS:
        mine = fmt(strategy[key], kind) if key in strategy else ""
        theirs = fmt(benchmark[key], kind) if key in benchmark and key not in TRADE_KEYS else ""
        table.add_row(label, mine, theirs)
    console.print(table)
    for line in setting_lines(result, model_params):
        console.print(Text(line))  # plain text: a model path or parameter is never read as markup
    console.print()
    console.print(yearly_table(result, console))
    for line in refused_lines(strategy):
        console.print(line)
    ruined = ruin_line(strategy)
    if ruined:
        console.print(Text(ruined))


def _table(title: str, console=None, **kwargs) -> Table:
    """A Table at least as wide as its title (up to the console's width): rich wraps a
    title to the table's width, which would split it mid-phrase."""
    width = getattr(console, "width", 80)
    return Table(title=title, min_width=min(len(title) + 2, width), **kwargs)


def setting_lines(result, model_params: dict | None = None) -> list[str]:
    """Short lines on what the run was: dates of entry, costs and cash, strategy, model."""
    first = result.first_trade.date() if result.first_trade is not None else "none"
    return [
        f"buy-and-hold in at {result.benchmark_entry.date()}, first trade {first}",
        f"costs: {costs_text(result.settings)}; cash {(result.settings or {}).get('cash', 0):,.0f}"
        f" ({result.engine} engine)",
        f"strategy: {result.strategy}{params_text(result.params)}",
        f"model: {model_text(result, model_params)}",
    ]


def costs_text(settings: dict | None) -> str:
    """e.g. "commission 0.10%, slippage 0.05%" or "commission 0.005/share (min 1), ..."."""
    cfg = settings or {}
    if cfg.get("commission_per_share") is not None:
        fee = f"commission {cfg['commission_per_share']:g}/share"
    else:
        fee = f"commission {fmt(cfg.get('commission'), 'pct')}"
    if cfg.get("min_commission"):
        fee += f" (min {cfg['min_commission']:g})"
    return f"{fee}, slippage {fmt(cfg.get('slippage'), 'pct')}"


def params_text(params: dict | None) -> str:
    """" (a=1, b=x)" for parameters, "" for none."""
    if not params:
        return ""
    return " (" + ", ".join(f"{k}={_value(v)}" for k, v in params.items()) + ")"


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple | list):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    return str(v)


def model_text(result, model_params: dict | None = None) -> str:
    """The model, its parameters (when known) and how it was walked forward."""
    if not result.model:
        return "none named (predictions made outside fcast)"
    made = result.walk_forward or {}
    text = str(result.model)
    if made.get("model_path"):
        return f"{text}, saved at {made['model_path']} (not refitted)"
    if model_params is not None:
        text += params_text(_with_defaults(result.model, model_params)) or " (no parameters)"
    schedule = [fmt_.format(made[k]) for k, fmt_ in WALK_FORWARD_KEYS if made.get(k) is not None]
    if schedule:
        text += "; walk-forward " + ", ".join(schedule)
    return text


def _with_defaults(model: str, given: dict) -> dict:
    """`given` over the model's defaults; `given` alone when the defaults cannot be had."""
    try:
        from forecast.models.registry import default_params

        defaults = default_params(model)
    except Exception:  # noqa: BLE001 - a report shows what it can
        return dict(given)
    return {k: v for k, v in {**defaults, **given}.items() if k != "verbose"}


def yearly_labels(years: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    """Each year of `yearly_comparison`, a partial one saying which part the run covers,
    e.g. "2011 (partial, from 04-07)"."""
    labels = []
    for year, cut_start, cut_end in zip(years.index, years["starts_late"], years["ends_early"], strict=True):
        span = [f"from {start:%m-%d}" if cut_start else "", f"to {end:%m-%d}" if cut_end else ""]
        if cut_start and cut_end:
            span = [f"{start:%m-%d} to {end:%m-%d}"]
        note = " ".join(s for s in span if s)
        labels.append(f"{year} (partial, {note})" if note else str(year))
    return labels


def yearly_table(result, console=None) -> Table:
    """Calendar-year returns of the strategy and buy-and-hold, and the difference."""
    years = yearly_comparison(result.equity)
    labels = yearly_labels(years, result.equity.index[0], result.equity.index[-1])
    table = _table("Calendar-year returns", console)
    table.add_column("Year")
    for name in ("Strategy", "Buy & hold", "Difference"):
        table.add_column(name, justify="right")
    for label, row in zip(labels, years.itertuples(), strict=True):
        table.add_row(label, fmt(row.strategy, "spct"), fmt(row.benchmark, "spct"),
                      fmt(row.difference, "spct"))
    return table


def run_caption(result) -> str:
    """Which engine ran and at what costs, e.g. "vector engine, commission 0.10%, ..."."""
    cash = (result.settings or {}).get("cash", 0)
    return f"{result.engine} engine, {costs_text(result.settings)}, cash {cash:,.0f}"


def refused_lines(metrics: dict, fee_share: float | None = None) -> list[str]:
    """Lines such as "orders rejected: 12 (not enough cash)", one per count above zero.

    `fee_share`: a portfolio's max_fee_share, the rule its orders were skipped by: the
    skipped line then states it ("fees above 5% of their value")."""
    lines = []
    for key, text in COUNTED:
        if not metrics.get(key):
            continue
        if key == SKIPPED_COSTS[0] and fee_share is not None:
            rule = "their value" if fee_share >= 1 else f"{fee_share * 100:g}% of their value"
            text = f"orders skipped for costs: {{n}} (fees above {rule})"
        lines.append(text.format(n=metrics[key]))
    return lines


def ruin_line(metrics: dict) -> str | None:
    """"ruined on DATE: ..." when the account's equity reached zero, else None."""
    if not metrics.get("ruined"):
        return None
    day = metrics.get("ruined_on")
    day = day.date() if hasattr(day, "date") else day
    return f"ruined on {day}: equity reached zero, no trading after it"


def no_trades_line(result) -> str | None:
    """Why a backtest has no trades (None when it has some): orders skipped for their
    costs, orders refused, or a strategy that never wanted a position."""
    m = result.metrics["strategy"]
    if (m.get("n_trades") or 0) or len(result.trades):
        return None
    skipped = m.get(SKIPPED_COSTS[0]) or 0
    refused = sum(m.get(key) or 0 for key, _ in COUNTED) - skipped
    if skipped and not refused:
        return (f"no trades: {skipped} order{'s' if skipped != 1 else ''} skipped because their "
                "fees exceeded their value or the cash")
    if skipped or refused:
        return f"no trades: every order the strategy sent was refused or skipped ({skipped + refused})"
    return "no trades: the strategy never took a position on these predictions"


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
