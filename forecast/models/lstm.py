"""Stacked LSTM over the feature window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from forecast.models.keras_base import KerasForecaster, KerasScore
from forecast.models.params import LayerSizes, layer_sizes

# Longer windows stay rolled: an unrolled graph grows with every step.
UNROLL_MAX_STEPS = 64


@dataclass(eq=False, repr=False, kw_only=True)
class LSTMForecaster(KerasForecaster):
    """Keras stacked LSTM over the window.

    LSTM layers of `units` widths read the window in time order; a sigmoid unit gives
    P(up). The training parameters are `KerasForecaster`'s.
    """

    units: tuple[int, ...] | list[int] | int = (32,)

    _parameter_constraints = {
        **KerasForecaster._parameter_constraints,
        "units": [LayerSizes()],
    }
    # What `fcast tune` searches by default (forecast.tune.space): one LSTM layer's width.
    search_space: ClassVar[dict] = {
        "units": {"choices": [16, 32, 64]},
        "dropout": {"low": 0.0, "high": 0.5},
        "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
    }

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def _build_network(self, keras, input_shape, dtype):
        layers = layer_sizes(self.units)
        inputs = keras.Input(shape=input_shape, name="window")
        h = inputs
        # On a CPU a short window is unrolled: the same arithmetic without a loop op per
        # step (about 1.8x faster per epoch here). On a GPU it stays rolled, which is what
        # lets Keras use the fused cuDNN kernel.
        unroll = getattr(self, "device_", "cpu") == "cpu" and input_shape[0] <= UNROLL_MAX_STEPS
        for i, units in enumerate(layers):
            # Only the last LSTM collapses the sequence. No recurrent_dropout: it would
            # disable the fused cuDNN kernel on GPU.
            h = keras.layers.LSTM(units, return_sequences=i < len(layers) - 1, unroll=unroll,
                                  dtype=dtype)(h)
            if self.dropout > 0:
                h = keras.layers.Dropout(self.dropout, dtype=dtype)(h)
        out = self._output(keras, h)
        return keras.Model(inputs, out, name="lstm_forecaster")


class LSTMScore(KerasScore, LSTMForecaster):
    """Keras stacked LSTM regressing the target: `lstm`'s twin (same parameters)."""
