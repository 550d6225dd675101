"""The signal document: what `fcast signal --json` prints and a journal entry holds
(its fields: docs/SIGNALS.md)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd

from forecast.signal.config import SignalConfig
from forecast.signal.orders import orders_for
from forecast.signal.sessions import next_session, sessions_behind

VERSION = 1


def signal_document(config: SignalConfig, rows: list[dict], *, as_of, weights: dict | None = None,
                    positions: dict | None = None, cash: float | None = None, today=None) -> dict:
    """The document of a signal whose per-ticker `rows` (ticker, as_of, prob_up or score,
    target, close, ...) were made with `config`; with `positions` (ticker -> shares) and
    `cash`, the orders that reach the targets."""
    from forecast.provenance import fcast_version

    as_of = pd.Timestamp(as_of)
    behind = sessions_behind(as_of, today)
    doc = {
        "kind": "signal",
        "version": VERSION,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fcast_version": fcast_version(),
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
        "as_of": str(as_of.date()),
        "next_session": str(next_session(as_of).date()),
        "stale": behind > 0,
        "sessions_behind": behind,
        "signals": rows,
        "weights": weights,
        "orders": [],
        "positions": positions,
        "cash": cash,
    }
    if positions is not None or cash is not None:
        doc["orders"] = [o.to_dict() for o in account_orders(config, rows, positions or {}, cash or 0.0)]
    return doc


def account_orders(config: SignalConfig, rows: list[dict], positions: dict, cash: float):
    """Orders for the account: a portfolio's weights as they are; several single-ticker
    signals share the account equally (each backtest ran on a whole account)."""
    priced = [r for r in rows if r.get("close") is not None]
    share = 1.0 if config.kind == "portfolio" else 1.0 / max(1, len(rows))
    targets = {r["ticker"]: r["target"] * share for r in priced
               if r.get("target") is not None and not math.isnan(r["target"])}
    prices = {r["ticker"]: r["close"] for r in priced}
    return orders_for(targets, prices, positions, cash, config.costs, rebalance_band=_band(config))


def _band(config: SignalConfig) -> float:
    """The rebalance band the backtest used: the portfolio's, or the strategy's parameter."""
    from forecast import defaults

    if config.kind == "portfolio":
        return float(config.portfolio.get("rebalance_band", defaults.REBALANCE_BAND))
    from forecast.backtest.params import strategy_params
    from strategies import load_strategy

    known = strategy_params(load_strategy(config.strategy))
    return float({**known, **config.params}.get("rebalance_band", 0.0))
