"""What `fcast backtest` runs, as a library: one strategy over several tickers, or a grid.

`plan_backtest` resolves and checks everything (strategy, parameters, engine, costs,
model) before any data loads or anything trains; `BacktestPlan.run` then backtests each
loaded ticker in turn. Option lists (`is_grid`) stand for an experiment: `grid_spec`
builds its `ExperimentSpec`. API level: it calls `forecast.api`, never the CLI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from forecast import defaults
from forecast.errors import ConfigError
from forecast.settings import CostOptions, ModelOptions, WalkForwardOptions


def _call(ticker: str, action, *args, **kwargs):
    """The default guard of a ticker's step: run it, let any error through."""
    return action(*args, **kwargs)


class _Silent:
    """Progress that draws nothing (the default)."""

    folds = None

    @staticmethod
    def keras_callbacks(model):
        return None


@dataclass(frozen=True)
class BacktestPlan:
    """A checked backtest of `strategy` on predictions of `model` (or of a saved `model_path`)."""

    strategy: str
    params: dict
    model: ModelOptions
    model_params: dict | None  # what the model takes of `model` (None for a saved model)
    model_path: str | None
    walk_forward: dict  # `walk_forward` keyword arguments ({} for a saved model)
    costs: CostOptions
    engine: str = defaults.ENGINE
    start: str | None = None  # with a saved model: predict from here
    cache: object = None  # a PredictionCache, or None

    def run(self, loaded, *, guard=_call, progress: Callable | None = None) -> Iterator[tuple]:
        """(result, bars, cache status) for each (ticker, bars) of `loaded`, in turn.

        `guard(ticker, action, *args, **kwargs)` runs a ticker's backtest (and may turn
        its error into None: the ticker is skipped); `progress(title)` is a context
        manager yielding an object with `folds` and `keras_callbacks(model)`."""
        from forecast.api import run_backtest

        for ticker, bars in loaded:
            title = f"{bars.attrs['ticker']}: walk-forward {self.model.name}"
            with (progress(title) if progress else contextlib.nullcontext(_Silent)) as shown:
                result = guard(
                    ticker, run_backtest, bars, model=self.model.name,
                    model_params=self.model_params,
                    model_path=self.model_path, strategy=self.strategy, params=self.params,
                    start=self.start, walk_forward_kwargs=self.walk_forward, progress=shown.folds,
                    callbacks=shown.keras_callbacks(self.model.name), engine=self.engine, cache=self.cache,
                    **self.costs.broker(),
                )
            if result is not None:
                yield result, bars, self.cache.last if self.cache is not None else None


def plan_backtest(strategy: str, params: list[str] | dict | None, *, model: ModelOptions,
                  model_path: str | None = None, walk_forward: WalkForwardOptions, costs: CostOptions,
                  engine: str = defaults.ENGINE, start=None, cache=None) -> BacktestPlan:
    """Resolve the strategy, its parameters, the engine and the costs: a bad one fails here,
    in one line, before any training. A saved model is not trained: only `start` applies."""
    from forecast.backtest import choose_engine
    from forecast.backtest.broker import validate_costs
    from strategies import load_strategy, parse_params

    cls = load_strategy(strategy)
    checked = parse_params(cls, params or [])
    choose_engine(cls, engine)  # an engine that cannot run the strategy fails here too
    validate_costs(commission=costs.commission, slippage=costs.slippage, min_commission=costs.min_commission,
                   commission_per_share=costs.commission_per_share)
    return BacktestPlan(
        strategy=strategy, params=checked, model=model,
        model_params=None if model_path else model.params(),  # a bad model fails here too
        model_path=model_path,
        walk_forward={} if model_path else walk_forward.kwargs(model.seed), costs=costs,
        engine=engine, start=start if model_path else None, cache=None if model_path else cache,
    )


def load_tickers(tickers, *, source=None, path=None, home=None, start=None, end=None,
                 common_span: bool = False, guard=_call, say: Callable[[str], None] | None = None) -> list:
    """(ticker, bars) for every ticker that loads (`guard` may skip one); with `common_span`,
    all cut to the dates they share (said through `say`), so their results compare like with like."""
    from forecast.api import load
    from forecast.data.frame import span

    loaded = []
    for ticker in tickers:
        bars = guard(ticker, load, ticker, source=source, path=path, home=home, start=start, end=end)
        if bars is not None:
            loaded.append((ticker, bars))
    if not common_span or len(loaded) < 2:
        return loaded
    first, last = shared_span(bars for _, bars in loaded)
    if say is not None:
        say(f"common span: {first.date()} to {last.date()}")
    return [(ticker, span(bars, first, last)) for ticker, bars in loaded]


def shared_span(frames):
    """(first, last): the dates every frame of `frames` covers (ConfigError if none)."""
    frames = list(frames)
    first = max(bars.index[0] for bars in frames)
    last = min(bars.index[-1] for bars in frames)
    if first >= last:
        raise ConfigError(
            f"--common-span: the tickers share no dates (latest start {first.date()}, "
            f"earliest end {last.date()})"
        )
    return first, last


def is_grid(model: str, strategy: str, params: list[str] | None) -> bool:
    """Whether the options name lists: a comma in --model (outside an `ens:a,b` name, one
    model), --strategy or a --param value."""
    from forecast.models.ensemble_name import is_ensemble

    model_list = "," in model and not is_ensemble(model)
    return model_list or "," in strategy or any("," in p.partition("=")[2] for p in params or [])


class EmptyItem(ConfigError):
    """A comma list with an empty item ("logreg,"): the CLI calls it a bad option value."""


def _items(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise EmptyItem(f"{what} list {text!r} has an empty item")
    return list(dict.fromkeys(items))


def grid_spec(tickers, model: ModelOptions, strategy: str, params: list[str], *,
              walk_forward: WalkForwardOptions, costs: CostOptions, engine: str = defaults.ENGINE,
              start=None, end=None):
    """The `ExperimentSpec` that a backtest with comma lists (in `model.name`, `strategy` or a
    `params` value) stands for. A parameter applies to every listed strategy that has it
    (values typed from its defaults); one that no listed strategy has is an error."""
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
    for name in _items(model.name, "--model"):
        defaults_of = default_params(name)
        given = replace(model, name=name, seed=None).params()  # the seed is the spec's own axis
        # Defaults are left out: the row reads "lstm", not "lstm(device=auto)", and the key is the same.
        models.append({"name": name, "params": {k: v for k, v in given.items() if defaults_of.get(k) != v}})
    broker = {"commission": [costs.commission], "slippage": [costs.slippage],
              "min_commission": costs.min_commission}
    if costs.commission_per_share is not None:
        broker["commission_per_share"] = costs.commission_per_share
    return ExperimentSpec.from_dict({
        "name": "backtest", "tickers": list(tickers), "models": models, "strategies": strategies,
        "seeds": [model.seed], "cash": costs.cash, "costs": broker, "walk_forward": walk_forward.table(),
        "engine": engine, **({"start": start} if start else {}), **({"end": end} if end else {}),
    })
