"""`simulate`: predictions + bars + strategy class -> BacktestResult, through backtrader or the
vector engine (`vector.py`), which give the same result."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd

from forecast import defaults
from forecast.backtest.broker import configure_broker, validate_broker
from forecast.backtest.feed import PredictionData, feed_frame, validate_predictions
from forecast.backtest.metrics import compute_metrics, floor_ruin, wind_up_ruin
from forecast.backtest.params import parse_params, strategy_params
from forecast.backtest.recorder import Recorder, num_to_timestamps
from forecast.backtest.result import BacktestResult
from forecast.backtest.vector import Run, choose_engine, run_vector
from forecast.data.frame import ensure_bars
from forecast.errors import ConfigError
from forecast.evaluate.predictions import Predictions


def simulate(
    bars: pd.DataFrame,
    predictions: Predictions | pd.DataFrame,
    strategy: type[bt.Strategy],
    params: dict | list | None = None,
    *,
    name: str | None = None,
    cash: float = defaults.CASH,
    commission: float = defaults.COMMISSION,
    commission_per_share: float | None = None,
    min_commission: float = defaults.MIN_COMMISSION,
    slippage: float = defaults.SLIPPAGE,
    risk_free: float = 0.0,
    engine: str = defaults.ENGINE,
) -> BacktestResult:
    """Trade `strategy` on `predictions` over `bars` and compare it with buy-and-hold.

    `predictions` is a `Predictions` (the result then also carries the model's name, the
    forecast metrics on the predictions' label and their provenance) or a bare frame
    (`prob_up`, optionally `actual_up`), whose result carries none of those.

    `strategy` is a backtrader Strategy class (names are resolved above the engine, by
    `strategies.load_strategy`); `params` a dict or `["key=value", ...]`; `name` how the
    result calls the strategy (default: the class's name). A decision on bar t's close fills at bar
    t+1's open x (1 +/- slippage); `commission` is a fraction of traded value (or
    `commission_per_share` per share), at least `min_commission` per order (a flip is one
    order: one fee). Only bars from the first prediction date on are reported; the
    buy-and-hold benchmark buys at the open of the bar after it (`benchmark_entry`, the
    first bar any order can fill) without costs and holds to the last close;
    `first_trade` is the strategy's first actual fill (None if it never traded).
    """
    if not (isinstance(strategy, type) and issubclass(strategy, bt.Strategy)):
        raise ConfigError(
            f"the backtest engine takes a backtrader Strategy class, got {strategy!r} "
            "(strategies.load_strategy resolves names)"
        )
    chosen = choose_engine(strategy, engine)
    bars = ensure_bars(bars)  # loaded bars pass as they are; a hand-made frame is validated
    made = predictions if isinstance(predictions, Predictions) else None
    predictions = predictions.frame if made is not None else predictions
    validate_predictions(predictions, bars)
    cls = strategy
    typed = parse_params(cls, params or {})
    predictions = predictions.sort_index()
    # Any strategy may ask for history ahead of the first prediction (PredictionStrategy does).
    warmup = cls.warmup_bars(typed) if hasattr(cls, "warmup_bars") else 0
    frame = feed_frame(bars, predictions, warmup)

    costs = {"cash": cash, "commission": commission, "commission_per_share": commission_per_share,
             "min_commission": min_commission, "slippage": slippage}
    validate_broker(**costs)
    if chosen == "vector":
        run = run_vector(frame, cls, {**strategy_params(cls), **typed}, **costs)
    else:
        run = _run_backtrader(frame, cls, typed, bars.attrs.get("ticker", "data"), costs)

    start = predictions.index.min()
    # A ruined account holds nothing from its ruin on (metrics.py), whatever the broker does.
    ledger = wind_up_ruin(run.ledger.loc[start:])
    entry = ledger.index[1]  # the first bar an order decided on a prediction can fill
    fills, trades = run.fills, run.trades

    bench = benchmark_equity(frame.loc[start:], entry, cash)
    # A ruined account is worth nothing from its ruin on (metrics.py), whatever the broker holds.
    equity = pd.DataFrame({"strategy": floor_ruin(ledger["value"]), "benchmark": bench})
    equity.index.name = "date"

    strategy_metrics = compute_metrics(
        equity["strategy"],
        trades=trades,
        positions=ledger["position"],
        traded_value=float((fills["size"].abs() * fills["price"]).sum()),
        risk_free=risk_free,
    )
    metrics = {
        "strategy": {**strategy_metrics, **run.refused},  # orders that did not fill
        "benchmark": compute_metrics(
            equity["benchmark"],
            positions=(equity.index >= entry).astype(float),
            traded_value=float(cash),
            risk_free=risk_free,
        ),
    }
    return BacktestResult(
        equity=equity,
        trades=trades,
        predictions=_prediction_table(predictions, run.targets),
        metrics=metrics,
        ticker=bars.attrs.get("ticker"),
        strategy=name or cls.__name__,
        params={**dict(cls.params._getitems()), **typed},
        start=start,
        end=equity.index[-1],
        benchmark_entry=entry,
        first_trade=fills["date"].min() if len(fills) else None,
        ledger=ledger,
        fills=fills,
        model=made.model if made else None,
        forecast_metrics=made.metrics(bars) if made else None,
        # Whether a cache served the predictions is not part of what made them.
        walk_forward=({k: v for k, v in made.provenance.items() if k != "cache"} or None) if made else None,
        settings={
            "cash": cash,
            "commission": commission,
            "commission_per_share": commission_per_share,
            "min_commission": min_commission,
            "slippage": slippage,
            "risk_free": risk_free,
        },
        engine=chosen,
    )


def _run_backtrader(frame: pd.DataFrame, cls, typed: dict, name: str, costs: dict) -> Run:
    cerebro = bt.Cerebro(stdstats=False, tradehistory=True, cheat_on_open=True)
    cerebro.adddata(PredictionData(dataname=frame), name=name)
    cerebro.addstrategy(cls, **typed)
    cerebro.addanalyzer(Recorder, _name="recorder")
    configure_broker(cerebro, **costs)
    strat = cerebro.run()[0]
    recorder = strat.analyzers.recorder
    return Run(
        ledger=recorder.bars(),
        fills=recorder.fills_frame(),
        trades=recorder.trades(),
        refused=recorder.refused,
        targets=_decided_targets(getattr(strat, "targets", None)),
    )


def benchmark_equity(frame: pd.DataFrame, entry: pd.Timestamp, cash: float) -> pd.Series:
    """Buy-and-hold value: `cash` until `entry`, then cash x close / open[entry]."""
    price = frame.at[entry, "open"]
    held = frame.index >= entry
    return pd.Series(np.where(held, cash * frame["close"].to_numpy() / price, cash), index=frame.index)


def _decided_targets(targets) -> pd.Series | None:
    """`PredictionStrategy.targets` rows (date number, prob_up, target) as targets by date."""
    if not targets:
        return None
    decided = pd.DataFrame(targets, columns=["date", "prob_up", "target"])
    return pd.Series(decided["target"].to_numpy(), index=num_to_timestamps(decided["date"]))


def _prediction_table(predictions: pd.DataFrame, targets: pd.Series | None) -> pd.DataFrame:
    out = pd.DataFrame({"prob_up": predictions["prob_up"].astype(float)}, index=predictions.index)
    out["target"] = np.nan
    if targets is not None:
        out["target"] = targets
    out["actual_up"] = predictions["actual_up"].astype(float) if "actual_up" in predictions else np.nan
    out.index.name = "date"
    return out.reset_index()
