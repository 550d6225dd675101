"""`tune_model`: nested tuning of one model on one ticker, judged with every trial counted.

The tuned walk-forward (`walk_forward(..., tune=settings)`) gives out-of-sample
forecasts; `evaluate` scores them beside the baselines on the same days (the untuned model
among them when it is a baseline). The forecasts are then traded by the default strategy
(long-only above 0.5, default costs), and that out-of-sample Sharpe ratio is deflated by
the number of trials actually spent, with the dispersion of the trials' own Sharpe ratios
on their inner validation blocks (Bailey & López de Prado 2014). PBO is computed per fold
among its complete trials on their validation days (CSCV) and averaged over the folds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.tune.result import TuneResult
from forecast.tune.settings import TuneSettings


def tune_model(
    bars: pd.DataFrame,
    model: Any,
    settings: TuneSettings,
    *,
    model_params: dict | None = None,
    seed: int = defaults.SEED,
    progress: Callable[[int, int], None] | None = None,
    cache: Any = None,
    baselines: tuple[str, ...] | None = None,
    **walk_forward_kwargs: Any,
) -> TuneResult:
    """Tune `model` inside the walk-forward of `bars` and judge the result (a `TuneResult`).

    `walk_forward_kwargs`: window, test_days, retrain_every, label, spec, ... as for
    `walk_forward`. `cache`: a `PredictionCache` (the key includes the tuning settings).
    `baselines`: those `evaluate` runs beside (default: all of them).
    """
    from forecast.api import run_backtest
    from forecast.evaluate.report import DEFAULT_BASELINES, evaluate
    from forecast.stats import deflated_sharpe_ratio
    from forecast.stats.returns import daily_returns

    report = evaluate(bars, model, model_params=model_params, seed=seed, progress=progress, cache=cache,
                      tune=settings, baselines=DEFAULT_BASELINES if baselines is None else baselines,
                      **walk_forward_kwargs)
    preds = report.predictions[report.model]
    record = preds.attrs["tune"]
    backtest = run_backtest(bars, preds, strategy=defaults.STRATEGY)
    returns = daily_returns(backtest.equity["strategy"])
    sharpes = [s for fold in record["folds"] for s in fold["trial_sharpes"]]
    dsr = (deflated_sharpe_ratio(returns, sharpes or [0.0], n_trials=record["trials"])
           if len(returns) > 2 else None)
    pbos = [f["pbo"] for f in record["folds"] if f["pbo"] is not None]
    pbo = float(np.mean(pbos)) if pbos else None
    return TuneResult(evaluation=report, backtest=backtest, tune=record,
                      dsr=None if dsr is None or not np.isfinite(dsr) else float(dsr), pbo=pbo, seed=seed)
