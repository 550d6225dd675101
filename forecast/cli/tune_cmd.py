"""`fcast tune`: nested hyperparameter search inside the walk-forward, every trial counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from forecast import defaults as d
from forecast.cli import options as o
from forecast.cli import recording
from forecast.cli.console import err, out
from forecast.cli.progress import report_device, training_progress
from forecast.formatting import params_text

TUNE_IGNORED = (o.FILE_NEEDS_SOURCE, o.without("output", "force"), *o.model_option_rules())


def tune(
    ctx: typer.Context,
    ticker: Annotated[str, typer.Argument(help="The ticker to tune on.")],
    model: Annotated[str, typer.Option("--model", "-m", help="The model to tune (see `fcast models list`).")],
    trials: Annotated[int, typer.Option("--trials", min=1,
                                        help="Optuna trials per walk-forward fold (pruned ones count).")],
    space: Annotated[str | None, typer.Option(
        "--space", help="TOML file with the search space ([space] table; default: the model's own).",
    )] = None,
    metric: Annotated[str, typer.Option(
        "--metric", help="What a trial is scored by on its inner validation blocks: log_loss or accuracy.",
    )] = "log_loss",
    inner_folds: Annotated[int, typer.Option(
        "--inner-folds", min=1, help="Inner validation blocks per fold (each trained on the rows before it).",
    )] = 3,
    inner_block: Annotated[int | None, typer.Option(
        "--inner-block", min=1, help="Rows per inner validation block (default: --retrain-every).")] = None,
    prune: Annotated[bool, typer.Option("--prune/--no-prune",
                                        help="Stop trials below the median after an inner block.")] = True,
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
    source: o.Source = None,
    file: o.File = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o",
        help="Write tune.json, trials.csv, predictions.csv, equity.csv and report.html here.",
    )] = None,
    force: o.Force = False,
    workers: o.Workers = None,
    ray_address: o.RayAddress = None,
    no_cache: o.NoCache = False,
):
    """Tune a model's parameters inside each walk-forward fold (Optuna TPE, pruned), on
    that fold's training span only; score the test blocks once; count every trial.

    With --workers or --ray-address the folds' searches run at once on Ray (a task per
    fold, each seeded as in the serial run: the same trials, choices and forecasts)."""
    from forecast.cli.model_cmd import _bars
    from forecast.tune import TuneSettings
    from forecast.tune.api import tune_model
    from forecast.tune.space import read_space

    o.refuse_ignored(ctx, *TUNE_IGNORED)
    if output is not None:
        from forecast.output_dir import check_output

        check_output(output, force)  # first: a bad path fails before anything loads or trains
    o.check_dates(start=start, end=end)
    executor = o.executor(workers, ray_address)
    settings = TuneSettings(trials=trials, space=read_space(space) if space is not None else None,
                            metric=metric, inner_folds=inner_folds, inner_block=inner_block, prune=prune,
                            on_trial=None if as_json else _trial_line,
                            executor=executor if executor.parallel else None)
    o.use_backend(backend, model)
    params = o.model_options(model, epochs=epochs, seed=seed, device=device,
                             mixed_precision=mixed_precision).params()
    wf = o.walk_forward_options(test_start=test_start, window=window, test_days=test_days, folds=folds,
                                retrain_every=retrain_every,
                                train_window=train_window, features=features, label=label).kwargs(seed)
    _check_space_now(model, params, settings)
    bars = _bars(ctx, ticker, source, file, start, end)
    if not as_json:
        report_device(model, device, mixed_precision)
        if executor.parallel:
            err.print(f"tuning: each fold's search {o.where(executor)}", markup=False)
    with executor, training_progress(f"tuning {model} + baselines", enabled=not as_json) as progress:
        result = tune_model(bars, model, settings, model_params=params, progress=progress.folds,
                            cache=o.prediction_cache(ctx, no_cache), **wf)
    if output is not None:
        from forecast.output_dir import output_folder, write_page

        with output_folder(output, force=force) as tmp:  # complete, or not written at all
            result.write(tmp)
            write_page(tmp)
    recording.record(ctx, result, output=output)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    from forecast.cli.model_cmd import render_evaluation

    render_evaluation(result.evaluation, result.evaluation.to_dict())
    for fold, chosen in enumerate(result.to_dict()["params_per_fold"]):
        out.print(f"fold {fold + 1}: {result.tune['trials_per_fold'][fold]} trials, chose "
                  + params_text(chosen), markup=False)
    out.print(result.verdict(), markup=False)
    if output is not None:
        out.print(f"wrote {output} (report.html: `fcast report {output}` rebuilds it)", markup=False,
                  soft_wrap=True)


def _check_space_now(model: str, params: dict, settings) -> None:
    """A bad space (unknown parameter, a parameter both fixed and searched) fails before any
    data loads."""
    from forecast.models.resolve import resolve_estimator
    from forecast.tune.fold_models import resolve_space

    est, name = resolve_estimator(model, params, 0)
    resolve_space(est, settings, name, params)


def _trial_line(fold: int, n_folds: int, record: dict) -> None:
    """One stderr line per trial spent (progress, not a result)."""
    params = params_text(record["params"])
    err.print(f"fold {fold + 1}/{n_folds} trial {record['number'] + 1}: {record['state']}, "
              f"score {record['value']:.4f} ({params})", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(tune)
