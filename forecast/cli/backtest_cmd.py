"""`fcast backtest` (the main job) and `fcast strategies list`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast import defaults as d
from forecast.batch import is_grid
from forecast.cli import options as o
from forecast.cli import recording
from forecast.cli.console import TickerFailures, err, out, print_catalogue
from forecast.cli.progress import report_device, training_progress
from forecast.cli.seeds_view import Seeds, render_seeds
from forecast.errors import ConfigError
from forecast.formatting import fmt
from forecast.output_dir import check_output
from forecast.seeds import seed_list
from forecast.settings import CostOptions, ModelOptions

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
    o.Ignores(_saved, ("epochs", "seed", "device", "mixed_precision", "test_days", "test_start", "folds",
                       "retrain_every", "train_window"),
              "with --model-path (a saved model is not trained again)"),
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


# The options only `fcast backtest` has, as types (see forecast/cli/options.py).
GridModel = Annotated[str, typer.Option(
    "--model", "-m",
    help="Model name (see `fcast models list`), module:Class or path/to/file.py:Class; "
    "a comma-separated list runs the grid as an experiment.",
)]
Strategy = Annotated[
    str, typer.Option("--strategy", "-s", help="Built-in name, module:Class or file.py:Class (or a list).")
]
Param = Annotated[
    list[str], typer.Option("--param", "-p", help="Strategy parameter key=value (key=a,b,c: a grid axis).")
]
CommissionPerShare = Annotated[float | None, typer.Option(
    "--commission-per-share", min=0.0, callback=o.finite, help="Commission per share instead of a fraction."
)]
ModelPath = Annotated[
    str | None, typer.Option("--model-path", help="Predict with a model saved by `fcast train` (no refits).")
]
Engine = Annotated[str, typer.Option(
    "--engine",
    help="auto (the vector engine where it reproduces the strategy, else backtrader), vector or backtrader.",
)]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write metrics, CSVs and equity.png here.")
]
Json = Annotated[
    bool, typer.Option("--json", help="Print metrics.json to stdout (an array of them for several tickers).")
]
CommonSpan = Annotated[
    bool, typer.Option("--common-span", help="Run every ticker over the dates they all share.")
]
Plot = Annotated[bool, typer.Option("--plot/--no-plot", help="Write equity.png with --output.")]


def backtest(
    ctx: typer.Context,
    tickers: Annotated[list[str], typer.Argument(help="One or more tickers.")],
    model: GridModel = d.SINGLE_TICKER_MODEL,
    strategy: Strategy = d.STRATEGY,
    param: Param = None,
    start: o.Start = None,
    end: o.End = None,
    cash: o.Cash = d.CASH,
    commission: o.Commission = d.COMMISSION,
    slippage: o.Slippage = d.SLIPPAGE,
    commission_per_share: CommissionPerShare = None,
    min_commission: o.MinCommission = d.MIN_COMMISSION,
    window: o.Window = d.WINDOW,
    epochs: o.Epochs = None,
    test_days: o.TestDays = None,
    test_start: o.TestStart = None,
    folds: o.Folds = None,
    retrain_every: o.RetrainEvery = d.RETRAIN_EVERY,
    train_window: o.TrainWindow = d.TRAIN_WINDOW,
    features: o.Features = None,
    label: o.Label = d.LABEL,
    model_path: ModelPath = None,
    seed: o.Seed = d.SEED,
    device: o.Device = d.DEVICE,
    mixed_precision: o.MixedPrecision = False,
    backend: o.Backend = None,
    engine: Engine = d.ENGINE,
    source: o.Source = None,
    file: o.File = None,
    output: Output = None,
    as_json: Json = False,
    common_span: CommonSpan = False,
    plot: Plot = True,
    force: o.Force = False,
    no_cache: o.NoCache = False,
    seeds: Seeds = 1,
):
    """Backtest a strategy driven by out-of-sample predictions, beside buy-and-hold.

    Comma-separated lists in --model, --strategy or --param key=a,b run every combination
    as an experiment (see `fcast experiment run --help`): a ranked table and the verdict.
    """
    o.refuse_ignored(ctx, *IGNORED)
    o.check_dates(start=start, end=end)
    if output is not None:
        check_output(output, force)  # first: a bad path fails before anything loads or trains
    costs = CostOptions(cash, commission, slippage, min_commission, commission_per_share)
    seed_list(seed, seeds)  # a bad count fails before anything loads
    if seeds > 1:
        _refuse_with_seeds(tickers, model, strategy, param, model_path, output)
    if is_grid(model, strategy, param):
        from forecast.batch import EmptyItem, grid_spec
        from forecast.cli.experiment_cmd import run_spec

        wf = o.walk_forward_options(window=window, test_days=test_days, folds=folds,
                                    retrain_every=retrain_every, train_window=train_window, label=label,
                                    features=features, test_start=test_start)
        try:
            spec = grid_spec(tickers, ModelOptions(model, epochs, seed, device, mixed_precision), strategy,
                             param or [], walk_forward=wf, costs=costs, engine=engine, start=start, end=end)
        except EmptyItem as exc:
            raise typer.BadParameter(str(exc)) from None
        run_spec(ctx, spec, source=source, path=file, backend=backend, output=output, force=force,
                 as_json=as_json, no_cache=no_cache)
        return
    from forecast.batch import load_tickers, plan_backtest

    o.use_backend(backend, None if model_path else model)

    def plan_for(one_seed: int):
        return plan_backtest(  # strategy, engine, costs and model checked before any training
            strategy, param, model=o.model_options(model, epochs=epochs, seed=one_seed, device=device,
                                                   mixed_precision=mixed_precision),
            model_path=model_path, costs=costs, engine=engine, start=start,
            walk_forward=o.walk_forward_options(test_start=test_start, window=window, test_days=test_days,
                                                folds=folds,
                                                retrain_every=retrain_every, train_window=train_window,
                                                features=features, label=label),
            cache=None if model_path else o.prediction_cache(ctx, no_cache))

    plan = plan_for(seed)
    if not model_path and not as_json:
        report_device(model, device, mixed_precision)
    failures = TickerFailures(tickers, debug=ctx.obj["debug"], raise_if_alone=True)
    loaded = load_tickers(tickers, source=source, path=file, home=ctx.obj["store"].home, end=end,
                          start=None if model_path else start, common_span=common_span, guard=failures.run,
                          say=lambda line: err.print(line, markup=False))
    if seeds > 1:
        _over_seeds(ctx, plan_for, loaded, failures, tickers[0], seed, seeds, as_json)
        return
    ran = []  # (result, bars, cache status) to write and record
    shown = training_progress if not as_json and not model_path else None
    for result, bars, cache in plan.run(loaded, guard=failures.run, progress=shown):
        ran.append((result, bars, cache))
        if not as_json:
            render(result, plan.model_params)  # the report first: it survives a failing write
        if output is None:
            recording.record(ctx, result, cache=cache)
    if as_json and ran:
        # One JSON document: an object for one ticker, an array of objects for several.
        docs = [result.to_dict() for result, _, _ in ran]
        print(json.dumps(docs[0] if len(tickers) == 1 else docs, indent=2))
    if output is not None and ran:
        _write_output(ctx, output, ran, several=len(tickers) > 1, plot=plot, force=force, quiet=as_json)
    if len(ran) > 1 and not as_json:
        from forecast.backtest.report import summary_table

        out.print(summary_table([result for result, _, _ in ran]))
    failures.report()


# What `backtest --seeds N` tabulates (the JSON summarises every figure of these sections).
BACKTEST_SECTIONS = ("strategy", "forecast")
BACKTEST_HEADLINE = ("strategy.total_return", "strategy.cagr", "strategy.sharpe", "strategy.sortino",
                     "strategy.max_drawdown", "strategy.n_trades", "strategy.turnover",
                     "forecast.accuracy", "forecast.roc_auc")


def _refuse_with_seeds(tickers, model, strategy, param, model_path, output) -> None:
    """--seeds N > 1 runs one ticker's walk-forward per seed: the options that make other runs
    are refused in one line."""
    others = (("several tickers", len(tickers) > 1), ("--model-path", model_path),
              ("--output", output is not None),
              ("lists in --model, --strategy or --param", is_grid(model, strategy, param)))
    given = [what for what, on in others if on]
    if given:
        raise ConfigError(f"--seeds N > 1 takes one ticker and one configuration, without {given[0]} "
                          "(an experiment spec has a seeds axis for grids)")


def _over_seeds(ctx, plan_for, loaded, failures, ticker: str, seed: int, n_seeds: int, as_json: bool) -> None:
    """One backtest per seed (each its own walk-forward and run record), then the seed summary."""
    from forecast.seeds import over_seeds

    def run(one_seed: int) -> dict:
        ran = list(plan_for(one_seed).run(loaded, guard=failures.run,
                                          progress=None if as_json else training_progress))
        if not ran:  # the ticker failed: its own line, as without --seeds
            failures.report()
            raise ConfigError(f"{ticker}: no backtest for seed {one_seed}")
        result, _, cache = ran[0]
        recording.record(ctx, result, cache=cache)
        return result.to_dict()

    result = over_seeds(run, seed, n_seeds, sections=BACKTEST_SECTIONS)
    if as_json:
        first = result["per_seed"][0]
        print(json.dumps({"ticker": ticker, "model": first["model"], "strategy": first["strategy"]["name"],
                          **result}, indent=2))
    else:
        first = result["per_seed"][0]
        render_seeds(f"{ticker}: {first['model']} + {first['strategy']['name']}", result, BACKTEST_HEADLINE)
    failures.report()


def _write_output(ctx, output: Path, ran, *, several: bool, plot: bool, force: bool, quiet: bool) -> None:
    """Every ticker's files and page into --output (complete or not at all), then the records."""
    from forecast.output_dir import output_folder, write_page

    with output_folder(output, force=force) as tmp:
        for result, _, _ in ran:
            folder = tmp / result.ticker if several else tmp
            result.write(folder, plot=plot)
            write_page(folder)
    for result, _, cache in ran:
        folder = output / result.ticker if several else output
        if not quiet:
            out.print(f"wrote {folder} (open report.html in a browser)", markup=False)
        recording.record(ctx, result, cache=cache, output=folder)


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
