"""Options shared by the commands that train, evaluate and backtest."""

from __future__ import annotations

import typer

Source = typer.Option(
    None, "--source", help="Force a source: yahoo, file or bundled (default: store, Yahoo, bundled)."
)
File = typer.Option(None, "--file", help="CSV/Parquet file to read with --source file.")
Start = typer.Option(None, "--start", help="First date, YYYY-MM-DD.")
End = typer.Option(None, "--end", help="Last date, YYYY-MM-DD.")
Model = typer.Option("lstm", "--model", "-m", help="Model name (see `fcast models list`).")
Window = typer.Option(20, "--window", min=1, help="Bars of history in each sample.")
Epochs = typer.Option(None, "--epochs", min=1, help="Training epochs (Keras models).")
Seed = typer.Option(0, "--seed", help="Random seed: same seed, same data, same numbers.")
Device = typer.Option("auto", "--device", help="auto, cpu or gpu (Keras models).")
MixedPrecision = typer.Option(
    False, "--mixed-precision", help="Train in mixed float16 on a GPU (Keras models; ignored on CPU)."
)
TestDays = typer.Option(
    None, "--test-days", min=1, help="Out-of-sample days (default: 20% of the span)."
)
Folds = typer.Option(None, "--folds", min=1, help="Out-of-sample folds (test days = folds x retrain-every).")
RetrainEvery = typer.Option(63, "--retrain-every", min=1, help="Refit every N days.")
TrainWindow = typer.Option(
    None, "--train-window", min=1, help="Rolling training window in bars (default: expanding)."
)
Features = typer.Option(None, "--features", help="TOML file declaring the feature spec.")
Label = typer.Option(
    "open", "--label",
    help="What is predicted: open = the return traded after a decision (next open to the open "
    "after it, default); close = close to next close.",
)


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
        "window": window, "seed": seed, "test_days": test_days, "retrain_every": retrain_every,
        "train_window": train_window, "spec": feature_spec(features),
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

    return model_params_for(
        model, epochs=epochs, seed=seed, device=device, mixed_precision=mixed_precision or None
    )
