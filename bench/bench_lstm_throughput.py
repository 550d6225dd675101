"""Pooled LSTM training throughput: fcast's LSTMForecaster beside a bare Keras `fit`.

The Fischer & Krauss network (one LSTM layer of 25 units, dropout 0.1, a sigmoid unit) on
pooled windows shaped like theirs (window 240, one feature), synthetic so that it runs
anywhere. Both train on the same float32 arrays, same batch size and epochs; a callback
times every epoch; the first (tracing, compiling) is left out and the quickest of the rest, over
interleaved repeats, is kept (the machine is shared). Printed: training samples
per second of

- `LSTMForecaster.fit` (its chronological validation tail scored every epoch for early
  stopping, as walk-forwards run it);
- the same without a validation tail (`validation_fraction=0`, the same training windows);
- `LSTMForecaster.fit` on the same windows as a `WindowSource` (a pooled universe's path:
  each batch cut from the stacked rows when trained on);
- a bare `keras.Model.fit` of the same architecture on the training head, without and with
  the same validation data;

and the ratio fcast / bare (goal >= 0.9, issue 22). Keras runs on `KERAS_BACKEND` (default
tensorflow) or `--backend`.

    .venv/bin/python bench/bench_lstm_throughput.py [--samples 20000 --epochs 3 --batch-size 512]
                                                    [--backend tensorflow|jax]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from forecast.models.backend import seed_everything, select_backend

UNITS, DROPOUT = (25,), 0.1


def make_data(n: int, window: int, n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, n_features)).astype(np.float32)
    y = (X[:, -1, 0] + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


class EpochTimes:
    """A Keras callback factory: wall seconds of each epoch (validation included)."""

    def __init__(self, keras):
        times = self.times = []

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t0)

        self.callback = Timer()

    def steady(self) -> float:
        """The quickest epoch after the first: on a shared machine, the least disturbed."""
        later = self.times[1:] or self.times
        return float(np.min(later))


def fcast_fit(keras, X, y, args, validation_fraction: float = 0.2) -> tuple[float, int]:
    from forecast.models.registry import make_model

    model = make_model("lstm", units=UNITS, dropout=DROPOUT, epochs=args.epochs, patience=args.epochs,
                       batch_size=args.batch_size, seed=0, validation_fraction=validation_fraction)
    timer = EpochTimes(keras)
    model.fit(X, y, callbacks=[timer.callback])
    # fcast trains on whole batches only: the oldest n_train % batch_size are dropped.
    return timer.steady(), model.n_train_ - model.n_train_ % args.batch_size


def bare_fit(keras, X, y, n_train: int, args, validation: bool) -> float:
    seed_everything(0)
    inputs = keras.Input(shape=X.shape[1:])
    h = keras.layers.LSTM(UNITS[0])(inputs)
    h = keras.layers.Dropout(DROPOUT)(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    timer = EpochTimes(keras)
    labels = y.astype(np.float32)
    head = slice(len(X) - n_val(X, args) - n_train, len(X) - n_val(X, args))
    val = (X[len(X) - n_val(X, args):], labels[len(X) - n_val(X, args):]) if validation else None
    model.fit(X[head], labels[head], validation_data=val, epochs=args.epochs,
              batch_size=args.batch_size, shuffle=True, verbose=0, callbacks=[timer.callback])
    return timer.steady()


def n_val(X, args) -> int:
    """fcast's validation tail: 20% of the windows, whole batches (see keras_base)."""
    n = int(round(len(X) * 0.2))
    return n if n < args.batch_size else n - n % args.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--window", type=int, default=240)
    parser.add_argument("--features", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps-per-call", type=int, default=None,
                        help="override fcast's training batches per compiled call (a diagnosis)")
    parser.add_argument("--backend", default=None, help="default: KERAS_BACKEND or tensorflow")
    args = parser.parse_args()
    backend = select_backend(args.backend)
    if args.steps_per_call is not None:
        from forecast.models import keras_base

        keras_base.STEPS_PER_CALL = args.steps_per_call
    from forecast.models.backend import keras as keras_module
    from forecast.models.device import describe_device

    keras = keras_module()
    X, y = make_data(args.samples, args.window, args.features)
    print(f"backend {backend}, device: {describe_device('auto')}")
    print(f"data: {args.samples:,} windows x {args.window} x {args.features} (float32), LSTM {UNITS}, "
          f"batch {args.batch_size}, {args.epochs} epochs (the first left out), "
          f"quickest epoch of {args.repeats} interleaved runs")
    runs: dict[str, list[float]] = {"fcast": [], "noval": [], "bare": [], "bare+val": [], "stream": []}
    # The same windows as a WindowSource (how a pooled universe fit gets them): window i is
    # rows i*window .. i*window + window - 1 of the stacked rows.
    from forecast.models.window_source import WindowSource

    source = WindowSource(X.reshape(-1, X.shape[2]), np.arange(len(X)) * args.window + args.window - 1,
                          args.window)
    for _ in range(args.repeats):  # interleaved, so background load hits all alike
        ours, n_train = fcast_fit(keras, X, y, args)
        runs["fcast"].append(ours)
        runs["stream"].append(fcast_fit(keras, source, y, args)[0])
        head = slice(len(X) - n_val(X, args) - n_train, len(X) - n_val(X, args))
        runs["noval"].append(fcast_fit(keras, X[head], y[head], args, 0.0)[0])
        runs["bare"].append(bare_fit(keras, X, y, n_train, args, validation=False))
        runs["bare+val"].append(bare_fit(keras, X, y, n_train, args, validation=True))
    ours, no_val, bare, bare_val, streamed = (min(runs[k]) for k in ("fcast", "noval", "bare", "bare+val",
                                                                     "stream"))
    rate = {k: n_train / v for k, v in (("fcast", ours), ("bare", bare), ("bare+val", bare_val),
                                         ("fcast-noval", no_val), ("stream", streamed))}
    print(f"LSTMForecaster.fit: {rate['fcast']:,.0f} training samples/s ({ours:.2f} s an epoch, "
          f"{n_train:,} training + {n_val(X, args):,} validation windows)")
    print(f"LSTMForecaster.fit, validation_fraction=0 (same training windows): "
          f"{rate['fcast-noval']:,.0f} samples/s ({no_val:.2f} s an epoch)")
    print(f"LSTMForecaster.fit on a WindowSource (pooled universes: batches cut as trained): "
          f"{rate['stream']:,.0f} samples/s ({streamed:.2f} s an epoch)")
    print(f"bare keras fit, no validation: {rate['bare']:,.0f} samples/s ({bare:.2f} s an epoch)")
    print(f"bare keras fit, same validation: {rate['bare+val']:,.0f} samples/s ({bare_val:.2f} s an epoch)")
    print(f"ratio fcast / bare: {rate['fcast'] / rate['bare']:.2f} (goal >= 0.9); "
          f"fcast / bare with validation: {rate['fcast'] / rate['bare+val']:.2f}; without validation "
          f"on both sides: {rate['fcast-noval'] / rate['bare']:.2f}; streamed / bare: "
          f"{rate['stream'] / rate['bare']:.2f}")


if __name__ == "__main__":
    main()
