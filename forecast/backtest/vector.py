"""The vector engine: `PredictionStrategy` subclasses run without backtrader.

A strategy whose targets can be computed for all bars at once (its `vector_targets`
hook) and whose orders follow `PredictionStrategy`'s rules unchanged is traded by the
numba kernel (`kernel.py`), which replays backtrader's arithmetic exactly; this module
decides when that applies and turns the kernel's arrays into the tables `Recorder`
would have built (same columns, dtypes and values).

The library may not import `strategies`, so the base class is recognised by a marker
it sets on itself, `_vector_base`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.backtest import kernel
from forecast.backtest.layout import CLOSED
from forecast.backtest.recorder import SKIPPED_COSTS, TRADE_COLUMNS, no_orders_refused, num_to_timestamps
from forecast.errors import ConfigError

# What turns a target into orders and records it: overridden anywhere below the base
# class, the kernel would no longer replay the strategy.
ORDER_HOOKS = (
    "next", "prenext", "nextstart", "next_open", "prenext_open", "nextstart_open",
    "order_exposure", "_affordable", "_fee_exceeds_value", "notify_order", "notify_trade", "notify_cashvalue",
    "notify_fund", "notify_store", "notify_data", "notify_timer", "start", "stop",
)


def _definer(cls: type, name: str) -> type | None:
    """The class of `cls`'s MRO whose own namespace holds `name`."""
    return next((k for k in cls.__mro__ if name in vars(k)), None)


def _is_method(value) -> bool:
    return inspect.isfunction(value) or isinstance(value, classmethod | staticmethod | property)


def vector_applies(cls) -> bool:
    """Whether the vector engine reproduces `cls` (a backtrader Strategy class).

    Yes only for a subclass of the base strategy (the class marked `_vector_base`) whose
    `target_exposure` comes from the same class as its `vector_targets` (the "owner"),
    where no order or recording hook is overridden below the base, and the classes below
    the owner define no methods at all (they may only change parameter defaults): a
    user subclass that changes how targets are computed runs on backtrader.
    """
    if not isinstance(cls, type):
        return False
    base = next((k for k in cls.__mro__ if vars(k).get("_vector_base") is True), None)
    owner = _definer(cls, "vector_targets")
    if base is None or owner is None or owner is base or not issubclass(owner, base):
        return False
    if _definer(cls, "target_exposure") is not owner:
        return False
    if any(_definer(cls, name) not in (None, *base.__mro__) for name in ORDER_HOOKS):
        return False
    below = cls.__mro__[: cls.__mro__.index(owner)]
    return not any(_is_method(v) for k in below for v in vars(k).values())


def choose_engine(cls, engine: str) -> str:
    """"vector" or "backtrader" for `engine` ("auto", "vector", "backtrader")."""
    if engine not in ("auto", "vector", "backtrader"):
        raise ConfigError(f"engine must be 'auto', 'vector' or 'backtrader', got {engine!r}")
    if engine == "backtrader":
        return engine
    applies = vector_applies(cls)
    if engine == "vector" and not applies:
        raise ConfigError(
            f"the vector engine cannot run {getattr(cls, '__name__', cls)!r}: it runs built-in "
            "prediction strategies and subclasses that only change parameters (use engine "
            "'backtrader' or 'auto')"
        )
    return "vector" if applies else "backtrader"


@dataclass
class Run:
    """What a run leaves for the result: the engine-independent part of a backtest."""

    ledger: pd.DataFrame  # all feed bars, like Recorder.bars()
    fills: pd.DataFrame
    trades: pd.DataFrame
    refused: dict
    targets: pd.Series | None  # decided targets by date (None: the strategy records none)


def run_vector(frame: pd.DataFrame, cls, params: dict, *, cash: float, commission: float,
               commission_per_share: float | None, min_commission: float, slippage: float) -> Run:
    """Trade `cls`'s targets over the feed `frame` (see `feed.feed_frame`); `params` are
    all of the strategy's parameters (defaults included)."""
    # Fresh writable copies: pandas hands out read-only views, a second type (and a second
    # compilation) for numba.
    targets = np.array(cls.vector_targets(frame, params), dtype="float64")
    if targets.shape != (len(frame),):
        raise ConfigError(f"{cls.__name__}.vector_targets must return one target per bar")
    opens = np.array(frame["open"], dtype="float64")
    closes = np.array(frame["close"], dtype="float64")
    per_share = np.nan if commission_per_share is None else float(commission_per_share)
    cash_, value, position, fills, trades, refused, stuck, skipped = kernel.run_kernel(
        opens, closes, targets, float(cash), float(commission), per_share, float(min_commission),
        float(slippage), float(params["rebalance_band"]),
    )
    if stuck >= 0:  # backtrader would carry the rest of that order to the next bar
        raise RuntimeError(f"vector engine: an order on bar {stuck} did not execute in full")
    dates = pd.DatetimeIndex(frame.index.to_numpy().astype("datetime64[us]"), name="date")
    decided = ~np.isnan(frame["prob_up"].to_numpy(dtype="float64"))
    return Run(
        ledger=_ledger(dates, cash_, value, position, closes, traded=len(fills) > 0),
        fills=_fills(dates, fills),
        trades=_trades(frame.index, trades, closes, value),
        refused={**no_orders_refused(), "orders_rejected_cash": int(refused),
                 SKIPPED_COSTS[0]: int(skipped)},
        targets=pd.Series(targets[decided], index=dates[decided]),
    )


def _ledger(dates, cash, value, position, closes, *, traded: bool) -> pd.DataFrame:
    # backtrader's position size stays the integer 0 until the first fill.
    pos = position if traded else position.astype("int64")
    return pd.DataFrame({"cash": cash, "value": value, "position": pos, "close": closes}, index=dates)


def _fills(dates, fills: np.ndarray) -> pd.DataFrame:
    """Recorder.fills_frame from the kernel's FILL records."""
    columns = ["date", "size", "price", "commission"]
    if not len(fills):  # as Recorder builds it from no rows
        frame = pd.DataFrame([], columns=columns)
        frame["date"] = num_to_timestamps(frame["date"])
        return frame
    return pd.DataFrame({"date": dates[fills["bar"]], "size": fills["size"], "price": fills["price"],
                         "commission": fills["commission"]})


def _trades(index: pd.DatetimeIndex, trades: np.ndarray, closes: np.ndarray,
            value: np.ndarray) -> pd.DataFrame:
    """Recorder.trades from the kernel's TRADE records (same sums, same order)."""
    end, last_close, is_open, unrealised = open_trade_marks(trades, closes, value)
    size = trades["size"]
    shrunk = np.where(is_open, trades["shrunk"] + np.abs(-size), trades["shrunk"])
    shrunk_value = np.where(is_open, trades["shrunk_value"] + np.abs(-size) * last_close,
                            trades["shrunk_value"])
    exit_bar = np.where(is_open, end, trades["last_bar"]).astype("int64")
    # Recorder goes through datetime.date: whole days, to the second.
    days = index.to_numpy().astype("datetime64[D]").astype("datetime64[s]")
    frame = pd.DataFrame({
        "entry_date": days[trades["open_bar"]],
        "exit_date": days[exit_bar],
        "direction": np.where(trades["long"], "long", "short").astype(object),
        "size": trades["max_size"],
        "entry_price": _vwap(trades["grown"], trades["grown_value"]),
        "exit_price": _vwap(shrunk, shrunk_value),
        "pnl": np.where(is_open, trades["pnl"] + unrealised, trades["pnl"]),
        "pnl_net": np.where(is_open, trades["pnl_net"] + unrealised, trades["pnl_net"]),
        "open": is_open.astype(bool),
    }, columns=TRADE_COLUMNS)
    if not len(trades):  # as Recorder builds it from no rows
        frame = pd.DataFrame([], columns=TRADE_COLUMNS)
        for col in ("entry_date", "exit_date"):
            frame[col] = pd.to_datetime(frame[col])
        frame["open"] = frame["open"].astype(bool)
    return frame


def open_trade_marks(trades: np.ndarray, closes: np.ndarray, value: np.ndarray):
    """(end bar, its close, which trades are open, their unrealised P&L): an open trade is
    marked to the last close, or to the close of the ruin bar, as Recorder does."""
    broke = np.flatnonzero(value <= 0)  # a ruined account's open trade ends at its ruin
    end = int(broke[0]) if broke.size else len(closes) - 1
    last_close = closes[end]
    is_open = trades["status"] != CLOSED
    # elementwise, the same operations as Recorder's
    unrealised = np.where(is_open, trades["size"] * (last_close - trades["price"]), 0.0)
    return end, last_close, is_open, unrealised


def _vwap(total: np.ndarray, value: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, value / total, np.nan)
