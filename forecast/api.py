"""The public Python API: what the CLI and the notebooks call.

Function names differ from the subpackages (`forecast.evaluate`, `forecast.backtest`,
`forecast.features`) on purpose: an attribute of the `forecast` package named like a
subpackage would be replaced by the module as soon as that subpackage is imported.

Every function returns pandas objects (or small dataclasses holding them). TensorFlow is
imported only when a Keras model trains or predicts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from forecast.data.frame import adjusted
from forecast.data.loader import load_bars
from forecast.data.store import Store


def load(
    ticker: str,
    *,
    source: str | None = None,
    path: str | Path | None = None,
    start=None,
    end=None,
    home: str | Path | None = None,
) -> pd.DataFrame:
    """Daily bars for `ticker`, split- and dividend-adjusted, from the store or a source.

    Resolution without `source`: the local store, then Yahoo Finance, then (Yahoo
    unreachable) the history bundled with fcast. `source` forces ``yahoo``, ``file``
    (with `path`) or ``bundled``.
    """
    bars = load_bars(ticker, source=source, path=path, store=Store(home), start=start, end=end)
    return adjusted(bars)


def build_features(bars: pd.DataFrame, spec=None) -> pd.DataFrame:
    """The feature table of `bars`, scaled on `bars` themselves (for exploration only:
    evaluation refits the scaling on each training span)."""
    from forecast.features import FeaturePipeline

    return FeaturePipeline(spec).fit_transform(bars)


def make_forecaster(name: str, **params):
    """A model from the registry by name (`fcast models list` shows them)."""
    from forecast.models.registry import make_model

    return make_model(name, **params)


def model_params_for(name: str, **candidates) -> dict:
    """Keep only the `candidates` (epochs, seed, device, ...) that model `name` accepts
    (a registry name, `module:Class` or `path/to/file.py:Class`)."""
    from forecast.models.registry import default_params

    accepted = set(default_params(name))
    return {k: v for k, v in candidates.items() if k in accepted and v is not None}


def walk_forward(bars: pd.DataFrame, model: str | Any = "lstm", **kwargs) -> pd.DataFrame:
    """Out-of-sample predictions from periodic refits (see `forecast.evaluate.walk_forward`)."""
    from forecast.evaluate import walk_forward as _walk_forward

    return _walk_forward(bars, model, **kwargs)


def evaluate_model(bars: pd.DataFrame, model: str | Any = "lstm", **kwargs):
    """Walk-forward evaluation of `model` beside every baseline on identical dates.

    Returns an `EvaluationReport` (`.metrics` table, `.predictions`, `.to_dict()`).
    """
    from forecast.evaluate import evaluate as _evaluate

    return _evaluate(bars, model, **kwargs)


def train(bars: pd.DataFrame, model: str | Any = "lstm", **kwargs):
    """Fit `model` on the whole of `bars` (see `forecast.training.train_model`)."""
    from forecast.training import train_model

    return train_model(bars, model, **kwargs)


def run_backtest(
    bars: pd.DataFrame,
    predictions: pd.DataFrame | None = None,
    *,
    model: str | Any = "lstm",
    model_params: dict | None = None,
    model_path: str | Path | None = None,
    strategy: str | type = "long-only",
    params: dict | list | None = None,
    walk_forward_kwargs: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    callbacks: list | None = None,
    **broker_kwargs,
):
    """Backtest a strategy driven by out-of-sample predictions; returns a `BacktestResult`.

    Predictions come from `predictions` if given, else from a saved model
    (`model_path`, predicting only after its training span), else from a walk-forward
    run of `model` (`walk_forward_kwargs`: window, test_days, retrain_every, seed, ...).
    `broker_kwargs`: cash, commission, commission_per_share, min_commission, slippage,
    risk_free. The result also carries `forecast_metrics` of the predictions used.
    """
    from forecast.backtest import run_backtest as _run_backtest
    from forecast.evaluate import direction_metrics, label_returns
    from strategies import load_strategy, strategy_label

    # Names resolve here, above the engine (which takes a class), before any training.
    cls = load_strategy(strategy)

    if predictions is None:
        if model_path is not None:
            from forecast.training import load_trained, predict

            trained = load_trained(model_path)
            ticker = bars.attrs.get("ticker")
            if trained.ticker and ticker and trained.ticker != ticker:
                logging.getLogger("fcast").warning(
                    "%s: the model at %s was trained on %s, not %s; its features were scaled "
                    "on %s's history", ticker, model_path, trained.ticker, ticker, trained.ticker,
                )
            start = (walk_forward_kwargs or {}).get("start")
            predictions = predict(trained, bars, start=start)
        else:
            predictions = walk_forward(
                bars, model, model_params=model_params, progress=progress, callbacks=callbacks,
                **(walk_forward_kwargs or {}),
            )
    if "actual_up" not in predictions.columns:
        # Hand-made predictions: score them against the direction of the return traded
        # after each decision (the default label: next open to the open after it).
        from forecast.features import DEFAULT_LABEL, make_target

        made = predictions.attrs  # the label the predictions say they forecast, else the default
        actual = make_target(bars, int(made.get("horizon", 1)), made.get("threshold", 0.0),
                             symmetric=made.get("symmetric", False),
                             label=made.get("label", DEFAULT_LABEL))
        predictions = predictions.assign(actual_up=actual.reindex(predictions.index))
    result = _run_backtest(bars, predictions, cls, params, name=strategy_label(strategy, cls),
                           **broker_kwargs)
    # Only predictions know which model made them; hand-made ones stay unnamed.
    result.model = predictions.attrs.get("model")
    # Scored on the return its label is made of: by default the very return traded.
    result.forecast_metrics = direction_metrics(
        predictions["prob_up"], predictions["actual_up"], label_returns(bars, predictions)
    )
    made = {k: v for k, v in predictions.attrs.items() if k not in ("model", "ticker")}
    if model_path is not None:
        made["model_path"] = str(model_path)
    result.walk_forward = made or None
    return result


def plot_equity(result):
    """A matplotlib Figure of strategy and buy-and-hold equity with the drawdown below."""
    from forecast.backtest.plot import equity_figure

    return equity_figure(result)
