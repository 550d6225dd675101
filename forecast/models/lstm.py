"""Stacked LSTM over the feature window."""

from __future__ import annotations

from dataclasses import dataclass

from forecast.models.recurrent import UNROLL_MAX_STEPS, RecurrentForecaster

__all__ = ["LSTMForecaster", "UNROLL_MAX_STEPS"]


@dataclass(eq=False, repr=False, kw_only=True)
class LSTMForecaster(RecurrentForecaster):
    """Keras stacked LSTM over the window.

    LSTM layers of `units` widths read the window in time order; a sigmoid unit gives
    P(up). The training parameters are `KerasForecaster`'s.
    """

    _layer = "LSTM"
