"""Experiments: grids of tickers x models x seeds x strategies x costs, trained once per
(ticker, model, seed), re-scored from the prediction cache, run serially or on Ray, and
judged against the number of trials (`forecast.stats`).

Names load on first use (PEP 562), so the CLI can read the example spec at start-up
without importing the runner and everything behind it.
"""

from importlib import import_module

_WHERE = {
    "EXAMPLE": "spec", "ExperimentSpec": "spec",
    "RayExecutor": "executors", "SerialExecutor": "executors",
    "ExperimentResult": "result", "run_experiment": "runner",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'forecast.experiment' has no attribute {name!r}")
    return getattr(import_module(f"forecast.experiment.{_WHERE[name]}"), name)
