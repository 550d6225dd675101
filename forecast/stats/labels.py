"""How each metric is named and formatted where it is shown: the terminal, the backtest
report and the HTML pages. Each table is (metrics key, label, format kind), the kind one of
`forecast.formatting.fmt`'s. The tables word a metric for their place (a terminal column is
narrow, a page row is not), so a key may carry different labels in different tables.
Plain data: importing it costs nothing.
"""

from __future__ import annotations

# --- one backtest against buy-and-hold -------------------------------------------------------

# The terminal report (`fcast backtest`), strategy beside buy-and-hold.
BACKTEST_ROWS = (
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
)
# Statistics of the strategy's round trips: buy-and-hold makes none, so its column stays blank.
TRADE_KEYS = frozenset({"n_trades", "n_open_trades", "win_rate", "avg_win", "avg_loss", "profit_factor"})

# The backtest page's key figures (both curves), then the strategy's trades and refusals.
BACKTEST_PAGE_FIGURES = (
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "volatility (annualised)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("max_drawdown_bars", "longest drawdown (bars)", "int"),
    ("calmar", "Calmar", "num"),
    ("exposure", "exposure (share of bars invested)", "pct"),
    ("turnover", "turnover (traded value / mean equity, per year)", "num"),
)
BACKTEST_PAGE_TRADES = (
    ("n_trades", "trades", "int"),
    ("n_open_trades", "of which open at the end", "int"),
    ("win_rate", "win rate", "pct"),
    ("profit_factor", "profit factor", "num"),
    ("avg_win", "average win", "money"),
    ("avg_loss", "average loss", "money"),
)
BACKTEST_PAGE_REFUSED = (
    ("orders_rejected_cash", "orders rejected (cash)", "int"),
    ("orders_rejected", "orders rejected (broker)", "int"),
    ("orders_canceled", "orders canceled", "int"),
)

# --- forecasts --------------------------------------------------------------------------------

# Forecast quality under `fcast backtest` (one column of values).
FORECAST_ROWS = (
    ("n", "scored days", "int"),
    ("accuracy", "accuracy", "num3"),
    ("accuracy_se", "± standard error", "num3"),
    ("majority_rate", "majority-class rate", "num3"),
    ("p_value", "p (accuracy > majority)", "num3"),
    ("roc_auc", "ROC AUC", "num3"),
    ("brier", "Brier score", "num3"),
    ("mean_ret_up", "mean return | up", "spct"),
    ("mean_ret_down", "mean return | down", "spct"),
)
# `fcast evaluate`: one row per model, so the headers are short.
MODEL_COLUMNS = (
    ("accuracy", "accuracy", "num3"),
    ("accuracy_se", "± se", "num3"),
    ("balanced_accuracy", "bal. acc", "num3"),
    ("roc_auc", "ROC AUC", "num3"),
    ("log_loss", "log loss", "num3"),
    ("brier", "Brier", "num3"),
    ("p_value", "p (> majority)", "num3"),
    ("mean_ret_up", "ret | up", "spct"),
    ("mean_ret_down", "ret | down", "spct"),
)
# The same table for a return target's predicted returns (`score_metrics`).
SCORE_MODEL_COLUMNS = (
    ("ic", "IC", "num3"),
    ("rank_ic", "rank IC", "num3"),
    ("accuracy", "sign acc.", "num3"),
    ("accuracy_se", "± se", "num3"),
    ("p_value", "p (> majority)", "num3"),
    ("mean_ret_up", "ret | up", "spct"),
    ("mean_ret_down", "ret | down", "spct"),
)

# --- portfolios and experiments ---------------------------------------------------------------

# The portfolio page: every curve (strategy, benchmarks), then the strategy's own figures
# (its "turnover" is daily and one-way; the curves' annual one is "turnover_annual").
PORTFOLIO_PAGE_FIGURES = (
    ("total_return", "total return", "pct"), ("cagr", "CAGR", "pct"), ("volatility", "volatility", "pct"),
    ("sharpe", "Sharpe", "num"), ("sortino", "Sortino", "num"), ("max_drawdown", "max drawdown", "pct"),
    ("max_drawdown_bars", "longest drawdown (bars)", "int"), ("calmar", "Calmar", "num"),
    ("exposure", "exposure (days invested)", "pct"), ("turnover_annual", "turnover (annual, x value)", "num"),
)
PORTFOLIO_PAGE_STRATEGY = (
    ("turnover", "turnover (daily, one-way)", "pct"), ("gross_exposure", "gross exposure", "pct"),
    ("net_exposure", "net exposure", "pct"), ("n_fills", "fills", "int"),
    ("orders_rejected_cash", "orders rejected (cash)", "int"), ("orders_rejected", "orders rejected", "int"),
    ("orders_canceled", "orders canceled", "int"),
    ("orders_skipped_costs", "orders skipped for costs (fee above its share of the order)", "int"),
)
# The experiment page's ranked table of configurations.
EXPERIMENT_PAGE_COLUMNS = (
    ("total_return", "total return", "pct"), ("cagr", "CAGR", "pct"), ("sharpe", "Sharpe", "num"),
    ("sharpe_se", "± SE", "num"), ("psr", "PSR", "num3"), ("psr_vs_benchmark", "PSR vs B&H", "num3"),
    ("max_drawdown", "max DD", "pct"), ("n_trades", "trades", "int"), ("accuracy", "accuracy", "num3"),
    ("benchmark_return", "B&H return", "pct"), ("benchmark_sharpe", "B&H Sharpe", "num"),
)
# The terminal's portfolio summary: the curves' figures, then the strategy's exposure.
PORTFOLIO_TERMINAL_ROWS = (
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "max drawdown", "pct"),
)
PORTFOLIO_TERMINAL_EXPOSURE = (
    ("turnover", "turnover (daily)", "pct"),
    ("gross_exposure", "gross exposure", "pct"),
    ("net_exposure", "net exposure", "pct"),
)
# `fcast runs`: the key figures of a recorded run (key of runs.key_figures, label, fmt kind).
RUN_FIGURES = (
    ("ticker", "ticker", None),
    ("model", "model", None),
    ("strategy", "strategy", None),
    ("start", "start", None),
    ("end", "end", None),
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("n_trades", "trades", "int"),
    ("benchmark_return", "buy & hold return", "pct"),
    ("benchmark_sharpe", "buy & hold Sharpe", "num"),
    ("accuracy", "forecast accuracy", "num3"),
    ("seed", "seed", None),
)
