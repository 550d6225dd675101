"""Stacked LSTM over the feature window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from forecast.models.keras_base import KerasScore
from forecast.models.recurrent import UNROLL_MAX_STEPS, RecurrentForecaster

__all__ = ["LSTMForecaster", "LSTMScore", "UNROLL_MAX_STEPS"]


@dataclass(eq=False, repr=False, kw_only=True)
class LSTMForecaster(RecurrentForecaster):
    """Keras stacked LSTM over the window.

    LSTM layers of `units` widths read the window in time order; a sigmoid unit gives
    P(up). The training parameters are `KerasForecaster`'s.
    """

    _layer = "LSTM"
    # What `fcast tune` searches by default (forecast.tune.space): one LSTM layer's width.
    search_space: ClassVar[dict] = {
        "units": {"choices": [16, 32, 64]},
        "dropout": {"low": 0.0, "high": 0.5},
        "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
    }


class LSTMScore(KerasScore, LSTMForecaster):
    """Keras stacked LSTM regressing the target: `lstm`'s twin (same parameters)."""
