"""Stacked GRU over the feature window."""

from __future__ import annotations

from dataclasses import dataclass

from forecast.models.keras_base import KerasScore
from forecast.models.recurrent import RecurrentForecaster


@dataclass(eq=False, repr=False, kw_only=True)
class GRUForecaster(RecurrentForecaster):
    """Keras stacked GRU over the window.

    GRU layers of `units` widths read the window in time order (Keras's defaults, which
    keep the cuDNN kernel on a GPU); a sigmoid unit gives P(up). Fewer weights than an
    LSTM of the same width. The training parameters are `KerasForecaster`'s.
    """

    _layer = "GRU"


class GRUScore(KerasScore, GRUForecaster):
    """Keras stacked GRU regressing the target: `gru`'s twin (same parameters)."""
