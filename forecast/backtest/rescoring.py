"""`rescore`: many configurations (strategy parameters x costs) of ONE forecast on one
ticker's bars, through the vector engine, as one table of metrics.

What every configuration shares is prepared once: the validated bars and predictions, the
feed for each warm-up, the targets for each parameter set, the prices. The numba kernel
(`kernel.run_kernel`, the one `simulate` runs) then trades each configuration in a tight
loop, and the metrics of all equity curves are computed at once over a configurations x
bars matrix (`batch_metrics`), with the formulas of `metrics.compute_metrics`. Each row
equals `simulate(..., engine="vector").metrics["strategy"]` of that configuration to
1e-12 (tests/backtest/test_rescore.py checks it).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.backtest import kernel
from forecast.backtest.broker import validate_broker
from forecast.backtest.engine import simulate
from forecast.backtest.feed import feed_frame, validate_predictions
from forecast.backtest.metrics import pnl_metrics
from forecast.backtest.params import parse_params, strategy_params
from forecast.backtest.recorder import SKIPPED_COSTS, no_orders_refused
from forecast.backtest.vector import choose_engine, open_trade_marks
from forecast.calendar import TRADING_DAYS
from forecast.data.frame import ensure_bars
from forecast.errors import ConfigError
from forecast.evaluate.predictions import Predictions
from forecast.stats.returns import daily_rate

COST_KEYS = ("commission", "slippage", "min_commission", "commission_per_share")
BLOCK = 32  # configurations whose metrics are computed together
COST_DEFAULTS = {"commission": defaults.COMMISSION, "slippage": defaults.SLIPPAGE,
                 "min_commission": defaults.MIN_COMMISSION, "commission_per_share": None}


def expand_grid(grid) -> list[dict]:
    """`{"key": [v1, v2], "other": v}` (every combination, in key order, the last key
    fastest) or a list of dicts (taken as they are); None: one empty configuration."""
    if grid is None:
        return [{}]
    if isinstance(grid, dict):
        axes = {k: (list(v) if isinstance(v, list | tuple | np.ndarray) else [v]) for k, v in grid.items()}
        if any(not v for v in axes.values()):
            raise ConfigError("a grid axis needs at least one value")
        return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    combos = [dict(c) for c in grid]
    if not combos:
        raise ConfigError("a grid needs at least one configuration")
    return combos


def _costs(combo: dict) -> dict:
    unknown = set(combo) - set(COST_KEYS)
    if unknown:
        raise ConfigError(f"unknown cost {sorted(unknown)[0]!r} (costs: {', '.join(COST_KEYS)})")
    return {**COST_DEFAULTS, **combo}


def rescore(
    bars: pd.DataFrame,
    predictions: Predictions | pd.DataFrame,
    strategy,
    param_grid=None,
    cost_grid=None,
    *,
    cash: float = defaults.CASH,
    risk_free: float = 0.0,
    results: bool = False,
) -> pd.DataFrame:
    """Metrics of `strategy` on `predictions` for every parameter set x cost set.

    `strategy`: a vector-capable strategy class (`strategies.load_strategy` resolves
    names). `param_grid` / `cost_grid`: dicts of axes (`{"threshold": [0.5, 0.55]}`, every
    combination) or lists of dicts; costs are `commission`, `slippage`, `min_commission`,
    `commission_per_share` (missing ones take `simulate`'s defaults). Returns one row per
    configuration, parameter sets outer and costs inner: the parameters as given, the four
    costs, then the keys of `simulate(...).metrics["strategy"]`. `results=True` adds a
    `result` column with each configuration's full `BacktestResult` (made one at a time by
    `simulate`, so much slower).
    """
    choose_engine(strategy, "vector")  # ConfigError unless the vector engine reproduces it
    bars = ensure_bars(bars)
    frame_in = predictions.frame if isinstance(predictions, Predictions) else predictions
    validate_predictions(frame_in, bars)
    frame_in = frame_in.sort_index()
    start = frame_in.index.min()
    param_sets = expand_grid(param_grid)
    cost_sets = [_costs(c) for c in expand_grid(cost_grid)]
    for costs in cost_sets:
        validate_broker(cash=cash, **costs)

    defaults_ = strategy_params(strategy)
    feeds: dict[int, tuple] = {}  # warm-up -> (feed, opens, closes, first reported bar)
    rows, values, positions = [], [], []
    for given in param_sets:
        typed = parse_params(strategy, given)
        warmup = strategy.warmup_bars(typed) if hasattr(strategy, "warmup_bars") else 0
        if warmup not in feeds:
            feed = feed_frame(bars, frame_in, warmup)
            feeds[warmup] = (feed, np.array(feed["open"], dtype="float64"),
                             np.array(feed["close"], dtype="float64"), feed.index.get_loc(start))
        feed, opens, closes, first = feeds[warmup]
        params = {**defaults_, **typed}
        targets = np.array(strategy.vector_targets(feed, params), dtype="float64")
        if targets.shape != (len(feed),):
            raise ConfigError(f"{strategy.__name__}.vector_targets must return one target per bar")
        band = float(params["rebalance_band"])
        for costs in cost_sets:
            value, pos, row = _trade(opens, closes, targets, band, cash, costs)
            rows.append({**given, **costs, **row})
            values.append(value[first:])
            positions.append(pos[first:])
    index = next(iter(feeds.values()))[0].loc[start:].index
    table = _assemble(rows, np.vstack(values), np.vstack(positions), index, risk_free)
    if results:
        table["result"] = [
            simulate(bars, predictions, strategy, given, cash=cash, risk_free=risk_free, engine="vector",
                     **costs)
            for given in param_sets for costs in cost_sets
        ]
    return table


def _trade(opens, closes, targets, band, cash, costs) -> tuple[np.ndarray, np.ndarray, dict]:
    """One configuration through the kernel: the value and position at each close of the
    feed, and what the metrics need of its fills and trades."""
    per_share = costs["commission_per_share"]
    _, value, pos, fills, trades, refused, stuck, skipped = kernel.run_kernel(
        opens, closes, targets, float(cash), float(costs["commission"]),
        np.nan if per_share is None else float(per_share), float(costs["min_commission"]),
        float(costs["slippage"]), band,
    )
    if stuck >= 0:  # as run_vector
        raise RuntimeError(f"vector engine: an order on bar {stuck} did not execute in full")
    *_, is_open, unrealised = open_trade_marks(trades, closes, value)
    pnl_net = np.where(is_open, trades["pnl_net"] + unrealised, trades["pnl_net"])
    return value, pos, {
        "_pnl": pnl_net, "_open": int(is_open.sum()),
        "_traded": float((np.abs(fills["size"]) * fills["price"]).sum()),
        "_refused": {**no_orders_refused(), "orders_rejected_cash": int(refused),
                     SKIPPED_COSTS[0]: int(skipped)},
    }


def _assemble(rows: list[dict], value: np.ndarray, position: np.ndarray, index: pd.DatetimeIndex,
              risk_free: float) -> pd.DataFrame:
    metrics = batch_metrics(value, position, np.array([r["_traded"] for r in rows]), risk_free)
    out = []
    for i, r in enumerate(rows):
        trades = pnl_metrics(r["_pnl"], r["_open"])
        m = {k: v[i] for k, v in metrics.items()}
        ruined = int(m.pop("_ruin_bar"))
        out.append({
            **{k: v for k, v in r.items() if not k.startswith("_")},
            "total_return": m["total_return"], "cagr": m["cagr"], "volatility": m["volatility"],
            "sharpe": m["sharpe"], "sortino": m["sortino"], "max_drawdown": m["max_drawdown"],
            "max_drawdown_bars": int(m["max_drawdown_bars"]), "calmar": m["calmar"], **trades,
            "exposure": m["exposure"], "turnover": m["turnover"],
            "ruined": ruined >= 0, "ruined_on": index[ruined] if ruined >= 0 else None,
            **r["_refused"],
        })
    table = pd.DataFrame(out)
    # Timestamps and None as in the metrics dict (pandas would turn None into NaT).
    table["ruined_on"] = pd.Series([r["ruined_on"] for r in out], dtype=object)
    return table


def batch_metrics(value: np.ndarray, position: np.ndarray, traded: np.ndarray,
                  risk_free: float = 0.0) -> dict[str, np.ndarray]:
    """`compute_metrics`'s equity, exposure and turnover figures for each row of `value`
    (configurations x bars, the ledger's values from the first reported bar) at once.

    Ruin as there: from the first value at or below zero the equity is zero and nothing is
    held after it, and the returns stop at that bar's -100%. `_ruin_bar`: its position, -1
    when never ruined.
    """
    if value.shape[1] < 2 or not np.isfinite(value).all():
        raise ConfigError("an equity curve needs at least two finite values")
    # Blocks of rows: a block's temporaries stay in cache (about 3x faster than the whole matrix).
    blocks = [_block_metrics(value[i:i + BLOCK], position[i:i + BLOCK], traded[i:i + BLOCK], risk_free)
              for i in range(0, len(value), BLOCK)]
    return {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}


def _block_metrics(value, position, traded, risk_free) -> dict[str, np.ndarray]:
    n = value.shape[1]
    bar = np.arange(n)
    broke = value <= 0
    ruin = np.where(broke.any(axis=1), broke.argmax(axis=1), -1)
    ruined = ruin >= 0
    equity = np.where(ruined[:, None] & (bar >= ruin[:, None]), 0.0, value)
    held = np.where(ruined[:, None] & (bar > ruin[:, None]), 0.0, position)
    years = (n - 1) / TRADING_DAYS

    # Returns up to the ruin bar (all of them when never ruined); NaN-free by construction.
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = equity[:, 1:] / equity[:, :-1] - 1.0
    counted = np.where(ruined, ruin, n - 1)
    valid = bar[None, : n - 1] < counted[:, None]
    returns = np.where(valid, returns, 0.0)
    count = counted.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = returns.sum(axis=1) / count
        dev = np.where(valid, returns - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / (count - 1.0))
        if risk_free == 0.0:  # returns - 0.0 are the returns: the same figures
            excess, ex_mean, ex_sd = returns, mean, sd
        else:
            excess = np.where(valid, returns - daily_rate(risk_free), 0.0)
            ex_mean = excess.sum(axis=1) / count
            ex_dev = np.where(valid, excess - ex_mean[:, None], 0.0)
            ex_sd = np.sqrt((ex_dev**2).sum(axis=1) / (count - 1.0))
        downside = np.sqrt((np.minimum(excess, 0.0) ** 2).sum(axis=1) / count)
    two = counted >= 2
    root = math.sqrt(TRADING_DAYS)

    peak = np.maximum.accumulate(equity, axis=1)
    drawdown = equity / peak - 1.0
    under = drawdown < 0
    last_peak = np.maximum.accumulate(np.where(under, -1, bar), axis=1)
    mdd = drawdown.min(axis=1)

    first, last = equity[:, 0], equity[:, -1]
    growth = last / first
    with np.errstate(invalid="ignore", divide="ignore"):
        cagr = np.where(growth > 0, np.abs(growth) ** (1.0 / years) - 1.0, -1.0)
    cagr = np.where(first <= 0, np.nan, cagr)  # n >= 2: years > 0
    return {
        "total_return": last / first - 1.0,
        "cagr": cagr,
        "volatility": np.where(counted > 1, sd * root, np.nan),
        "sharpe": np.where(two & (ex_sd > 0), ex_mean / np.where(ex_sd > 0, ex_sd, 1.0) * root, np.nan),
        "sortino": np.where(two & (downside > 0), ex_mean / np.where(downside > 0, downside, 1.0) * root,
                            np.nan),
        "max_drawdown": mdd,
        "max_drawdown_bars": np.where(under, bar - last_peak, 0).max(axis=1),
        "calmar": np.where(mdd < 0, cagr / np.where(mdd < 0, -mdd, 1.0), np.nan),
        "exposure": (held != 0).mean(axis=1),
        "turnover": traded / equity.mean(axis=1) / years,
        "_ruin_bar": ruin,
    }
