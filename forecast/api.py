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
from forecast.defaults import ENGINE, SINGLE_TICKER_MODEL, STRATEGY
from forecast.settings import model_params_for  # noqa: F401  (re-exported: fc.model_params_for)


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
    evaluation refits the scaling on each training span). `spec`: a FeatureSpec, a mapping,
    or a preset name ("alpha158") or TOML file, as `--features` takes."""
    from forecast.features import FeaturePipeline

    return FeaturePipeline(spec).fit_transform(bars)


def make_forecaster(name: str, **params):
    """A model from the registry by name (`fcast models list` shows them)."""
    from forecast.models.registry import make_model

    return make_model(name, **params)


def walk_forward(bars: pd.DataFrame, model: str | Any = SINGLE_TICKER_MODEL, **kwargs) -> pd.DataFrame:
    """Out-of-sample predictions from periodic refits (see `forecast.evaluate.walk_forward`)."""
    from forecast.evaluate import walk_forward as _walk_forward

    return _walk_forward(bars, model, **kwargs)


def evaluate_model(bars: pd.DataFrame, model: str | Any = SINGLE_TICKER_MODEL, **kwargs):
    """Walk-forward evaluation of `model` beside every baseline on identical dates.

    Returns an `EvaluationReport` (`.metrics` table, `.predictions`, `.to_dict()`).
    """
    from forecast.evaluate import evaluate as _evaluate

    return _evaluate(bars, model, **kwargs)


def over_seeds(run: Callable[[int], Any], *, seeds: int, seed: int = 0,
               sections: tuple[str | None, ...] = (None,)) -> dict:
    """`run(s)` for s = seed..seed+seeds-1, each an independent run (give `s` to the call's
    `seed=`), and each figure's mean and spread over them: {"seeds", "per_seed" (each run's
    `to_dict()`), "summary" (figure -> mean, std, min, max, n)}. `sections`: which parts of
    the documents hold the figures (None: the top level; e.g. ("strategy", "forecast") for a
    backtest). Example: ``fc.over_seeds(lambda s: fc.evaluate_model(bars, "lgbm", seed=s), seeds=5)``.
    """
    from forecast.seeds import over_seeds as _over_seeds

    def as_doc(s: int) -> dict:
        made = run(s)
        return made.to_dict() if hasattr(made, "to_dict") else dict(made)

    return _over_seeds(as_doc, seed, seeds, sections)


def train(bars: pd.DataFrame, model: str | Any = SINGLE_TICKER_MODEL, **kwargs):
    """Fit `model` on the whole of `bars` (see `forecast.training.train_model`)."""
    from forecast.training import train_model

    return train_model(bars, model, **kwargs)


def predict(
    bars: pd.DataFrame,
    model: str | Any = SINGLE_TICKER_MODEL,
    *,
    model_params: dict | None = None,
    model_path: str | Path | None = None,
    start=None,
    progress: Callable[[int, int], None] | None = None,
    callbacks: list | None = None,
    cache=None,
    **walk_forward_kwargs,
):
    """Out-of-sample predictions with their provenance (a `Predictions`).

    From a model saved by `fcast train` when `model_path` is given (dates after its
    training span, from `start` if given), else from a walk-forward run of `model`
    (`walk_forward_kwargs`: window, horizon, label, test_days, retrain_every, seed, ...).
    `cache`: True (the prediction cache in the default home), a
    `forecast.cache.PredictionCache`, or None/False (no cache) for walk-forward runs; the
    provenance then records ``cache``: "hit" or "miss".
    """
    from forecast.evaluate.predictions import Predictions

    if model_path is None:
        store = _prediction_cache(cache)
        kwargs = dict(model_params=model_params, progress=progress, callbacks=callbacks,
                      **walk_forward_kwargs)
        if store is None:
            return Predictions.from_frame(walk_forward(bars, model, **kwargs), bars)
        frame = store.walk_forward(bars, model, **kwargs)
        extra = {"cache": store.last} if store.last else {}
        return Predictions.from_frame(frame, bars, **extra)
    from forecast.training import load_trained
    from forecast.training import predict as predict_forward

    trained = load_trained(model_path)
    ticker = bars.attrs.get("ticker")
    if trained.ticker and ticker and trained.ticker != ticker:
        logging.getLogger("fcast").warning(
            "%s: the model at %s was trained on %s, not %s; its features were scaled "
            "on %s's history", ticker, model_path, trained.ticker, ticker, trained.ticker,
        )
    return Predictions.from_frame(predict_forward(trained, bars, start=start), bars,
                                  model_path=str(model_path))


def _prediction_cache(cache):
    """None, or the `PredictionCache` that `cache` (True / a cache / None / False) means."""
    if cache is None or cache is False:
        return None
    from forecast.cache import PredictionCache

    return PredictionCache() if cache is True else cache


def run_backtest(
    bars: pd.DataFrame,
    predictions=None,
    *,
    strategy: str | type = STRATEGY,
    params: dict | list | None = None,
    model: str | Any = SINGLE_TICKER_MODEL,
    model_params: dict | None = None,
    model_path: str | Path | None = None,
    start=None,
    walk_forward_kwargs: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    callbacks: list | None = None,
    engine: str = ENGINE,
    cache=None,
    **broker_kwargs,
):
    """Backtest a strategy driven by out-of-sample predictions; returns a `BacktestResult`.

    `predictions`: a `Predictions` (from `predict`), a predictions frame (from
    `walk_forward` or hand-made), or None to make them here with `predict` (`model`,
    `model_params`, `model_path`, `start`, `walk_forward_kwargs`). `strategy`: a built-in
    name, `module:Class`, `path/to/file.py:Class` or a Strategy class, resolved before any
    training. `broker_kwargs`: cash, commission, commission_per_share, min_commission,
    slippage, risk_free. `engine`: "auto", "vector" or "backtrader" (see
    `forecast.backtest.simulate`). `cache`: as for `predict`. The result is built once,
    complete: model, forecast metrics on the predictions' label, their provenance and the bars' (`data`).
    """
    from forecast.backtest import simulate
    from forecast.evaluate.predictions import Predictions
    from strategies import load_strategy, strategy_label

    # Names resolve here, above the engine (which takes a class), before any training.
    cls = load_strategy(strategy)
    if predictions is None:
        predictions = predict(bars, model, model_params=model_params, model_path=model_path,
                              start=start, progress=progress, callbacks=callbacks, cache=cache,
                              **(walk_forward_kwargs or {}))
    elif not isinstance(predictions, Predictions):
        predictions = Predictions.from_frame(predictions, bars)
    if "prob_up" not in predictions.frame.columns:
        from forecast.errors import ConfigError

        raise ConfigError("single-ticker strategies trade P(up): these predictions hold a return "
                          "target's scores; run the walk-forward with target='direction'")
    result = simulate(bars, predictions, cls, params, name=strategy_label(strategy, cls), engine=engine,
                      **broker_kwargs)
    # Provenance of the bars (run.json keeps it too), for metrics.json and its report.
    from forecast.provenance import bars_fingerprint

    result.data = {"fingerprint": bars_fingerprint(bars), "source": bars.attrs.get("source")}
    return result


def rescore(bars: pd.DataFrame, predictions, *, strategy: str | type = STRATEGY, param_grid=None,
            cost_grid=None, **kwargs) -> pd.DataFrame:
    """Metrics of many parameter x cost configurations of one forecast, batched through the
    vector engine: one row each (see `forecast.backtest.rescore`; `kwargs`: cash, risk_free,
    results). `strategy`: as for `run_backtest`, a strategy the vector engine runs."""
    from forecast.backtest import rescore as batched
    from strategies import load_strategy

    return batched(bars, predictions, load_strategy(strategy), param_grid, cost_grid, **kwargs)


def plot_equity(result):
    """A matplotlib Figure of strategy and buy-and-hold equity with the drawdown below."""
    from forecast.backtest.plot import equity_figure

    return equity_figure(result)
