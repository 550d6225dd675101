"""Multi-layer perceptron on the latest row or the flattened window."""

from __future__ import annotations

import numpy as np

from forecast.models.inputs import check_input_mode, check_units, to_tabular
from forecast.models.keras_base import KerasForecaster


class MLPForecaster(KerasForecaster):
    """Dense network (ReLU layers, dropout, sigmoid output) predicting P(up).

    `input_mode="flatten"` feeds the whole window, `"latest"` only its last row.
    """

    description = "Keras dense network on the flattened window (or latest row)"

    def __init__(
        self,
        hidden_units=(64, 32),
        input_mode: str = "flatten",
        dropout: float = 0.1,
        learning_rate: float = 1e-3,
        epochs: int = 50,
        batch_size: int = 64,
        patience: int = 5,
        validation_fraction: float = 0.2,
        validation_gap: int = 0,
        class_weight: str | None = None,
        seed: int = 0,
        device: str = "auto",
        mixed_precision: bool = False,
        verbose: int = 0,
    ):
        self.hidden_units = hidden_units
        self.input_mode = input_mode
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.validation_gap = validation_gap
        self.class_weight = class_weight
        self.seed = seed
        self.device = device
        self.mixed_precision = mixed_precision
        self.verbose = verbose

    def _validate_extra(self) -> None:
        check_units("hidden_units", self.hidden_units)
        check_input_mode(self.input_mode)

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return to_tabular(X, self.input_mode)

    def _build_network(self, keras, input_shape, dtype):
        inputs = keras.Input(shape=input_shape, name="features")
        h = inputs
        for units in check_units("hidden_units", self.hidden_units):
            h = keras.layers.Dense(units, activation="relu", dtype=dtype)(h)
            if self.dropout > 0:
                h = keras.layers.Dropout(self.dropout, dtype=dtype)(h)
        # The output stays float32 so mixed precision keeps a stable sigmoid/loss.
        out = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="prob_up")(h)
        return keras.Model(inputs, out, name="mlp_forecaster")
