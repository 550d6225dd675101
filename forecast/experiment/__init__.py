"""Experiments: grids of tickers x models x seeds x strategies x costs, trained once per
(ticker, model, seed), re-scored from the prediction cache, run serially or on Ray, and
judged against the number of trials (`forecast.stats`)."""

from forecast.experiment.executors import RayExecutor, SerialExecutor
from forecast.experiment.result import ExperimentResult
from forecast.experiment.runner import run_experiment
from forecast.experiment.spec import EXAMPLE, ExperimentSpec, universe

__all__ = ["EXAMPLE", "ExperimentResult", "ExperimentSpec", "RayExecutor", "SerialExecutor",
           "run_experiment", "universe"]
