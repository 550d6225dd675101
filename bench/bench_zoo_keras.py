"""Training throughput of the Keras networks on the same arrays: LSTM, GRU, TCN, Transformer.

Each registered forecaster, with its default architecture, trains on the same synthetic
float32 windows (shaped like a default walk-forward: window 20; the feature count is an
option), same batch size and epochs, its validation tail scored every epoch as
walk-forwards run it. A callback times every epoch; the first (tracing, compiling) is left
out and the quickest of the rest, over interleaved repeats, is kept (the machine is
shared). Printed: training samples per second and parameter count of each, and its ratio
to the LSTM measured in the same run. Keras runs on `KERAS_BACKEND` (default tensorflow)
or `--backend`.

    .venv/bin/python bench/bench_zoo_keras.py [--samples 8000 --window 20 --features 8
                                               --epochs 3 --batch-size 256 --repeats 2]
"""

from __future__ import annotations

import argparse

from bench_lstm_throughput import EpochTimes, make_data

from forecast.models.backend import select_backend

MODELS = ("lstm", "gru", "tcn", "transformer")


def fit_rate(keras, name: str, X, y, args) -> tuple[float, int]:
    """Training samples per second of the quickest steady epoch, and the parameter count."""
    from forecast.models.registry import make_model

    model = make_model(name, epochs=args.epochs, patience=args.epochs, batch_size=args.batch_size,
                       seed=0, device="cpu" if args.cpu else "auto")
    timer = EpochTimes(keras)
    model.fit(X, y, callbacks=[timer.callback])
    # fcast trains on whole batches only: the oldest n_train % batch_size are dropped.
    n_train = model.n_train_ - model.n_train_ % args.batch_size
    return n_train / timer.steady(), model.model_.count_params()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8000)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even with a GPU visible")
    parser.add_argument("--backend", default=None, help="default: KERAS_BACKEND or tensorflow")
    args = parser.parse_args()
    backend = select_backend(args.backend)
    from forecast.models.backend import keras as keras_module
    from forecast.models.device import describe_device

    keras = keras_module()
    X, y = make_data(args.samples, args.window, args.features)
    print(f"backend {backend}, device: {describe_device('cpu' if args.cpu else 'auto')}")
    print(f"data: {args.samples:,} windows x {args.window} x {args.features} (float32), default "
          f"architectures, batch {args.batch_size}, {args.epochs} epochs (the first left out), "
          f"quickest epoch of {args.repeats} interleaved runs")
    rates: dict[str, list[float]] = {name: [] for name in MODELS}
    params: dict[str, int] = {}
    for _ in range(args.repeats):  # interleaved, so background load hits all alike
        for name in MODELS:
            rate, params[name] = fit_rate(keras, name, X, y, args)
            rates[name].append(rate)
    best = {name: max(r) for name, r in rates.items()}
    for name in MODELS:
        print(f"{name:12s} {best[name]:10,.0f} training samples/s  {params[name]:7,d} weights  "
              f"x{best[name] / best['lstm']:.2f} the LSTM's rate")


if __name__ == "__main__":
    main()
