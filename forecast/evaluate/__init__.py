"""Leak-free walk-forward evaluation and its metrics.

`walk_forward` produces out-of-sample predictions (docs/CONTRACTS.md), `evaluate` runs a
model and its baselines on the same dates, `direction_metrics` scores predictions.
Importing this package does not import TensorFlow.
"""

from forecast.evaluate.ensemble import ensemble_predictions
from forecast.evaluate.folds import Fold, plan_folds
from forecast.evaluate.metrics import (
    METRIC_KEYS,
    direction_metrics,
    metrics_table,
    next_day_returns,
)
from forecast.evaluate.predictions import label_returns
from forecast.evaluate.report import DEFAULT_BASELINES, EvaluationReport, evaluate
from forecast.evaluate.walkforward import walk_forward

__all__ = [
    "DEFAULT_BASELINES",
    "METRIC_KEYS",
    "EvaluationReport",
    "Fold",
    "direction_metrics",
    "ensemble_predictions",
    "evaluate",
    "label_returns",
    "metrics_table",
    "next_day_returns",
    "plan_folds",
    "walk_forward",
]
