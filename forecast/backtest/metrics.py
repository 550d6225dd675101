"""Performance metrics computed from a daily equity curve (not backtrader's analyzers).

Conventions: daily simple returns of the equity curve; 252 bars a year; volatility and
Sharpe use the sample standard deviation (ddof=1); the risk-free rate is annual and
compounded to a daily rate; CAGR spans the curve's bars (len - 1 returns) / 252 years;
drawdown duration is the longest run of consecutive bars below the running peak.
Undefined values (no variation, no losing trade, ...) are NaN.

Ruin: an account whose equity reaches zero or below at a close is ruined there (`ruined`,
`ruined_on`); its equity is zero from that bar on, and its returns stop at that bar's
-100% (a return computed from negative equity would flip sign).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.calendar import TRADING_DAYS
from forecast.errors import DataError
from forecast.stats.returns import daily_returns, sortino_ratio
from forecast.stats.sharpe import sharpe_ratio


def ruin_bar(equity) -> int | None:
    """Position of the first value at or below zero (None: never)."""
    broke = np.flatnonzero(np.asarray(equity, dtype=float) <= 0)
    return int(broke[0]) if broke.size else None


def floor_ruin(equity: pd.Series) -> pd.Series:
    """`equity` with every value from the ruin bar on set to zero (unchanged when never ruined)."""
    bar = ruin_bar(equity)
    if bar is None:
        return equity
    floored = equity.copy()
    floored.iloc[bar:] = 0.0
    return floored


def wind_up_ruin(ledger: pd.DataFrame) -> pd.DataFrame:
    """A ledger (`cash, value, position`) as a ruined account holds it: value floored at 0
    from the ruin bar on (like equity), nothing held after it (cash and position 0). The
    ruin bar keeps the cash and position that ruined it. Unchanged when never ruined."""
    bar = ruin_bar(ledger["value"])
    if bar is None:
        return ledger
    wound = ledger.copy()
    wound.iloc[bar:, wound.columns.get_loc("value")] = 0.0
    for col in ("cash", "position"):
        wound.iloc[bar + 1:, wound.columns.get_loc(col)] = 0.0
    return wound


def max_drawdown(equity: pd.Series) -> tuple[float, int]:
    """(deepest drawdown as a negative fraction, longest underwater run in bars)."""
    values = np.asarray(equity, dtype=float)
    peak = np.maximum.accumulate(values)
    drawdown = values / peak - 1.0
    under = drawdown < 0
    # Length of each underwater run: count since the last bar at a peak.
    run_id = np.cumsum(~under)
    runs = np.bincount(run_id[under]) if under.any() else np.array([0])
    return float(drawdown.min()), int(runs.max())


def cagr(equity: pd.Series) -> float:
    """Compound annual growth rate over len(equity) - 1 daily returns."""
    years = (len(equity) - 1) / TRADING_DAYS
    if years <= 0 or equity.iloc[0] <= 0:
        return math.nan
    growth = equity.iloc[-1] / equity.iloc[0]
    return float(growth ** (1.0 / years) - 1.0) if growth > 0 else -1.0


def trade_metrics(trades: pd.DataFrame) -> dict:
    """Trades, win rate, average win/loss, profit factor (on pnl_net).

    Every trade counts: one still open at the end is marked to the last close (see
    `Recorder.trades`), and `n_open_trades` says how many of them are.
    """
    pnl = trades["pnl_net"].to_numpy(dtype=float) if len(trades) else np.array([])
    return pnl_metrics(pnl, int(trades["open"].sum()) if "open" in trades else 0)


def pnl_metrics(pnl: np.ndarray, n_open: int) -> dict:
    """`trade_metrics` from the trades' net P&L (float array) and how many are still open."""
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "n_trades": int(len(pnl)),
        "n_open_trades": n_open,
        "win_rate": float(len(wins) / len(pnl)) if len(pnl) else math.nan,
        "avg_win": float(wins.mean()) if len(wins) else math.nan,
        "avg_loss": float(losses.mean()) if len(losses) else math.nan,
        "profit_factor": float(wins.sum() / -losses.sum()) if len(losses) else math.nan,
    }


def compute_metrics(
    equity: pd.Series,
    *,
    trades: pd.DataFrame | None = None,
    positions: pd.Series | None = None,
    traded_value: float = 0.0,
    risk_free: float = 0.0,
) -> dict:
    """All metrics of one equity curve.

    `positions` (shares held at each bar's close, aligned with `equity`) gives exposure,
    the share of bars invested; `traded_value` (sum of |size x price| over fills) gives
    turnover, traded value over mean equity per year. Trade statistics are there only
    when `trades` is given (buy-and-hold has none: one position never closed is no
    sample of wins and losses).
    """
    equity = pd.Series(equity, dtype=float)
    if len(equity) < 2 or not np.isfinite(equity.to_numpy()).all():
        raise DataError("an equity curve needs at least two finite values")
    ruined = ruin_bar(equity)
    equity = floor_ruin(equity)
    returns = daily_returns(equity if ruined is None else equity.iloc[: ruined + 1])
    mdd, mdd_bars = max_drawdown(equity)
    growth = cagr(equity)
    years = (len(equity) - 1) / TRADING_DAYS
    out = {
        "total_return": float(equity.iloc[-1] / equity.iloc[0] - 1.0),
        "cagr": growth,
        "volatility": float(returns.std(ddof=1) * math.sqrt(TRADING_DAYS)) if len(returns) > 1 else math.nan,
        "sharpe": sharpe_ratio(returns, risk_free=risk_free),
        "sortino": sortino_ratio(returns, risk_free),
        "max_drawdown": mdd,
        "max_drawdown_bars": mdd_bars,
        "calmar": float(growth / -mdd) if mdd < 0 else math.nan,
        **(trade_metrics(trades) if trades is not None else {}),
        "exposure": float((np.asarray(positions) != 0).mean()) if positions is not None else math.nan,
        "turnover": float(traded_value / equity.mean() / years),
        "ruined": ruined is not None,
        "ruined_on": equity.index[ruined] if ruined is not None else None,
    }
    return out

