"""`fcast backtest` (the main job) and `fcast strategies list`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from forecast.cli import options as o
from forecast.cli.console import err, out
from forecast.cli.progress import report_device, training_progress
from forecast.errors import FcastError
from forecast.formatting import fmt

strategies_app = typer.Typer(help="Backtrader strategies.", no_args_is_help=True)

FORECAST_ROWS = (
    ("n", "scored days", "int"),
    ("accuracy", "accuracy", "num3"),
    ("accuracy_se", "± standard error", "num3"),
    ("majority_rate", "majority-class rate", "num3"),
    ("p_value", "p (accuracy > majority)", "num3"),
    ("roc_auc", "ROC AUC", "num3"),
    ("brier", "Brier score", "num3"),
    ("mean_ret_up", "mean return | up", "spct"),
    ("mean_ret_down", "mean return | down", "spct"),
)


@strategies_app.command("list")
def list_strategies_cmd():
    """Built-in strategies with their parameters and defaults."""
    from strategies import list_strategies

    table = Table(title="Strategies (or any backtrader Strategy as module:Class or file.py:Class)")
    for col in ("name", "class", "description", "parameters (defaults)"):
        table.add_column(col)
    for s in list_strategies():
        params = ", ".join(f"{k}={v}" for k, v in s["params"].items())
        table.add_row(s["name"], s["class"].__name__, s["doc"], params)
    out.print(table)


def backtest(
    ctx: typer.Context,
    tickers: list[str] = typer.Argument(..., help="One or more tickers."),
    model: str = o.Model,
    strategy: str = typer.Option(
        "long-only", "--strategy", "-s", help="Built-in name, module:Class or file.py:Class."
    ),
    param: list[str] = typer.Option(None, "--param", "-p", help="Strategy parameter key=value."),
    start: str = o.Start,
    end: str = o.End,
    cash: float = typer.Option(100_000.0, "--cash", min=0.0),
    commission: float = typer.Option(0.001, "--commission", min=0.0, help="Fraction of traded value."),
    slippage: float = typer.Option(0.0005, "--slippage", min=0.0, help="Fraction of the fill price."),
    commission_per_share: float = typer.Option(
        None, "--commission-per-share", min=0.0, help="Commission per share instead of a fraction."
    ),
    min_commission: float = typer.Option(0.0, "--min-commission", min=0.0, help="Minimum per fill."),
    window: int = o.Window,
    epochs: int = o.Epochs,
    test_days: int = o.TestDays,
    folds: int = o.Folds,
    retrain_every: int = o.RetrainEvery,
    train_window: int = o.TrainWindow,
    features: str = o.Features,
    label: str = o.Label,
    model_path: str = typer.Option(
        None, "--model-path", help="Predict with a model saved by `fcast train` (no refits)."
    ),
    seed: int = o.Seed,
    device: str = o.Device,
    mixed_precision: bool = o.MixedPrecision,
    source: str = o.Source,
    file: str = o.File,
    output: Path = typer.Option(None, "--output", "-o", help="Write metrics, CSVs and equity.png here."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json to stdout."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write equity.png with --output."),
):
    """Backtest a strategy driven by out-of-sample predictions, beside buy-and-hold."""
    from forecast.api import load, run_backtest
    from strategies import load_strategy, parse_params

    cls = load_strategy(strategy)  # bad strategies and parameters fail before any training
    params = parse_params(cls, param or [])
    model_params = None if model_path else o.model_params(
        model, epochs=epochs, seed=seed, device=device, mixed_precision=mixed_precision
    )
    if not model_path and not as_json:
        report_device(model, device, mixed_precision)
    wf = o.walk_forward_kwargs(window, seed, test_days, folds, retrain_every, train_window, features,
                               label)
    if model_path:
        wf = {"start": start}
    results, failures = [], []
    for ticker in tickers:
        try:
            bars = load(ticker, source=source, path=file, home=ctx.obj["store"].home,
                        start=None if model_path else start, end=end)
            label = f"{bars.attrs['ticker']}: walk-forward {model}"
            with training_progress(label, enabled=not as_json and not model_path) as progress:
                result = run_backtest(
                    bars, model=model, model_params=model_params, model_path=model_path,
                    strategy=cls, params=params, walk_forward_kwargs=wf, progress=progress.folds,
                    callbacks=progress.keras_callbacks(model),
                    cash=cash, commission=commission, slippage=slippage,
                    commission_per_share=commission_per_share, min_commission=min_commission,
                )
        except FcastError as exc:
            if len(tickers) == 1 or ctx.obj["debug"]:
                raise
            failures.append(f"{ticker}: {exc}")
            continue
        result.strategy = strategy
        results.append(result)
        if output is not None:
            folder = output / result.ticker if len(tickers) > 1 else output
            result.write(folder, plot=plot)
        if as_json:
            print(json.dumps(result.to_dict(), indent=2))
        else:
            render(result, output)
    if len(results) > 1 and not as_json:
        from forecast.backtest.report import summary_table

        out.print(summary_table(results))
    for line in failures:
        err.print(f"error: {line}", markup=False, soft_wrap=True)
    if failures:
        raise typer.Exit(1)


def render(result, output) -> None:
    """Strategy vs buy-and-hold, then the forecast quality of the predictions behind it."""
    from rich.markup import escape

    from forecast.backtest.report import render_report
    from forecast.features.target import DEFAULT_LABEL, describe_label

    render_report(result, out)
    fm = result.forecast_metrics
    made = result.walk_forward or {}
    table = Table(
        title=f"Forecasts behind it ({result.model}, out of sample)",
        caption="label: " + escape(describe_label(
            made.get("horizon", 1), made.get("label", DEFAULT_LABEL), made.get("threshold", 0.0)
        )),
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, label, kind in FORECAST_ROWS:
        table.add_row(label, fmt(fm.get(key), kind))
    out.print(table)
    n_trades = result.metrics["strategy"].get("n_trades") or 0
    if n_trades == 0 and len(result.trades) == 0:
        out.print("no trades: the strategy never took a position on these predictions")
    if output is not None:
        out.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(strategies_app, name="strategies")
    app.command()(backtest)
