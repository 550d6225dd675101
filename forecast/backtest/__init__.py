"""Backtesting fcast predictions with backtrader, or with the vector (numba) engine that
gives the same results for the built-in prediction strategies (`vector.py`).

Convention: a decision taken on bar t's close fills at bar t+1's open, moved by slippage;
only bars from the first out-of-sample prediction on are reported, and every result is
set beside buy-and-hold of the same ticker over the same span.
"""

from forecast.backtest.engine import benchmark_equity, simulate
from forecast.backtest.feed import PredictionData, feed_frame
from forecast.backtest.metrics import compute_metrics
from forecast.backtest.rescoring import rescore
from forecast.backtest.result import BacktestResult
from forecast.backtest.vector import choose_engine, vector_applies

__all__ = [
    "simulate",
    "rescore",
    "BacktestResult",
    "PredictionData",
    "feed_frame",
    "benchmark_equity",
    "compute_metrics",
    "vector_applies",
    "choose_engine",
]
