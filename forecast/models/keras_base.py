"""Shared training path for the Keras forecasters, behind the scikit-learn contract.

Keras and TensorFlow are imported inside `fit`/`predict_proba` only, so importing this
module (and the registry) stays cheap.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from forecast.errors import DataError
from forecast.models.device import check_device, device_scope, use_mixed_precision
from forecast.models.inputs import (
    check_class_weight,
    check_float,
    check_int,
    check_X,
    check_y,
)

PREDICT_BATCH = 4096


def chronological_split(
    n_samples: int, validation_fraction: float, gap: int = 0
) -> tuple[slice, slice]:
    """Split sample positions into a training head and a validation tail, in time order.

    The validation part is the last `round(n * validation_fraction)` samples (at least one
    when the fraction is positive), so early stopping never looks at a sample that comes
    before a training sample. `gap` samples between the two are dropped: with labels
    `horizon` bars ahead, a gap of horizon - 1 keeps the last training labels from
    overlapping the first validation ones. A fraction of 0 gives an empty validation slice.
    """
    check_float("validation_fraction", validation_fraction, 0.0, 1.0, high_open=True)
    check_int("validation_gap", gap, 0)
    n_val = 0 if validation_fraction == 0 else max(1, int(round(n_samples * validation_fraction)))
    n_train = n_samples - n_val - (gap if n_val else 0)
    if n_train < 1:
        raise DataError(
            f"{n_samples} samples leave nothing to train on with validation_fraction={validation_fraction}"
        )
    return slice(0, n_train), slice(n_samples - n_val, n_samples)


def balanced_class_weight(y_train: np.ndarray) -> dict[int, float]:
    """Keras class_weight dict from the training labels only ('balanced' heuristic)."""
    classes = np.unique(y_train)
    weights = compute_class_weight("balanced", classes=classes, y=y_train)
    return {int(c): float(w) for c, w in zip(classes, weights, strict=True)}


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TF ops deterministic (same seed, same numbers)."""
    from forecast.models.tf_import import keras as _keras_module
    from forecast.models.tf_import import tensorflow

    keras, tf = _keras_module(), tensorflow()

    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


class KerasForecaster(ClassifierMixin, BaseEstimator):
    """Base for Keras classifiers on 3-D windows; subclasses define the network.

    Subclasses set `__init__` with explicit parameters (the scikit-learn rule) and
    implement `_prepare(X)` (3-D windows -> network input) and
    `_build_network(keras, input_shape, dtype)`.
    """

    kind = "model"
    description = ""

    # --- hooks for subclasses -------------------------------------------------------
    def _prepare(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _build_network(self, keras, input_shape, dtype):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_extra(self) -> None:
        """Subclass-specific parameter checks."""

    # --- parameter checks -----------------------------------------------------------
    def validate_params(self) -> None:
        """Raise ConfigError on the first bad parameter (called by fit and make_model)."""
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("patience", self.patience, 0)
        check_int("seed", self.seed, 0)
        check_float("learning_rate", self.learning_rate, 0.0, 1.0, low_open=True)
        check_float("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_float("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        check_int("validation_gap", self.validation_gap, 0)
        check_class_weight(self.class_weight)
        check_device(self.device)
        self._validate_extra()

    # --- training -------------------------------------------------------------------
    def fit(self, X, y, callbacks=None):
        """Train on windows X `(samples, window, features)` and 0/1 labels y, in time order.

        The last `validation_fraction` of the samples is held out for early stopping
        (best weights restored); only the training head is shuffled. `callbacks` are
        extra Keras callbacks, e.g. a progress reporter.
        """
        self.validate_params()
        X = check_X(X)
        y = check_y(y, len(X))
        train, val = chronological_split(len(X), self.validation_fraction, self.validation_gap)
        inputs = self._prepare(X).astype(np.float32)
        labels = y.astype(np.float32)
        # Weights come from the training head only: the validation tail is "later".
        cw = balanced_class_weight(y[train]) if self.class_weight == "balanced" else None
        has_val = val.stop > val.start

        from forecast.models.tf_import import keras as _keras_module

        keras = _keras_module()

        seed_everything(self.seed)
        mixed = use_mixed_precision(self.device, self.mixed_precision)
        with device_scope(self.device) as resolved:
            model = self._build_network(keras, inputs.shape[1:], "mixed_float16" if mixed else "float32")
            optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate)
            if mixed:
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss" if has_val else "loss",
                patience=self.patience,
                restore_best_weights=True,
            )
            history = model.fit(
                inputs[train],
                labels[train],
                validation_data=(inputs[val], labels[val]) if has_val else None,
                epochs=self.epochs,
                batch_size=self.batch_size,
                shuffle=True,
                class_weight=cw,
                callbacks=[stopper, *(callbacks or [])],
                verbose=self.verbose,
            )

        self.model_ = model
        self.classes_ = np.array([0, 1])
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = X.shape[2]
        self.class_weight_ = cw
        self.device_ = resolved
        self.mixed_precision_ = mixed
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.n_epochs_ = len(self.history_["loss"])
        self.best_epoch_ = int(stopper.best_epoch) + 1
        self.n_train_ = train.stop
        return self

    # --- prediction -----------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Probabilities `(n, 2)`: columns are P(down), P(up)."""
        check_is_fitted(self, "model_")
        X = check_X(X, self.input_shape_)
        inputs = self._prepare(X).astype(np.float32)
        # "gpu" predicts via auto so a model loaded on a CPU-only machine still predicts.
        with device_scope("cpu" if self.device == "cpu" else "auto"):
            p = self.model_.predict(inputs, batch_size=PREDICT_BATCH, verbose=0)
        p = np.clip(np.asarray(p, dtype=np.float64).reshape(-1), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Predicted class, 1 (up) when P(up) > 0.5."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)
