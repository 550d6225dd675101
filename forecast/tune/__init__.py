"""Nested hyperparameter tuning inside the walk-forward, every trial counted (docs/TUNING.md).

Optuna is imported only when a search runs."""

from forecast.tune.settings import TuneSettings

__all__ = ["TuneSettings"]
