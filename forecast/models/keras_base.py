"""Shared training path for the Keras forecasters, behind the scikit-learn contract.

Keras (on the backend `forecast.models.backend` selects) is imported inside
`fit`/`predict_proba` only, so importing this module (and the registry) stays cheap.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from forecast.errors import ConfigError, DataError
from forecast.models.device import DEVICES, device_scope, use_mixed_precision
from forecast.models.inputs import check_values, check_X, check_y
from forecast.models.params import check_fraction, check_int, check_params
from forecast.models.window_source import WindowSource

PREDICT_BATCH = 4096
# Training batches run per call into the compiled step: the per-call Python and dispatch
# cost, not the arithmetic, dominated a small network's epoch. Same updates, same order.
STEPS_PER_CALL = 16


# Training samples are shuffled every epoch (tests turn it off to compare the array and
# the streamed paths batch for batch).
SHUFFLE = True


def window_batches(keras, source: WindowSource, labels: np.ndarray, part: slice, batch_size: int,
                   prepare, shuffle_seed=None):
    """A `keras.utils.PyDataset` of samples `part` of `source`, each batch cut when asked for.

    With `shuffle_seed` the samples are put in a new random order before every epoch (a
    generator seeded once, so a fit is reproducible); without, they stay in time order.
    """

    class WindowBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.order = np.arange(part.start, part.stop)
            self.rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
            self.on_epoch_end()

        def __len__(self):
            return -(-len(self.order) // batch_size)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            return prepare(source.take(idx)).astype(np.float32), labels[idx]

        def on_epoch_end(self):
            if self.rng is not None:
                self.rng.shuffle(self.order)

    return WindowBatches()


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
    check_fraction("validation_fraction", validation_fraction)
    check_int("validation_gap", gap, 0)
    n_val = 0 if validation_fraction == 0 else max(1, int(round(n_samples * validation_fraction)))
    n_train = n_samples - n_val - (gap if n_val else 0)
    if n_train < 1:
        raise DataError(
            f"{n_samples} samples leave nothing to train on with validation_fraction={validation_fraction}"
        )
    return slice(0, n_train), slice(n_samples - n_val, n_samples)


def whole_batches(part: slice, batch_size: int) -> slice:
    """`part` without its oldest `len % batch_size` samples (unchanged when shorter than
    one batch). Dropping the oldest keeps the time order and the validation gap intact."""
    n = part.stop - part.start
    return part if n < batch_size else slice(part.start + n % batch_size, part.stop)


def balanced_class_weight(y_train: np.ndarray) -> dict[int, float]:
    """Keras class_weight dict from the training labels only ('balanced' heuristic)."""
    classes = np.unique(y_train)
    weights = compute_class_weight("balanced", classes=classes, y=y_train)
    return {int(c): float(w) for c, w in zip(classes, weights, strict=True)}


def fit_takes_callbacks(estimator_or_class) -> bool:
    """Whether `fit` accepts `callbacks=` (the Keras models do; e.g. an epoch progress bar)."""
    fit = getattr(estimator_or_class, "fit", None)
    try:
        return fit is not None and "callbacks" in inspect.signature(fit).parameters
    except (TypeError, ValueError):  # a fit without a readable signature (C extensions)
        return False


def last_step(keras, h, dtype):
    """The last time step of `(batch, steps, width)` as `(batch, width)`, from built-in
    layers only: a Lambda (or a raw slice) would not load in Keras safe mode."""
    cropped = keras.layers.Cropping1D((int(h.shape[1]) - 1, 0), dtype=dtype)(h)
    return keras.layers.Flatten(dtype=dtype)(cropped)


# kw_only: the generated __init__ takes keywords only, so a subclass's own parameters can
# follow these without a positional call landing on the wrong one. eq/repr stay
# scikit-learn's (identity, and the get_params repr).
@dataclass(eq=False, repr=False, kw_only=True)
class KerasForecaster(ClassifierMixin, BaseEstimator):
    """Base for Keras classifiers on 3-D windows; subclasses define the network.

    The training parameters below are shared. A subclass is itself a
    `@dataclass(eq=False, repr=False, kw_only=True)` declaring only its own parameters
    as fields (scikit-learn's `get_params` and `clone` read the generated `__init__`),
    adds their constraints to `_parameter_constraints`, and implements `_prepare(X)`
    (3-D windows -> network input) and `_build_network(keras, input_shape, dtype)`.

    `warm_start` (scikit-learn's meaning): a second `fit` on an already fitted instance
    continues from its weights and optimizer state for at most `warm_epochs` epochs,
    instead of building a fresh network for up to `epochs`. Walk-forward uses this to
    refit each fold from the previous fold's model, which saw only earlier bars.
    """

    # Walk-forward may hand this fitted instance the next fold (see `warm_start`).
    warm_refits = True
    # Pooled walk-forwards hand `fit` a WindowSource instead of gathered windows.
    streams_windows = True
    # A regression twin (`KerasScore`): a linear output trained on squared error.
    regression = False

    dropout: float = 0.1
    learning_rate: float = 1e-3
    epochs: int = 50
    batch_size: int = 64
    patience: int = 5
    validation_fraction: float = 0.2
    validation_gap: int = 0
    class_weight: str | None = None
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = False
    warm_start: bool = True
    warm_epochs: int = 2
    verbose: int = 0

    _parameter_constraints = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "learning_rate": [Interval(Real, 0, 1, closed="right")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "validation_gap": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), None],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "device": [StrOptions(set(DEVICES))],
        "warm_start": ["boolean"],
        "warm_epochs": [Interval(Integral, 1, None, closed="left")],
        # Not checked: any truthy value asks for mixed precision; Keras takes verbose as given.
        "mixed_precision": "no_validation",
        "verbose": "no_validation",
    }

    # --- hooks for subclasses -------------------------------------------------------
    def _prepare(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _build_network(self, keras, input_shape, dtype):  # pragma: no cover - abstract
        raise NotImplementedError

    def _output(self, keras, h):
        """The network's one output unit: a sigmoid giving P(up), or for a regression twin
        a linear score. It stays float32 so mixed precision keeps the loss stable."""
        if self.regression:
            return keras.layers.Dense(1, dtype="float32", name="score")(h)
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="prob_up")(h)

    @classmethod
    def _keras_custom_objects(cls, keras) -> dict:
        """Registered name -> class of each custom layer the network uses, for loading a
        saved one (Keras safe mode loads registered classes, never a Lambda's code)."""
        return {}

    # --- training -------------------------------------------------------------------
    def fit(self, X, y, callbacks=None):
        """Train on windows X `(samples, window, features)` and 0/1 labels y, in time order.

        The last `validation_fraction` of the samples is held out for early stopping
        (best weights restored); only the training head is shuffled. `callbacks` are
        extra Keras callbacks, e.g. a progress reporter.
        """
        check_params(self)
        # A WindowSource (pooled universe training) is cut into windows batch by batch.
        streamed = isinstance(X, WindowSource)
        X = X.check() if streamed else check_X(X)
        y = check_values(y, len(X)) if self.regression else check_y(y, len(X))
        if self.regression and self.class_weight is not None:
            raise ConfigError("class_weight weighs direction labels; a return or rank target takes none")
        train, val = chronological_split(len(X), self.validation_fraction, self.validation_gap)
        # Whole batches only: every fold then feeds the compiled step the same shapes, so
        # it is not retraced (TensorFlow) or recompiled (JAX) for a ragged last batch.
        train, val = whole_batches(train, self.batch_size), whole_batches(val, self.batch_size)
        inputs = None if streamed else self._prepare(X).astype(np.float32)
        input_shape = (self._prepare(X.take(slice(0, 1))) if streamed else inputs).shape[1:]
        if self.regression:
            # Daily returns are ~0.01: standardised (on the training head only, the
            # validation tail being "later") the squared error is of order one.
            self.y_mean_ = float(y[train].mean())
            self.y_scale_ = float(y[train].std()) or 1.0
            y = (y - self.y_mean_) / self.y_scale_
        labels = y.astype(np.float32)
        # Weights come from the training head only: the validation tail is "later".
        cw = balanced_class_weight(y[train]) if self.class_weight == "balanced" else None
        has_val = val.stop > val.start

        from forecast.models.backend import keras as _keras_module
        from forecast.models.backend import seed_everything

        keras = _keras_module()

        seed_everything(self.seed)
        mixed = use_mixed_precision(self.device, self.mixed_precision)
        with device_scope(self.device) as resolved:
            warm = self._continues(X, resolved, mixed)
            self.device_ = resolved  # read by `_build_network` (the LSTM unrolls on a CPU)
            if warm:
                # Same network, optimizer and compiled train step: no rebuild, no retrace.
                model, epochs = self.model_, self.warm_epochs
            else:
                model, epochs = self._compiled(keras, input_shape, mixed), self.epochs
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss" if has_val else "loss",
                patience=self.patience,
                restore_best_weights=True,
            )
            if streamed:
                data = dict(
                    x=window_batches(keras, X, labels, train, self.batch_size, self._prepare,
                                     shuffle_seed=self.seed if SHUFFLE else None),
                    validation_data=window_batches(keras, X, labels, val, PREDICT_BATCH, self._prepare)
                    if has_val else None,
                    shuffle=False,  # the batches shuffle their own sample order
                )
            else:
                data = dict(
                    x=inputs[train],
                    y=labels[train],
                    validation_data=(inputs[val], labels[val]) if has_val else None,
                    batch_size=self.batch_size,
                    # Scoring the validation tail in one batch, not batch_size ones, halves
                    # an epoch's time on a CPU; it changes no number.
                    validation_batch_size=PREDICT_BATCH,
                    shuffle=SHUFFLE,
                )
            history = model.fit(
                **data,
                epochs=epochs,
                class_weight=cw,
                callbacks=[stopper, *(callbacks or [])],
                verbose=self.verbose,
            )

        self.model_ = model
        if not self.regression:
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
        self.warm_started_ = warm
        return self

    def _continues(self, X, resolved: str, mixed: bool) -> bool:
        """Whether this fit continues the fitted network (see `warm_start`)."""
        return (
            self.warm_start
            and getattr(getattr(self, "model_", None), "compiled", False)  # not a loaded artifact
            and self.input_shape_ == tuple(X.shape[1:])
            and (self.device_, self.mixed_precision_) == (resolved, mixed)
        )

    def _compiled(self, keras, input_shape, mixed: bool):
        model = self._build_network(keras, input_shape, "mixed_float16" if mixed else "float32")
        optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate)
        if mixed:
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        from forecast.models.backend import jit_compile, steps_per_execution

        loss, metrics = ("mse", []) if self.regression else ("binary_crossentropy", ["accuracy"])
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                      jit_compile=jit_compile(self.device_),
                      steps_per_execution=steps_per_execution(STEPS_PER_CALL))
        return model

    # --- prediction -----------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Probabilities `(n, 2)`: columns are P(down), P(up)."""
        p = np.clip(self._outputs(X), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def _outputs(self, X) -> np.ndarray:
        """The output unit's value for each window, as float64."""
        check_is_fitted(self, "model_")
        X = check_X(X, self.input_shape_)
        inputs = self._prepare(X).astype(np.float32)
        # "gpu" predicts via auto so a model loaded on a CPU-only machine still predicts.
        with device_scope("cpu" if self.device == "cpu" else "auto"):
            # One walk-forward block fits one batch: predict_on_batch skips the dataset
            # and callback machinery that `predict` sets up on every call.
            if len(inputs) <= PREDICT_BATCH:
                p = self.model_.predict_on_batch(inputs)
            else:
                p = self.model_.predict(inputs, batch_size=PREDICT_BATCH, verbose=0)
        return np.asarray(p, dtype=np.float64).reshape(-1)

    def predict(self, X) -> np.ndarray:
        """Predicted class, 1 (up) when P(up) > 0.5."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)


class KerasScore(RegressorMixin):
    """Mixin making a Keras forecaster its own regression twin: a linear output trained on
    squared error against the standardised target, the same chronological early-stopping
    tail (and `validation_gap`) as for direction, `predict` giving the score in the
    target's units. List it first: `class MLPScore(KerasScore, MLPForecaster)`."""

    regression = True

    def predict(self, X) -> np.ndarray:
        """The predicted target (a return, or a rank) for each window."""
        return self._outputs(X) * self.y_scale_ + self.y_mean_

    def predict_proba(self, X):
        raise ConfigError(f"{type(self).__name__} predicts a return or rank, not P(up)")
