"""A small Transformer encoder over the feature window."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from forecast.models.keras_base import KerasForecaster, KerasScore, last_step

POOLINGS = ("last", "mean")
# The registered name the position layer is saved under in a `.keras` file.
POSITION_LAYER = "fcast>SinusoidalPosition"


def sinusoidal_positions(steps: int, width: int) -> np.ndarray:
    """Vaswani et al.'s fixed encoding `(steps, width)`: sin on even, cos on odd columns."""
    pos = np.arange(steps)[:, None]
    col = np.arange(width)[None, :]
    angle = pos / np.power(10000.0, (col - col % 2) / width)
    return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))


_position_layer = None


def position_layer(keras):
    """The Keras layer adding `sinusoidal_positions` to its input, defined (and registered
    for loading) on first use, so that importing this module does not import Keras. A
    registered layer loads in Keras safe mode, which a Lambda would not."""
    global _position_layer
    if _position_layer is None:

        @keras.saving.register_keras_serializable(package="fcast", name="SinusoidalPosition")
        class SinusoidalPosition(keras.layers.Layer):
            """Adds the fixed sinusoidal position encoding to `(batch, steps, width)` inputs."""

            def call(self, x):
                table = sinusoidal_positions(int(x.shape[1]), int(x.shape[2]))
                return x + keras.ops.convert_to_tensor(table[None], dtype=x.dtype)

            def compute_output_shape(self, input_shape):
                return input_shape

        _position_layer = SinusoidalPosition
    return _position_layer


@dataclass(eq=False, repr=False, kw_only=True)
class TransformerForecaster(KerasForecaster):
    """Keras Transformer encoder (self-attention) over the window.

    Each window row is projected to `d_model` widths and given a sinusoidal position
    encoding; `layers` encoder blocks follow (layer norm, `heads`-head self-attention,
    layer norm, a ReLU feed-forward of `ff_units`, each with dropout and a residual add).
    The last row (`pooling="last"`) or the mean over rows (`"mean"`) gives P(up) through a
    sigmoid unit. Small by default, to train on a CPU. The training parameters are
    `KerasForecaster`'s.
    """

    d_model: int = 32
    heads: int = 2
    layers: int = 2
    ff_units: int = 64
    pooling: str = "last"

    _parameter_constraints = {
        **KerasForecaster._parameter_constraints,
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "heads": [Interval(Integral, 1, None, closed="left")],
        "layers": [Interval(Integral, 1, None, closed="left")],
        "ff_units": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions(set(POOLINGS))],
    }

    def _validate_params(self):
        super()._validate_params()
        # Worded like scikit-learn's own message, so check_params reports it in one line.
        if self.d_model % self.heads:
            raise InvalidParameterError(
                f"The 'heads' parameter of {type(self).__name__} must be a divisor of "
                f"d_model={self.d_model}. Got {self.heads!r} instead."
            )

    @classmethod
    def _keras_custom_objects(cls, keras) -> dict:
        return {POSITION_LAYER: position_layer(keras)}

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def _build_network(self, keras, input_shape, dtype):
        L = keras.layers
        inputs = keras.Input(shape=input_shape, name="window")
        h = position_layer(keras)(dtype=dtype)(L.Dense(self.d_model, dtype=dtype)(inputs))
        h = self._dropout(L, h, dtype)
        # Pre-norm blocks (norm before attention and feed-forward): steadier on few samples.
        for _ in range(self.layers):
            a = L.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
            a = L.MultiHeadAttention(self.heads, self.d_model // self.heads, dropout=self.dropout,
                                     dtype=dtype)(a, a)
            h = L.Add(dtype=dtype)([h, self._dropout(L, a, dtype)])
            f = L.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
            f = L.Dense(self.ff_units, activation="relu", dtype=dtype)(f)
            f = L.Dense(self.d_model, dtype=dtype)(f)
            h = L.Add(dtype=dtype)([h, self._dropout(L, f, dtype)])
        h = L.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
        if self.pooling == "mean":
            pooled = L.GlobalAveragePooling1D(dtype=dtype)(h)
        else:
            pooled = last_step(keras, h, dtype)
        out = self._output(keras, pooled)
        return keras.Model(inputs, out, name="transformer_forecaster")

    def _dropout(self, L, h, dtype):
        return L.Dropout(self.dropout, dtype=dtype)(h) if self.dropout > 0 else h


class TransformerScore(KerasScore, TransformerForecaster):
    """Keras Transformer encoder regressing the target: `transformer`'s twin (same parameters)."""
