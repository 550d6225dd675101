"""Stacked LSTM over the feature window."""

from __future__ import annotations

import numpy as np

from forecast.models.inputs import check_units
from forecast.models.keras_base import KerasForecaster


class LSTMForecaster(KerasForecaster):
    """Stacked LSTM layers read the window in time order; a sigmoid unit gives P(up)."""

    description = "Keras stacked LSTM over the window"

    def __init__(
        self,
        units=(32,),
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
        self.units = units
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
        check_units("units", self.units)

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        return X

    def _build_network(self, keras, input_shape, dtype):
        layers = check_units("units", self.units)
        inputs = keras.Input(shape=input_shape, name="window")
        h = inputs
        for i, units in enumerate(layers):
            # Only the last LSTM collapses the sequence. No recurrent_dropout: it would
            # disable the fused cuDNN kernel on GPU.
            h = keras.layers.LSTM(units, return_sequences=i < len(layers) - 1, dtype=dtype)(h)
            if self.dropout > 0:
                h = keras.layers.Dropout(self.dropout, dtype=dtype)(h)
        out = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="prob_up")(h)
        return keras.Model(inputs, out, name="lstm_forecaster")
