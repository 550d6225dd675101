"""Multi-layer perceptron on the latest row or the flattened window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import StrOptions

from forecast.models.inputs import INPUT_MODES, to_tabular
from forecast.models.keras_base import KerasForecaster, KerasScore
from forecast.models.params import LayerSizes, layer_sizes


@dataclass(eq=False, repr=False, kw_only=True)
class MLPForecaster(KerasForecaster):
    """Keras dense network on the flattened window (or latest row).

    ReLU layers of `hidden_units` widths, each followed by dropout, and a sigmoid unit
    giving P(up). `input_mode="flatten"` feeds the whole window, `"latest"` only its
    last row. The training parameters are `KerasForecaster`'s.
    """

    hidden_units: tuple[int, ...] | list[int] | int = (64, 32)
    input_mode: str = "flatten"

    _parameter_constraints = {
        **KerasForecaster._parameter_constraints,
        "hidden_units": [LayerSizes()],
        "input_mode": [StrOptions(set(INPUT_MODES))],
    }
    # What `fcast tune` searches by default (forecast.tune.space): one hidden layer's width.
    search_space: ClassVar[dict] = {
        "hidden_units": {"choices": [16, 32, 64, 128]},
        "dropout": {"low": 0.0, "high": 0.5},
        "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
    }

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return to_tabular(X, self.input_mode)

    def _build_network(self, keras, input_shape, dtype):
        inputs = keras.Input(shape=input_shape, name="features")
        h = inputs
        for units in layer_sizes(self.hidden_units):
            h = keras.layers.Dense(units, activation="relu", dtype=dtype)(h)
            if self.dropout > 0:
                h = keras.layers.Dropout(self.dropout, dtype=dtype)(h)
        out = self._output(keras, h)
        return keras.Model(inputs, out, name="mlp_forecaster")


class MLPScore(KerasScore, MLPForecaster):
    """Keras dense network regressing the target: `mlp`'s twin (same parameters)."""
