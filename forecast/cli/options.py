"""Options shared by the commands that train, evaluate and backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.data.sources import source_help

# Each option is a type: a command declares `model: o.Model = "lstm"` (Typer's Annotated
# style), so the default sits in the signature and the flag and help are written once.
Source = Annotated[
    str | None,
    typer.Option("--source", help=source_help()),
]
File = Annotated[str | None, typer.Option("--file", help="CSV/Parquet file to read with --source file.")]
Start = Annotated[str | None, typer.Option("--start", help="First date, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option("--end", help="Last date, YYYY-MM-DD.")]
Model = Annotated[str, typer.Option(
        "--model", "-m",
        help="Model name (see `fcast models list`), or module:Class / path/to/file.py:Class.",
    )]
Window = Annotated[int, typer.Option("--window", min=1, help="Bars of history in each sample.")]
Epochs = Annotated[int | None, typer.Option("--epochs", min=1, help="Training epochs (Keras models).")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data, same numbers.")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu or gpu (Keras models).")]
MixedPrecision = Annotated[
    bool,
    typer.Option("--mixed-precision", help="Train in mixed float16 on a GPU (Keras models; ignored on CPU)."),
]
TestDays = Annotated[
    int | None, typer.Option("--test-days", min=1, help="Out-of-sample days (default: 20% of the span).")
]
Folds = Annotated[
    int | None,
    typer.Option("--folds", min=1, help="Out-of-sample folds (test days = folds x retrain-every)."),
]
RetrainEvery = Annotated[int, typer.Option("--retrain-every", min=1, help="Refit every N days.")]
TrainWindow = Annotated[
    int | None,
    typer.Option("--train-window", min=1, help="Rolling training window in bars (default: expanding)."),
]
Features = Annotated[str | None, typer.Option("--features", help="TOML file declaring the feature spec.")]
Label = Annotated[
    str,
    typer.Option(
        "--label",
        help="What is predicted: open = the return traded after a decision (next open to the open "
        "after it, default); close = close to next close.",
    ),
]
Backend = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Keras backend for Keras models: tensorflow (default), jax or torch "
        "(or set KERAS_BACKEND).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# Trading costs and cash, shared by backtest and portfolio.
Cash = Annotated[float, typer.Option("--cash", min=0.0)]
Commission = Annotated[float, typer.Option("--commission", min=0.0, help="Fraction of traded value.")]
Slippage = Annotated[float, typer.Option("--slippage", min=0.0, help="Fraction of the fill price.")]
MinCommission = Annotated[float, typer.Option("--min-commission", min=0.0, help="Minimum per fill.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the outputs here.")]


def feature_spec(path):
    """The FeatureSpec of a TOML file, or None for the default spec."""
    if path is None:
        return None
    from forecast.features import FeatureSpec

    return FeatureSpec.from_toml(path)


def walk_forward_kwargs(
    window, seed, test_days, folds, retrain_every, train_window=None, features=None, label="open"
) -> dict:
    """Turn the CLI's walk-forward options into `walk_forward` keyword arguments."""
    if test_days is not None and folds is not None:
        raise typer.BadParameter("give --test-days or --folds, not both")
    if folds is not None:
        test_days = folds * retrain_every
    return {
        "window": window,
        "seed": seed,
        "test_days": test_days,
        "retrain_every": retrain_every,
        "train_window": train_window,
        "spec": feature_spec(features),
        "label": check_label_option(label),
    }


def check_label_option(label: str) -> str:
    from forecast.features.target import LABELS

    if label not in LABELS:
        raise typer.BadParameter(f"--label must be one of {', '.join(LABELS)}, not {label!r}")
    return label


def model_params(model: str, *, epochs, seed, device, mixed_precision) -> dict:
    """The CLI's model options that `model` accepts (baselines take fewer)."""
    from forecast.api import model_params_for

    if seed is not None and seed < 0:  # refused for every model, not only those taking one
        raise typer.BadParameter(f"--seed must be a non-negative integer, got {seed}")

    return model_params_for(
        model, epochs=epochs, seed=seed, device=device, mixed_precision=mixed_precision or None
    )


def use_backend(backend: str | None, model: str | None) -> None:
    """Select the Keras backend before anything imports Keras (ConfigError when it is
    unknown or not installed). Non-Keras models need none, unless one is asked for."""
    from forecast.models.backend import select_backend
    from forecast.models.registry import is_keras_model

    if backend is not None or (model is not None and is_keras_model(model)):
        select_backend(backend)
NoCache = Annotated[
    bool,
    typer.Option("--no-cache", help="Recompute walk-forward predictions instead of reusing cached ones."),
]


def prediction_cache(ctx, no_cache: bool):
    """The store's prediction cache, or None with --no-cache."""
    if no_cache:
        return None
    from forecast.cache import PredictionCache

    return PredictionCache(ctx.obj["store"].home)
