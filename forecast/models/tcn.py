"""Temporal convolutional network: dilated causal 1-D convolutions over the feature window."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from forecast.models.keras_base import KerasForecaster, KerasScore, last_step
from forecast.models.params import LayerSizes, layer_sizes


@dataclass(eq=False, repr=False, kw_only=True)
class TCNForecaster(KerasForecaster):
    """Keras temporal convolutional network (dilated causal convolutions) over the window.

    One residual block per entry of `dilations` (Bai et al., 2018): two causal Conv1D
    layers of `filters` channels, `kernel_size` taps and that dilation, ReLU and dropout,
    added to the block's input (a 1x1 convolution matches the channels where they differ).
    The last time step of the last block gives P(up) through a sigmoid unit. With the
    defaults the last step reads 1 + 2 * (3 - 1) * (1 + 2 + 4 + 8) = 61 rows, the whole of a
    20-bar window. The training
    parameters are `KerasForecaster`'s.
    """

    filters: int = 32
    kernel_size: int = 3
    dilations: tuple[int, ...] | list[int] | int = (1, 2, 4, 8)

    _parameter_constraints = {
        **KerasForecaster._parameter_constraints,
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dilations": [LayerSizes()],
    }
    # Causal padding: output step i reads input steps <= i only. The window already ends
    # at the decision bar, so this is the TCN's design rather than the leak guard (see
    # tests/evaluate/test_leakage.py); tests plant "same" here to show what that changes.
    _padding = "causal"

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def _build_network(self, keras, input_shape, dtype):
        inputs = keras.Input(shape=input_shape, name="window")
        h = self._blocks(keras, inputs, dtype)
        out = self._output(keras, last_step(keras, h, dtype))
        return keras.Model(inputs, out, name="tcn_forecaster")

    def _blocks(self, keras, h, dtype):
        """The residual blocks over `h` `(batch, steps, features)`: one output per step."""
        layers = keras.layers
        for dilation in layer_sizes(self.dilations):
            skip = h
            for _ in range(2):
                h = layers.Conv1D(self.filters, self.kernel_size, padding=self._padding,
                                  dilation_rate=dilation, activation="relu", dtype=dtype)(h)
                if self.dropout > 0:
                    h = layers.Dropout(self.dropout, dtype=dtype)(h)
            if skip.shape[-1] != self.filters:
                skip = layers.Conv1D(self.filters, 1, dtype=dtype)(skip)
            h = layers.Activation("relu", dtype=dtype)(layers.Add(dtype=dtype)([h, skip]))
        return h


class TCNScore(KerasScore, TCNForecaster):
    """Keras TCN regressing the target: `tcn`'s twin (same parameters)."""
