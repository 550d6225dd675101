"""Options shared by the commands that train, evaluate and backtest."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from forecast import defaults
from forecast.data.sources import source_help
from forecast.formatting import count
from forecast.settings import ModelOptions, WalkForwardOptions

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
TestStart = Annotated[str | None, typer.Option(
    "--test-start",
    help="Test from this date on (instead of --test-days): later bars then move no fold, so a "
    "run through any later day predicts the same up to here (see `fcast signal`).",
)]
Folds = Annotated[
    int | None,
    typer.Option("--folds", min=1, help="Out-of-sample folds (test days = folds x retrain-every)."),
]
RetrainEvery = Annotated[int, typer.Option("--retrain-every", min=1, help="Refit every N days.")]
TrainWindow = Annotated[
    int | None,
    typer.Option("--train-window", min=1, help="Rolling training window in bars (default: expanding)."),
]
Features = Annotated[str | None, typer.Option(
    "--features", help="Feature set: a preset (alpha158, default) or a TOML file declaring the spec.")]
Label = Annotated[
    str,
    typer.Option(
        "--label",
        help="What is predicted: open = the return traded after a decision (next open to the open "
        "after it, default); close = close to next close.",
    ),
]
TickerTarget = Annotated[
    str,
    typer.Option(
        "--target",
        help="What the model learns: direction (P(up) of the traded return, default) or return "
        "(the traded return itself, with the model's regression twin; scored by IC).",
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


def finite(value: float | None) -> float | None:
    """An amount option's callback: click's ranges let `inf` through (cash inf, a fee of inf)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, not {value}")
    return value


# Trading costs and cash, shared by backtest and portfolio.
Cash = Annotated[float, typer.Option("--cash", min=0.0, callback=finite,
                                     help="Starting cash, in the bars' currency.")]
Commission = Annotated[float, typer.Option("--commission", min=0.0, callback=finite,
                                           help="Fraction of traded value.")]
Slippage = Annotated[float, typer.Option("--slippage", min=0.0, callback=finite,
                                         help="Fraction of the fill price.")]
MinCommission = Annotated[float, typer.Option("--min-commission", min=0.0, callback=finite,
                                              help="Minimum per fill.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the outputs here.")]
Force = Annotated[bool, typer.Option("--force", help="Write into a non-empty --output directory.")]


def check_dates(*, start=None, end=None) -> None:
    """--start and --end, checked before any work: dates fcast can represent, start not after end."""
    from forecast.data.loader import check_span

    check_span(start, end, ("--start", "--end"))


def walk_forward_options(*, window, test_days=None, folds=None, retrain_every=defaults.RETRAIN_EVERY,
                         train_window=None, features=None, label=defaults.LABEL,
                         test_start=None) -> WalkForwardOptions:
    """The CLI's walk-forward options, checked (--label, one of --test-days, --folds and
    --test-start) and grouped."""
    given = [name for name, value in (("--test-days", test_days), ("--folds", folds),
                                      ("--test-start", test_start)) if value is not None]
    if len(given) > 1:
        raise typer.BadParameter(f"give {given[0]} or {given[1]}, not both")
    if test_start is not None:
        from forecast.data.loader import check_span

        check_span(test_start, None, ("--test-start", "--end"))  # a readable date, before anything loads
    return WalkForwardOptions(window=window, test_days=test_days, folds=folds, retrain_every=retrain_every,
                              train_window=train_window, label=check_label_option(label), features=features,
                              test_start=test_start)


def check_label_option(label: str) -> str:
    from forecast.features.target import LABELS

    if label not in LABELS:
        raise typer.BadParameter(f"--label must be one of {', '.join(LABELS)}, not {label!r}")
    return label


def model_options(model: str, *, epochs, seed, device, mixed_precision) -> ModelOptions:
    """The CLI's model options, grouped; `.params()` keeps those `model` accepts."""
    if seed is not None and seed < 0:  # refused for every model, not only those taking one
        raise typer.BadParameter(f"--seed must be a non-negative integer, got {seed}")
    return ModelOptions(name=model, epochs=epochs, seed=seed, device=device, mixed_precision=mixed_precision)


def use_backend(backend: str | None, model: str | None) -> None:
    """Select the Keras backend before anything imports Keras (ConfigError when it is
    unknown or not installed). Non-Keras models need none, unless one is asked for."""
    from forecast.models.backend import select_backend
    from forecast.models.registry import is_keras_model

    if backend is not None or (model is not None and is_keras_model(model)):
        select_backend(backend)
Workers = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run the walk-forwards on a local Ray cluster of N CPUs "
                 "(default: serial, in this process, no Ray)."),
]
RayAddress = Annotated[
    str | None,
    typer.Option("--ray-address", help="Run on the existing Ray cluster at ADDRESS (e.g. ray://host:10001 "
                 "or auto); see docs/SCALING.md."),
]


def executor(workers: int | None, ray_address: str | None):
    """What --workers / --ray-address ask for: a `RayExecutor` (entered by the caller), or
    the serial one without either (Ray is then never imported)."""
    from forecast.experiment.executors import RayExecutor, SerialExecutor

    if workers is not None and ray_address is not None:
        raise typer.BadParameter("give --workers or --ray-address, not both")
    if workers is None and ray_address is None:
        return SerialExecutor()
    return RayExecutor(workers=workers, address=ray_address)


def where(executor) -> str:
    """Where the walk-forwards run, as the first line says it."""
    if executor.name == "serial":
        return "serial, in this process"
    if executor.address:
        return f"on Ray at {executor.address}"
    return f"on a local Ray cluster of {count(executor.workers, 'CPU')}"


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


# --- Options a mode ignores -----------------------------------------------------------------
# An option that does nothing in the mode a command runs in (--window with --model-path, --file
# without --source file) is refused in one line rather than dropped: the user believes it applied.
# Each command lists its `Ignores` rules and calls `refuse_ignored` first, before any work.

# typer bundles or depends on click; take its usage error from typer's own exception class.
UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@dataclass(frozen=True)
class Ignores:
    """When `mode(params)` holds (params: the command's parameters by name), the options
    (parameter names) in `options` do nothing, and giving one is refused. `why` completes
    "--X is ignored ...", e.g. "with --model-path (the saved model fixes it)"; it may name
    parameters in braces ("with --model {model}")."""

    mode: Callable[[dict], bool]
    options: tuple[str, ...]
    why: str


def refuse_ignored(ctx: typer.Context, *rules: Ignores) -> None:
    """Raise a one-line usage error for the first option the user gave (on the command line
    or from the environment; never a default) that a rule whose mode holds ignores."""
    for rule in rules:
        given = [name for name in rule.options if _given(ctx, name)]
        if given and rule.mode(ctx.params):  # the mode only when needed: it may resolve a model
            why = rule.why.format(**ctx.params)
            raise UsageError(f"{_flag(ctx, given[0])} is ignored {why}; drop it", ctx=ctx)


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def _flag(ctx: typer.Context, name: str) -> str:
    """The option as the user wrote it: its long name (--no-plot for a false --plot/--no-plot)."""
    param = next(p for p in ctx.command.params if p.name == name)
    opts = param.secondary_opts if param.secondary_opts and ctx.params[name] is False else param.opts
    return next((o for o in opts if o.startswith("--")), opts[0])


def models_of(text: str) -> list[str]:
    """The models a --model value names (a comma-separated list runs a grid)."""
    return [m.strip() for m in text.split(",") if m.strip()]


def none_takes(models: str, parameter: str) -> bool:
    """Whether no model of `models` has `parameter` (epochs, device, ...): the option is ignored."""
    from forecast.models.registry import default_params

    return not any(parameter in default_params(m) for m in models_of(models))


def no_keras_model(models: str) -> bool:
    from forecast.models.registry import is_keras_model

    return not any(is_keras_model(m) for m in models_of(models))


def _trains(p: dict) -> bool:
    """Whether the command trains the --model it names (not a saved --model-path)."""
    return p.get("model_path") is None


# Shared rules. A mode takes the parameters of the command it guards by name.
FILE_NEEDS_SOURCE = Ignores(
    lambda p: p["source"] != "file", ("file",), "without --source file (only that source reads it)"
)


def model_option_rules(options: tuple[str, ...] = ("epochs", "device", "mixed_precision")) -> tuple:
    """--epochs, --device, --mixed-precision (and `options`) with a model that has no such
    parameter; --backend with no Keras model."""
    rules = [Ignores(lambda p, o=o: _trains(p) and none_takes(p["model"], o), (o,),
                     "with --model {model} (it takes no such parameter)") for o in options]
    rules.append(Ignores(lambda p: _trains(p) and no_keras_model(p["model"]), ("backend",),
                         "with --model {model} (not a Keras model)"))
    return tuple(rules)


def without(option: str, *names: str, why: str = "") -> Ignores:
    """`names` do nothing unless `option` (a parameter name) is given."""
    flag = "--" + option.replace("_", "-")
    return Ignores(lambda p: p[option] is None, names, f"without {flag}{why}")
