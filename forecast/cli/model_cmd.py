"""`fcast models list`, `fcast train` and `fcast evaluate`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from forecast import defaults as d
from forecast.cli import options as o
from forecast.cli.console import out, print_catalogue
from forecast.cli.progress import report_device, training_progress
from forecast.cli.seeds_view import Seeds, render_seeds
from forecast.formatting import fmt
from forecast.stats.labels import MODEL_COLUMNS, SCORE_MODEL_COLUMNS

models_app = typer.Typer(help="The model registry.", no_args_is_help=True)


@models_app.command("list")
def list_models_cmd():
    """The models and baselines with their parameters."""
    from forecast.models.registry import list_models

    print_catalogue(
        "Models (baselines are always evaluated beside a model)",
        ("name", "kind", "description"),
        ((m["name"], m["kind"], m["description"], m["params"]) for m in list_models()),
    )


def _bars(ctx, ticker, source, file, start, end):
    from forecast.api import load

    return load(ticker, source=source, path=file, start=start, end=end, home=ctx.obj["store"].home)


# Options a mode ignores (see options.refuse_ignored). Training takes no seed but the model's.
TRAIN_IGNORED = (o.FILE_NEEDS_SOURCE, *o.model_option_rules(("epochs", "device", "mixed_precision", "seed")))
# What `evaluate --seeds N` tabulates (the JSON summarises every figure).
EVALUATE_HEADLINE = ("accuracy", "balanced_accuracy", "roc_auc", "log_loss", "brier", "p_value")
EVALUATE_IGNORED = (o.FILE_NEEDS_SOURCE, *o.model_option_rules())


def train(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="The ticker whose bars it learns from.")],
    model: o.Model = d.SINGLE_TICKER_MODEL,
    window: o.Window = d.WINDOW,
    epochs: o.Epochs = None,
    seed: o.Seed = d.SEED,
    start: o.Start = None,
    end: o.End = None,
    device: o.Device = d.DEVICE,
    mixed_precision: o.MixedPrecision = False,
    backend: o.Backend = None,
    source: o.Source = None,
    file: o.File = None,
    features: o.Features = None,
    label: o.Label = d.LABEL,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", "--save",
                     help="The model folder to save into (default: $FCAST_HOME/models/TICKER-MODEL)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a model already saved there.")] = False,
):
    """Train a model on a span and save it (with its feature scaling) for later prediction."""
    from forecast.api import train as train_api
    from forecast.training import save_trained

    o.refuse_ignored(ctx, *TRAIN_IGNORED)
    o.check_dates(start=start, end=end)
    if output is not None:
        _check_target(output, force)  # first: before any data loads (the default needs the ticker)
    o.use_backend(backend, model)
    params = o.model_options(model, epochs=epochs, seed=seed, device=device,
                             mixed_precision=mixed_precision).params()
    wf = o.walk_forward_options(window=window, features=features, label=label)
    bars = _bars(ctx, ticker, source, file, start, end)
    ticker_name = bars.attrs["ticker"]
    # A user's `path/file.py:Class` names the default folder by its class alone.
    target = output or str(ctx.obj["store"].home / "models" / f"{ticker_name}-{model.rpartition(':')[2]}")
    if output is None:
        _check_target(target, force)
    report_device(model, device, mixed_precision)
    with training_progress(f"training {model}") as progress:
        trained = train_api(
            bars,
            model,
            model_params=params,
            window=wf.window,
            label=wf.label,
            spec=wf.feature_spec(),
            callbacks=progress.keras_callbacks(model),
        )
    folder = save_trained(trained, target).parent
    table = Table(title=f"Trained {model} on {ticker_name}")
    table.add_column("field")
    table.add_column("value")
    table.add_row("training span", f"{trained.train_start.date()} to {trained.train_end.date()}")
    table.add_row("samples", fmt(trained.n_samples, "int"))
    table.add_row("window", str(window))
    for key in ("n_epochs_", "best_epoch_"):
        if hasattr(trained.model, key):
            table.add_row(key.strip("_").replace("_", " "), str(getattr(trained.model, key)))
    table.add_row("saved", str(folder))
    out.print(table)
    out.print(f"backtest it on later dates: fcast backtest {ticker_name} --model-path {folder}",
              markup=False)


def _check_target(target: str, force: bool) -> None:
    """Before any training: refuse to replace a saved model without --force, or to write
    into a folder of other files, and fail now on a target that cannot be written."""
    from forecast.errors import ConfigError
    from forecast.models.persistence import check_writable, model_dir, model_exists

    folder = model_dir(target)
    if not force:
        if model_exists(folder):
            raise ConfigError(f"a model is already saved at {folder}; use --force to replace it")
        if folder.is_dir() and any(folder.iterdir()):
            raise ConfigError(f"{folder} holds other files; save the model to a new folder "
                              "(or use --force to add it there)")
    check_writable(folder)


def evaluate(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="The ticker to evaluate on.")],
    model: o.Model = d.SINGLE_TICKER_MODEL,
    window: o.Window = d.WINDOW,
    epochs: o.Epochs = None,
    seed: o.Seed = d.SEED,
    start: o.Start = None,
    end: o.End = None,
    device: o.Device = d.DEVICE,
    mixed_precision: o.MixedPrecision = False,
    backend: o.Backend = None,
    test_days: o.TestDays = None,
    test_start: o.TestStart = None,
    folds: o.Folds = None,
    retrain_every: o.RetrainEvery = d.RETRAIN_EVERY,
    train_window: o.TrainWindow = None,
    features: o.Features = None,
    label: o.Label = d.LABEL,
    target: o.TickerTarget = d.TARGET,
    source: o.Source = None,
    file: o.File = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_cache: o.NoCache = False,
    seeds: Seeds = 1,
):
    """Walk-forward evaluation of a model beside every baseline, on identical dates."""
    from forecast.api import evaluate_model
    from forecast.features.target import check_target
    from forecast.seeds import over_seeds, seed_list

    o.refuse_ignored(ctx, *EVALUATE_IGNORED)
    o.check_dates(start=start, end=end)
    seed_list(seed, seeds)  # a bad count fails before anything loads
    o.use_backend(backend, model)
    options = o.walk_forward_options(test_start=test_start, window=window, test_days=test_days, folds=folds,
                                     retrain_every=retrain_every, train_window=train_window,
                                     features=features, label=label)
    check_target(target)  # a bad target fails before anything loads
    extra = {} if target == d.TARGET else {"target": target}
    bars = _bars(ctx, ticker, source, file, start, end)
    if not as_json:
        report_device(model, device, mixed_precision)

    def run(one_seed: int):
        params = o.model_options(model, epochs=epochs, seed=one_seed, device=device,
                                 mixed_precision=mixed_precision).params()
        with training_progress(f"walk-forward {model} + baselines", enabled=not as_json) as progress:
            return evaluate_model(
                bars,
                model,
                model_params=params,
                progress=progress.folds,
                callbacks=progress.keras_callbacks(model),
                cache=o.prediction_cache(ctx, no_cache),
                **options.kwargs(one_seed),
                **extra,
            )

    if seeds > 1:
        result = over_seeds(lambda s: run(s).to_dict(), seed, seeds)
        if as_json:
            print(json.dumps({"ticker": ticker, "model": result["per_seed"][0]["model"], **result}, indent=2))
        else:
            render_seeds(f"{ticker}: {model}, out of sample", result, EVALUATE_HEADLINE)
        return
    report = run(seed)
    summary = report.to_dict()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    render_evaluation(report, summary)


def render_evaluation(report, summary) -> None:
    """The metrics table: the model first, every baseline beside it."""
    table = Table(
        title=f"{summary['ticker']}: {summary['model']} vs baselines, out of sample "
        f"{summary['start']} to {summary['end']} ({summary['n_scored']} scored days)"
    )
    table.add_column("model")
    columns = SCORE_MODEL_COLUMNS if "ic" in report.metrics.columns else MODEL_COLUMNS
    for _, label, _ in columns:
        table.add_column(label, justify="right")
    for name, row in report.metrics.iterrows():
        style = "bold" if name == report.model else None
        table.add_row(name, *(fmt(row[key], kind) for key, _, kind in columns), style=style)
    out.print(table)
    for line in report.verdict():
        style = "yellow" if line.startswith("warning:") else None
        out.print(line, style=style, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
    app.command()(train)
    app.command()(evaluate)
