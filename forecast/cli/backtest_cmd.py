"""`fcast backtest` (the main job) and `fcast strategies list`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli import options as o
from forecast.cli.console import TickerFailures, err, out, print_catalogue
from forecast.cli.progress import report_device, training_progress
from forecast.formatting import fmt
from forecast.output_dir import check_output

strategies_app = typer.Typer(help="Backtrader strategies.", no_args_is_help=True)

@strategies_app.command("list")
def list_strategies_cmd():
    """Built-in strategies with their parameters and defaults."""
    from strategies import list_strategies

    print_catalogue(
        "Strategies (or any backtrader Strategy as module:Class or file.py:Class)",
        ("name", "class", "description"),
        ((s["name"], s["class"].__name__, s["doc"], s["params"]) for s in list_strategies()),
    )


def _grid(p: dict) -> bool:
    return is_grid(p["model"], p["strategy"], p["param"])


def _saved(p: dict) -> bool:
    return p["model_path"] is not None


LISTS = "with lists in --model, --strategy or --param"
IGNORED = (
    o.Ignores(_grid, ("model_path",), f"{LISTS} (an experiment trains every listed model)"),
    o.Ignores(_grid, ("common_span",), f"{LISTS} (an experiment runs each ticker over its own span)"),
    o.Ignores(lambda p: _grid(p) and p["plot"], ("plot",), f"{LISTS} (an experiment writes no equity.png)"),
    o.Ignores(_saved, ("model", "window", "features", "label"),
              "with --model-path (the saved model fixes it)"),
    o.Ignores(_saved, ("epochs", "seed", "device", "mixed_precision", "test_days", "folds", "retrain_every",
                       "train_window"), "with --model-path (a saved model is not trained again)"),
    o.FILE_NEEDS_SOURCE,
    o.without("output", "force"),
    o.Ignores(lambda p: p["output"] is None and p["plot"], ("plot",),
              "without --output (equity.png goes there)"),
    o.Ignores(lambda p: len(p["tickers"]) < 2, ("common_span",),
              "with one ticker (it cuts several tickers to the dates they share)"),
    o.Ignores(lambda p: p["commission_per_share"] is not None, ("commission",),
              "with --commission-per-share (the fee is per share instead)"),
    *o.model_option_rules(),
)


def backtest(
    ctx: typer.Context,
    tickers: Annotated[list[str], typer.Argument(help="One or more tickers.")],
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m",
            help="Model name (see `fcast models list`), module:Class or path/to/file.py:Class; "
            "a comma-separated list runs the grid as an experiment.",
        ),
    ] = "lstm",
    strategy: Annotated[
        str,
        typer.Option("--strategy", "-s", help="Built-in name, module:Class or file.py:Class (or a list)."),
    ] = "long-only",
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", help="Strategy parameter key=value (key=a,b,c: a grid axis)."),
    ] = None,
    start: o.Start = None,
    end: o.End = None,
    cash: o.Cash = 100_000.0,
    commission: o.Commission = 0.001,
    slippage: o.Slippage = 0.0005,
    commission_per_share: Annotated[
        float | None,
        typer.Option("--commission-per-share", min=0.0, callback=o.finite,
                     help="Commission per share instead of a fraction."),
    ] = None,
    min_commission: o.MinCommission = 0.0,
    window: o.Window = 20,
    epochs: o.Epochs = None,
    test_days: o.TestDays = None,
    folds: o.Folds = None,
    retrain_every: o.RetrainEvery = 63,
    train_window: o.TrainWindow = None,
    features: o.Features = None,
    label: o.Label = "open",
    model_path: Annotated[
        str | None,
        typer.Option("--model-path", help="Predict with a model saved by `fcast train` (no refits)."),
    ] = None,
    seed: o.Seed = 0,
    device: o.Device = "auto",
    mixed_precision: o.MixedPrecision = False,
    backend: o.Backend = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="auto (the vector engine where it reproduces the strategy, else backtrader), "
            "vector or backtrader.",
        ),
    ] = "auto",
    source: o.Source = None,
    file: o.File = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write metrics, CSVs and equity.png here.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print metrics.json to stdout (an array of them for several tickers)."),
    ] = False,
    common_span: Annotated[
        bool, typer.Option("--common-span", help="Run every ticker over the dates they all share.")
    ] = False,
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Write equity.png with --output.")] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty --output directory.")
    ] = False,
    no_cache: o.NoCache = False,
):
    """Backtest a strategy driven by out-of-sample predictions, beside buy-and-hold.

    Comma-separated lists in --model, --strategy or --param key=a,b run every combination
    as an experiment (see `fcast experiment run --help`): a ranked table and the verdict.
    """
    o.refuse_ignored(ctx, *IGNORED)
    o.check_dates(start=start, end=end)
    if is_grid(model, strategy, param):
        from forecast.cli.experiment_cmd import run_spec

        wf = {"window": window, "test_days": test_days, "folds": folds, "retrain_every": retrain_every,
              "train_window": train_window, "label": label, "features": features}
        costs = {"commission": [commission], "slippage": [slippage], "min_commission": min_commission}
        if commission_per_share is not None:
            costs["commission_per_share"] = commission_per_share
        spec = grid_spec(tickers, model, strategy, param or [], start=start, end=end, seed=seed, cash=cash,
                         costs=costs, walk_forward={k: v for k, v in wf.items() if v is not None},
                         engine=engine, model_options={"epochs": epochs, "device": device,
                                                       "mixed_precision": mixed_precision or None})
        run_spec(ctx, spec, source=source, path=file, backend=backend, output=output, force=force,
                 as_json=as_json, no_cache=no_cache)
        return
    from forecast.api import run_backtest
    from forecast.backtest import choose_engine
    from forecast.backtest.broker import validate_costs
    from strategies import load_strategy, parse_params

    cls = load_strategy(strategy)  # bad strategies and parameters fail before any training
    params = parse_params(cls, param or [])
    choose_engine(cls, engine)  # an engine that cannot run the strategy fails here too
    o.use_backend(backend, None if model_path else model)
    validate_costs(
        commission=commission,
        slippage=slippage,
        min_commission=min_commission,
        commission_per_share=commission_per_share,
    )  # before any training
    model_params = (
        None
        if model_path
        else o.model_params(model, epochs=epochs, seed=seed, device=device, mixed_precision=mixed_precision)
    )
    if not model_path and not as_json:
        report_device(model, device, mixed_precision)
    wf = o.walk_forward_kwargs(window, seed, test_days, folds, retrain_every, train_window, features, label)
    if model_path:
        wf = {}  # a saved model is not refitted: only `start` applies
    if output is not None:
        check_output(output, force)  # before any training: a late failure would lose the run
    cache = None if model_path else o.prediction_cache(ctx, no_cache)
    results, docs, ran = [], [], []  # ran: (result, bars, cache status) to write and record
    failures = TickerFailures(tickers, debug=ctx.obj["debug"], raise_if_alone=True)
    for ticker, bars in _load_all(
        ctx,
        tickers,
        failures,
        source=source,
        file=file,
        end=end,
        start=None if model_path else start,
        common_span=common_span,
    ):
        title = f"{bars.attrs['ticker']}: walk-forward {model}"
        with training_progress(title, enabled=not as_json and not model_path) as progress:
            result = failures.run(
                ticker,
                run_backtest,
                bars,
                model=model,
                model_params=model_params,
                model_path=model_path,
                strategy=strategy,
                params=params,
                start=start if model_path else None,
                walk_forward_kwargs=wf,
                progress=progress.folds,
                callbacks=progress.keras_callbacks(model),
                cash=cash,
                commission=commission,
                slippage=slippage,
                commission_per_share=commission_per_share,
                min_commission=min_commission,
                engine=engine,
                cache=cache,
            )
        if result is None:
            continue
        results.append(result)
        if as_json:
            docs.append(result.to_dict())
        else:
            render(result, model_params)  # the report first: it survives a failing write
        ran.append((result, bars, cache.last if cache is not None else None))
        if output is None:
            _record(ctx, result, bars, seed=None if model_path else seed, cache=ran[-1][2], output=None)
    if as_json and docs:
        # One JSON document: an object for one ticker, an array of objects for several.
        print(json.dumps(docs[0] if len(tickers) == 1 else docs, indent=2))
    if output is not None and ran:
        _write_output(ctx, output, ran, several=len(tickers) > 1, plot=plot, force=force, quiet=as_json,
                      seed=None if model_path else seed)
    if len(results) > 1 and not as_json:
        from forecast.backtest.report import summary_table

        out.print(summary_table(results))
    failures.report()


def is_grid(model: str, strategy: str, params: list[str] | None) -> bool:
    """Whether the options name lists: a comma in --model, --strategy or a --param value."""
    return "," in model or "," in strategy or any("," in p.partition("=")[2] for p in params or [])


def _items(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise typer.BadParameter(f"{what} list {text!r} has an empty item")
    return list(dict.fromkeys(items))


def grid_spec(tickers, model: str, strategy: str, params: list[str], *, start, end, seed, cash, costs,
              walk_forward, engine, model_options):
    """The `ExperimentSpec` that `fcast backtest` with comma lists stands for.

    A --param applies to every listed strategy that has it (values typed from its
    defaults); one that no listed strategy has is an error.
    """
    from forecast.api import model_params_for
    from forecast.errors import ConfigError
    from forecast.experiment import ExperimentSpec
    from forecast.models.registry import default_params
    from strategies import load_strategy, parse_params, strategy_params

    grid: dict[str, list[str]] = {}
    for item in params:
        key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"strategy parameter must look like key=value, got {item!r}")
        grid[key.strip()] = _items(values, f"--param {key.strip()}")
    strategies, used = [], set()
    for name in _items(strategy, "--strategy"):
        cls = load_strategy(name)
        own = {k: v for k, v in grid.items() if k in strategy_params(cls)}
        used |= set(own)
        typed = {k: [parse_params(cls, {k: v})[k] for v in values] for k, values in own.items()}
        strategies.append({"name": name, "params": typed})
    unused = sorted(set(grid) - used)
    if unused:
        raise ConfigError(f"no listed strategy has the parameter(s) {', '.join(unused)}")
    models = []
    for name in _items(model, "--model"):
        defaults = default_params(name)
        given = model_params_for(name, **{k: v for k, v in model_options.items() if v is not None})
        # Defaults are left out: the row reads "lstm", not "lstm(device=auto)", and the key is the same.
        models.append({"name": name, "params": {k: v for k, v in given.items() if defaults.get(k) != v}})
    return ExperimentSpec.from_dict({
        "name": "backtest", "tickers": list(tickers), "models": models, "strategies": strategies,
        "seeds": [seed], "cash": cash, "costs": costs, "walk_forward": walk_forward, "engine": engine,
        **({"start": start} if start else {}), **({"end": end} if end else {}),
    })


def _load_all(ctx, tickers, failures, *, source, file, start, end, common_span):
    """(ticker, bars) for every ticker that loads; with `common_span`, all cut to the
    dates they share, so their results compare like with like."""
    from forecast.api import load
    from forecast.data.frame import span
    from forecast.errors import ConfigError

    loaded = []
    for ticker in tickers:
        bars = failures.run(
            ticker, load, ticker, source=source, path=file, home=ctx.obj["store"].home, start=start, end=end
        )
        if bars is not None:
            loaded.append((ticker, bars))
    if not common_span or len(loaded) < 2:
        return loaded
    first = max(bars.index[0] for _, bars in loaded)
    last = min(bars.index[-1] for _, bars in loaded)
    if first >= last:
        raise ConfigError(
            f"--common-span: the tickers share no dates (latest start {first.date()}, "
            f"earliest end {last.date()})"
        )
    err.print(f"common span: {first.date()} to {last.date()}", markup=False)
    return [(ticker, span(bars, first, last)) for ticker, bars in loaded]


def _write_output(ctx, output: Path, ran, *, several: bool, plot: bool, force: bool, quiet: bool,
                  seed) -> None:
    """Every ticker's files and page into --output (complete or not at all), then the records."""
    from forecast.output_dir import output_folder, write_page

    with output_folder(output, force=force) as tmp:
        for result, _, _ in ran:
            folder = tmp / result.ticker if several else tmp
            result.write(folder, plot=plot)
            write_page(folder)
    for result, bars, cache in ran:
        folder = output / result.ticker if several else output
        if not quiet:
            out.print(f"wrote {folder} (open report.html in a browser)", markup=False)
        _record(ctx, result, bars, seed=seed, cache=cache, output=folder)


def _record(ctx, result, bars, *, seed, cache: str | None, output: Path | None) -> None:
    """Keep the run under <home>/runs (a failure to do so is a warning: the run itself succeeded)."""
    import logging

    from forecast.errors import FcastError
    from forecast.runs import record_run

    extra = {"cache": cache, "output": str(output.resolve()) if output is not None else None}
    try:
        record_run(result, bars=bars, home=ctx.obj["store"].home, seed=seed, extra=extra)
    except (OSError, FcastError) as exc:
        logging.getLogger("fcast").warning("%s: the run was not recorded: %s", result.ticker, exc)


def render(result, model_params: dict | None = None) -> None:
    """Strategy vs buy-and-hold, then the forecast quality of the predictions behind it."""
    from forecast.backtest.report import no_trades_line, render_report
    from forecast.features.target import DEFAULT_LABEL, describe_label
    from forecast.stats.labels import FORECAST_ROWS

    render_report(result, out, model_params)
    fm = result.forecast_metrics
    made = result.walk_forward or {}
    table = Table(title=f"Forecasts: {result.model}, out of sample")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, label, kind in FORECAST_ROWS:
        table.add_row(label, fmt(fm.get(key), kind))
    out.print(table)
    definition = describe_label(
        made.get("horizon", 1), made.get("label", DEFAULT_LABEL), made.get("threshold", 0.0)
    )
    out.print(f"label: {definition}", markup=False)
    why = no_trades_line(result)  # None when it traded
    if why:
        out.print(why, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(strategies_app, name="strategies")
    app.command()(backtest)
