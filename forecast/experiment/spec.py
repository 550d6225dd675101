"""An experiment's grid, declared in TOML and checked before anything trains.

A spec lists its axes; every combination is one configuration (a trial):

    tickers x models x seeds x strategies (x their parameter lists) x commission x slippage

Predictions depend only on (ticker, model, seed): that is the expensive unit, a
`PredictionTask`. Strategies, parameters and costs re-score its predictions.

`[[portfolios]]` adds portfolio configurations over all the tickers at once:

    models x seeds x portfolios (x their parameter lists, target, pooled) x commission x slippage

where one pooled (or per-ticker) walk-forward over the universe, a `PortfolioTask` per
(model, seed, target, pooled), is re-scored by every ranking strategy, parameter and cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecast import defaults
from forecast.errors import ConfigError
from forecast.settings import WalkForwardOptions

TOP_KEYS = {"name", "tickers", "universe", "start", "end", "seeds", "cash", "walk_forward",
            "models", "strategies", "portfolios", "costs", "engine", "filters", "tune"}
PORTFOLIO_KEYS = {"name", "params", "target", "pooled", "rebalance_band"}
PORTFOLIO_TICKER = "portfolio"  # the `ticker` of a portfolio configuration's row
WALK_FORWARD_KEYS = {"window", "test_days", "folds", "retrain_every", "train_window", "label", "features",
                     "test_start"}
COST_KEYS = {"commission", "slippage", "min_commission", "commission_per_share"}

EXAMPLE = f"""\
name = "small"
tickers = ["AAPL", "MSFT", "KO"]     # or: universe = "dow30"
start = "2012-01-01"
end = "2017-11-10"
seeds = [{defaults.SEED}]

[walk_forward]                        # optional: fcast backtest's defaults
window = {defaults.WINDOW}
retrain_every = {defaults.RETRAIN_EVERY}
label = "{defaults.LABEL}"

[[models]]
name = "logreg"

[[models]]
name = "mlp"
params = {{ epochs = 5 }}

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"
params = {{ upper = [0.52, 0.55] }}     # a list is a grid axis

[costs]
commission = [0.0, 0.001]             # fraction of traded value
slippage = [{defaults.SLIPPAGE}]                   # fraction of the fill price
"""


@dataclass(frozen=True)
class Setting:
    """A model or a strategy by name, with one value per parameter."""

    name: str
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name if not self.params else f"{self.name}({_kv(self.params)})"


class ModelSpec(Setting):
    """A model and its parameters."""


class StrategySpec(Setting):
    """One strategy with one value per parameter (the grid already expanded)."""


@dataclass(frozen=True)
class PredictionTask:
    """One walk-forward run: the unit that trains (and that the cache keys)."""

    ticker: str
    model: ModelSpec
    seed: int

    @property
    def label(self) -> str:
        return f"{self.ticker} {self.model.label} seed {self.seed}"

    @property
    def key(self) -> str:
        """Identity that keeps types (params 1 and "1" print alike but are two tasks)."""
        return _identity([self.ticker, self.model.name, self.model.params, self.seed])


@dataclass(frozen=True)
class Configuration:
    """One trial: a task's predictions, turned into one strategy at one cost."""

    task: PredictionTask
    strategy: StrategySpec
    commission: float
    slippage: float

    @property
    def label(self) -> str:
        return f"{self.task.ticker} {self.task.model.label} {self.strategy.label}"


@dataclass(frozen=True)
class PortfolioSpec(Setting):
    """One ranking strategy over the universe, with one value per parameter, the forecast
    target and pooled (one model over every ticker) or per-ticker models."""

    target: str = "direction"
    pooled: bool = True
    rebalance_band: float = 0.0

    @property
    def label(self) -> str:
        extra = [] if self.target == "direction" else [self.target]
        extra += [] if self.pooled else ["per-ticker"]
        extra += [f"band {self.rebalance_band:g}"] if self.rebalance_band else []
        return " ".join([super().label, *extra])


@dataclass(frozen=True)
class PortfolioTask:
    """One walk-forward over the whole universe: trains once for all its portfolio rows."""

    model: ModelSpec
    seed: int
    target: str
    pooled: bool

    @property
    def label(self) -> str:
        return f"{PORTFOLIO_TICKER} {self.model.label} seed {self.seed} {self.target}"

    @property
    def key(self) -> str:
        return _identity([PORTFOLIO_TICKER, self.model.name, self.model.params, self.seed, self.target,
                          self.pooled])


@dataclass(frozen=True)
class PortfolioConfiguration:
    """One portfolio trial: a universe-wide walk-forward traded by one ranking strategy at one cost."""

    task: PortfolioTask
    strategy: PortfolioSpec
    commission: float
    slippage: float

    @property
    def label(self) -> str:
        return f"{PORTFOLIO_TICKER} {self.task.model.label} {self.strategy.label}"


def _dedupe(specs) -> tuple:
    """Models or strategies, each setting once: identical names and parameters (defaults
    filled in, types kept) are one entry, the first as written."""
    seen, out = set(), []
    for spec in specs:
        key = _identity([spec.name, _with_defaults(spec)])
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return tuple(out)


def _with_defaults(spec) -> dict:
    try:
        if isinstance(spec, ModelSpec):
            from forecast.models.ensemble_name import ensemble_params, is_ensemble
            from forecast.models.registry import default_params

            if is_ensemble(spec.name):  # member -> its parameters, defaults filled in
                members = ensemble_params(spec.name, spec.params)
                return {m: {**default_params(m), **p} for m, p in members.items()}
            return {**default_params(spec.name), **spec.params}
        if isinstance(spec, PortfolioSpec):
            from strategies.portfolio import load_portfolio_strategy

            return {**load_portfolio_strategy(spec.name).param_defaults(), **spec.params,
                    "__target": spec.target, "__pooled": spec.pooled, "__band": spec.rebalance_band}
        from strategies import load_strategy, strategy_params

        return {**strategy_params(load_strategy(spec.name)), **spec.params}
    except Exception:  # noqa: BLE001 - an unknown name is reported by check(), in one line
        return dict(spec.params)


def _identity(value) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=repr)


def _unique(values) -> tuple:
    return tuple(dict.fromkeys(values))


def _kv(params: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _as_list(value, what: str) -> list:
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise ConfigError(f"{what} is an empty list")
    return values


def _number_list(value, what: str) -> list[float]:
    out = []
    for v in _as_list(value, what):
        if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
            raise ConfigError(f"{what} must be numbers >= 0, got {v!r}")
        out.append(float(v))
    return out


def _table(data: Mapping, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{key}] must be a table, got {type(value).__name__}")
    return dict(value)


def _unknown(keys, allowed, where: str) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(extra)} "
                          f"(allowed: {', '.join(sorted(allowed))})")


@dataclass(frozen=True)
class ExperimentSpec:
    """A checked experiment grid (see the module docstring and `EXAMPLE`)."""

    name: str
    tickers: tuple[str, ...]
    models: tuple[ModelSpec, ...]
    strategies: tuple[tuple[str, dict], ...]  # (name, {param: [values]})
    # (name, {param: [values]}, target, pooled, rebalance_band)
    portfolios: tuple[tuple[str, dict, str, bool, float], ...] = ()
    seeds: tuple[int, ...] = (defaults.SEED,)
    commissions: tuple[float, ...] = (defaults.COMMISSION,)
    slippages: tuple[float, ...] = (defaults.SLIPPAGE,)
    start: str | None = None
    end: str | None = None
    cash: float = defaults.CASH
    walk_forward: dict = field(default_factory=dict)
    broker: dict = field(default_factory=dict)  # min_commission, commission_per_share
    engine: str = defaults.ENGINE
    source: dict = field(default_factory=dict)  # where the spec came from (path), for the record
    # A universe imported with `fcast universe import` (None for tickers or a bundled name):
    # its name and membership kind ("years", "intervals" or "bars"); its portfolios trade
    # members only, as `fcast portfolio --universe NAME` does.
    universe: str | None = None
    membership: str | None = None
    # [filters]: the universe filters of every portfolio (forecast.portfolio.filters), as
    # `fcast portfolio --min-price ...`; empty: none (and no "filters" key in to_dict).
    filters: dict = field(default_factory=dict)
    # [tune]: the model (a [[models]] name) tuned inside each of its walk-forwards, and the
    # table of its settings (forecast.tune.TuneSettings); {} without tuning. Its trials
    # count toward the experiment's number of trials.
    tune: dict = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: str | Path, *, home: str | Path | None = None) -> ExperimentSpec:
        """`home`: the fcast home a stored universe (`universe = "NAME"`) is read from."""
        from forecast.tomlfile import read_toml

        data = read_toml(path, "experiment spec")
        return cls.from_dict(data, base=Path(path).parent, default_name=Path(path).stem,
                             source={"path": str(path)}, home=home)

    @classmethod
    def from_dict(cls, data: Mapping, *, base: Path | None = None, default_name: str = "experiment",
                  source: dict | None = None, home: str | Path | None = None) -> ExperimentSpec:
        """Check every field (one ConfigError line naming the culprit) and build the spec."""
        _unknown(data, TOP_KEYS, "the experiment spec")
        if ("tickers" in data) == ("universe" in data):
            raise ConfigError("give either tickers = [...] or universe = \"dow30\", not both or neither")
        stored = {}  # universe and membership, for a universe imported with `fcast universe import`
        if "tickers" in data:
            from forecast.data.tickers import normalize_ticker

            tickers = tuple(dict.fromkeys(normalize_ticker(t) for t in _as_list(data["tickers"], "tickers")))
        else:
            tickers, stored = _universe(data["universe"], home, data.get("start"), data.get("end"))
        tune = _tune(_table(data, "tune"))
        if not data.get("models") and tune:
            data = {**data, "models": [tune["model"]]}  # [tune] alone names the one model
        if not data.get("models"):
            raise ConfigError("the experiment spec needs at least one [[models]] entry")
        models = _dedupe(_model(m) for m in _as_list(data["models"], "models"))
        portfolios = tuple(_portfolio(p) for p in _as_list(data.get("portfolios", []) or [], "portfolios")
                           ) if data.get("portfolios") else ()
        # Without [[strategies]] a spec runs long-only per ticker, unless it asks for portfolios only.
        default_strategies = [] if portfolios else [{"name": "long-only"}]
        given = data.get("strategies", default_strategies)
        strategies = tuple(_strategy(s) for s in ([] if given == [] else _as_list(given, "strategies")))
        if not strategies and not portfolios:
            raise ConfigError("the experiment spec needs at least one [[strategies]] or [[portfolios]] entry")
        seeds = _as_list(data.get("seeds", [defaults.SEED]), "seeds")
        if any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
            raise ConfigError(f"seeds must be integers, got {seeds!r}")
        costs = _table(data, "costs")
        _unknown(costs, COST_KEYS, "[costs]")
        broker = {k: costs[k] for k in ("min_commission", "commission_per_share") if k in costs}
        for key, value in broker.items():
            _number_list(value, f"costs.{key}")
            if isinstance(value, list):
                raise ConfigError(f"costs.{key} takes one number, not a list")
        wf = _table(data, "walk_forward")
        _unknown(wf, WALK_FORWARD_KEYS, "[walk_forward]")
        if "features" in wf and base is not None and not _is_preset(wf["features"]) \
                and not Path(wf["features"]).is_absolute():
            wf["features"] = str((base / wf["features"]).resolve())  # relative to the spec file
        filters = _filters(_table(data, "filters"), bool(portfolios))
        cash = data.get("cash", defaults.CASH)
        if isinstance(cash, bool) or not isinstance(cash, int | float) or cash <= 0:
            raise ConfigError(f"cash must be a number > 0, got {cash!r}")
        spec = cls(
            name=str(data.get("name", default_name)),
            tickers=tickers,
            **stored,
            models=models,
            strategies=strategies,
            portfolios=portfolios,
            filters=filters,
            tune=tune,
            seeds=tuple(dict.fromkeys(seeds)),
            commissions=_unique(_number_list(costs.get("commission", defaults.COMMISSION),
                                             "costs.commission")),
            slippages=_unique(_number_list(costs.get("slippage", defaults.SLIPPAGE), "costs.slippage")),
            start=_date(data.get("start"), "start"),
            end=_date(data.get("end"), "end"),
            cash=float(cash),
            walk_forward=wf,
            broker=broker,
            engine=str(data.get("engine", defaults.ENGINE)),
            source=source or {},
        )
        spec.check()
        return spec

    def check(self) -> None:
        """Resolve every model, strategy, parameter, cost and walk-forward setting now: a typo
        fails in one line before any data loads or anything trains."""
        from forecast.backtest import choose_engine
        from forecast.backtest.broker import validate_costs
        from forecast.models.ensemble_name import ensemble_params, is_ensemble
        from forecast.models.registry import default_params
        from strategies import load_strategy

        for model in self.models:
            if is_ensemble(model.name):  # `ens:a,b`: members and their parameters checked
                ensemble_params(model.name, model.params)
                continue
            accepted = default_params(model.name)
            unknown = sorted(set(model.params) - set(accepted))
            if unknown:
                raise ConfigError(f"model {model.name} has no parameter(s) {', '.join(unknown)} "
                                  f"(it has: {', '.join(accepted) or 'none'})")
        for name, grid in self.strategies:
            cls = load_strategy(name)
            for key, values in grid.items():
                for value in values:
                    _check_strategy_value(cls, key, value)
            choose_engine(cls, self.engine)
        if self.strategies and self.membership not in (None, "bars"):
            raise ConfigError(f"universe {self.universe} has a point-in-time membership, which only "
                              "[[portfolios]] follow: drop the [[strategies]] entries")
        self._check_portfolios()
        for commission, slippage in itertools.product(self.commissions, self.slippages):
            validate_costs(commission=commission, slippage=slippage,
                           min_commission=self.broker.get("min_commission", 0.0),
                           commission_per_share=self.broker.get("commission_per_share"))
        _check_walk_forward(self.walk_forward)
        self._check_tune()
        for seed in self.seeds:
            if not 0 <= seed < 2**32:
                raise ConfigError(f"seeds must lie in [0, 2**32), got {seed}")
        if self.start and self.end and self.start >= self.end:
            raise ConfigError(f"start {self.start} is not before end {self.end}")

    def _check_tune(self) -> None:
        """[tune] names a per-ticker model of the spec, whose space fits its parameters."""
        if not self.tune:
            return
        from forecast.models.resolve import resolve_estimator
        from forecast.tune.fold_models import resolve_space

        name = self.tune["model"]
        tuned = [m for m in self.models if m.name == name]
        if not tuned:
            raise ConfigError(f"[tune] model {name} is not one of the [[models]] "
                              f"({', '.join(m.name for m in self.models)})")
        if not self.strategies:
            raise ConfigError("[tune] tunes per-ticker walk-forwards: add [[strategies]]")
        for model in tuned:
            est, label = resolve_estimator(model.name, dict(model.params), 0)
            try:
                resolve_space(est, self.tune_settings(), label, dict(model.params))
            except ConfigError as exc:
                raise ConfigError(f"[tune]: {exc}") from None

    def tune_settings(self):
        """The `TuneSettings` of [tune] (None without it)."""
        if not self.tune:
            return None
        from forecast.tune.settings import TuneSettings

        return TuneSettings.from_table({k: v for k, v in self.tune.items() if k != "model"})

    def task_walk_forward(self, task: PredictionTask) -> dict:
        """`walk_forward` keyword arguments of one task: the seed's, with [tune]'s settings
        when the task's model is the tuned one."""
        wf = self.walk_forward_kwargs(task.seed)
        if self.tune and task.model.name == self.tune["model"]:
            wf["tune"] = self.tune_settings()
        return wf

    def _check_portfolios(self) -> None:
        from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

        if not self.portfolios:
            return
        if len(self.tickers) < 2:
            raise ConfigError("[[portfolios]] need at least 2 tickers")
        if self.broker.get("commission_per_share") is not None:
            raise ConfigError("[[portfolios]] charge commission as a fraction of traded value: "
                              "costs.commission_per_share is not supported with them")
        if self.walk_forward.get("label", defaults.LABEL) != "open":
            raise ConfigError("[[portfolios]] trade the next open-to-open return: [walk_forward] label "
                              "must be \"open\"")
        from forecast.portfolio.run import check_universe_size

        for name, grid, *_ in self.portfolios:
            cls = load_portfolio_strategy(name)
            for values in itertools.product(*grid.values()):
                params = parse_portfolio_params(cls, dict(zip(grid, values, strict=True)))
                check_universe_size(cls, params, len(self.tickers))

    def expanded_portfolios(self) -> list[PortfolioSpec]:
        """Every portfolio setting once."""
        from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

        out = []
        for name, grid, target, pooled, band in self.portfolios:
            cls = load_portfolio_strategy(name)
            keys = list(grid)
            for values in itertools.product(*(grid[k] for k in keys)):
                # typed as the strategy will see them: k = "1" and k = 1 are one setting
                params = parse_portfolio_params(cls, dict(zip(keys, values, strict=True)))
                out.append(PortfolioSpec(name, dict(params), target, pooled, band))
        return list(_dedupe(out))

    def portfolio_tasks(self) -> list[PortfolioTask]:
        """One universe-wide walk-forward per (model, seed, target, pooled) the portfolios use."""
        kinds = list(dict.fromkeys((p.target, p.pooled) for p in self.expanded_portfolios()))
        return [PortfolioTask(m, s, target, pooled)
                for m, s in itertools.product(self.models, self.seeds) for target, pooled in kinds]

    def portfolio_configurations(self) -> list[PortfolioConfiguration]:
        out = []
        for task in self.portfolio_tasks():
            for p, commission, slippage in itertools.product(
                    self.expanded_portfolios(), self.commissions, self.slippages):
                if (p.target, p.pooled) == (task.target, task.pooled):
                    out.append(PortfolioConfiguration(task, p, commission, slippage))
        return out

    def expanded_strategies(self) -> list[StrategySpec]:
        """Every strategy setting once (a repeated entry or value is not another trial)."""
        out = []
        for name, grid in self.strategies:
            keys = list(grid)
            for values in itertools.product(*(grid[k] for k in keys)):
                out.append(StrategySpec(name, dict(zip(keys, values, strict=True))))
        return list(_dedupe(out))

    def tasks(self) -> list[PredictionTask]:
        if not self.strategies:  # a portfolios-only spec trains no per-ticker model
            return []
        axes = itertools.product(self.tickers, self.models, self.seeds)
        return [PredictionTask(t, m, s) for t, m, s in axes]

    def configurations(self) -> list[Configuration]:
        """Every trial, task by task (so a task's rows sit together)."""
        return [
            Configuration(task, strategy, commission, slippage)
            for task in self.tasks()
            for strategy, commission, slippage in itertools.product(
                self.expanded_strategies(), self.commissions, self.slippages)
        ]

    def walk_forward_kwargs(self, seed: int) -> dict:
        """`walk_forward` keyword arguments for one seed (the CLI's defaults where unset)."""
        return WalkForwardOptions.from_table(self.walk_forward).kwargs(seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tickers": list(self.tickers),
            "models": [{"name": m.name, "params": m.params} for m in self.models],
            "strategies": [{"name": n, "params": g} for n, g in self.strategies],
            "portfolios": [{"name": n, "params": g, "target": t, "pooled": p, "rebalance_band": b}
                           for n, g, t, p, b in self.portfolios],
            "seeds": list(self.seeds),
            "costs": {"commission": list(self.commissions), "slippage": list(self.slippages), **self.broker},
            "start": self.start,
            "end": self.end,
            "cash": self.cash,
            "walk_forward": self.walk_forward,
            "engine": self.engine,
            # only for a stored universe: every other spec records what it always did
            **({"universe": {"name": self.universe, "membership": self.membership}}
               if self.universe is not None else {}),
            **({"filters": self.filters} if self.filters else {}),
            **({"tune": self.tune} if self.tune else {}),
        }


def _filters(table: dict, has_portfolios: bool) -> dict:
    """The checked [filters] table (every field filled in), or {} when it filters nothing."""
    from forecast.portfolio.filters import FilterSettings

    if not table:
        return {}
    if not has_portfolios:
        raise ConfigError("[filters] choose which tickers a portfolio may rank: "
                          "add [[portfolios]] or drop it")
    settings = FilterSettings.from_table(table)
    return settings.as_dict() if settings.active else {}


def _tune(table: dict) -> dict:
    """The checked [tune] table ({} without one): a model name and the settings."""
    if not table:
        return {}
    from forecast.tune.settings import TuneSettings

    model = table.get("model")
    if not isinstance(model, str) or not model:
        raise ConfigError(f"[tune] needs model = \"NAME\" (one of the [[models]]), got {model!r}")
    TuneSettings.from_table({k: v for k, v in table.items() if k != "model"})  # one line per mistake
    return dict(table)


def _universe(name, home, start, end) -> tuple[tuple[str, ...], dict]:
    """(tickers, {universe, membership}) of `universe = NAME`: a bundled name's tickers, or a
    stored universe's members in [start, end], resolved as `fcast portfolio --universe` does."""
    from forecast.data.universes import BUNDLED_NAMES, UniverseStore
    from forecast.portfolio.universe import bundled_universe, resolve_stored

    if not isinstance(name, str):
        raise ConfigError(f"universe must be a name, got {name!r}")
    if name in BUNDLED_NAMES:
        return tuple(bundled_universe(name)), {}
    resolved = resolve_stored(name, home=home, start=_date(start, "start"), end=_date(end, "end"))
    if resolved is None:
        known = ", ".join([*BUNDLED_NAMES, *UniverseStore(home).names()])
        raise ConfigError(f"unknown universe {name!r} (known: {known}); import one with "
                          "`fcast universe import`")
    tickers, membership = resolved
    if not tickers:
        raise ConfigError(f"universe {name} has no member with bars from {start or 'the first bar'} "
                          f"to {end or 'the last bar'}")
    kind = "bars" if membership is None else membership.kind
    return tuple(tickers), {"universe": name, "membership": kind}


def _check_strategy_value(cls: type, key: str, value) -> None:
    """A grid value must have its parameter's type: no tables, lists or booleans for numbers."""
    from strategies import parse_params, strategy_params

    known = strategy_params(cls)
    if key not in known:
        parse_params(cls, {key: value})  # raises the one-line "has no parameter" error
    default = known[key]
    if isinstance(value, dict | list):
        raise ConfigError(f"{cls.__name__} parameter {key!r}: {value!r} is not a single value")
    if isinstance(default, bool) != isinstance(value, bool) or (
        isinstance(default, int | float) and not isinstance(value, int | float)
    ) or (isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float)):
        kind = type(default).__name__
        raise ConfigError(f"parameter {key!r} of {cls.__name__} takes {kind}, got {value!r}")


def _is_preset(features) -> bool:
    from forecast.features.presets import PRESETS

    return isinstance(features, str) and features in PRESETS


def _check_walk_forward(wf: dict) -> None:
    from forecast.features.target import LABELS

    for key in ("window", "test_days", "folds", "retrain_every", "train_window"):
        value = wf.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"[walk_forward] {key} must be a whole number >= 1, got {value!r}")
    given = [k for k in ("test_days", "folds", "test_start") if wf.get(k) is not None]
    if len(given) > 1:
        raise ConfigError(f"[walk_forward]: give {given[0]} or {given[1]}, not both")
    if wf.get("test_start") is not None:
        from forecast.data.frame import parse_date

        parse_date(str(wf["test_start"]), "[walk_forward] test_start")
    if wf.get("label", defaults.LABEL) not in LABELS:
        raise ConfigError(f"[walk_forward] label must be one of {', '.join(LABELS)}, got {wf['label']!r}")
    if wf.get("features"):
        from forecast.features import FeatureSpec

        FeatureSpec.from_option(wf["features"])  # a bad preset name or file fails here, in one line


def _date(value, what: str) -> str | None:
    if value is None:
        return None
    import pandas as pd

    from forecast.data.frame import parse_date

    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        raise ConfigError(f"{what} must be a date YYYY-MM-DD, got {value!r}") from None
    parse_date(str(value), what)  # one fcast can represent (1677 to 2262)
    return str(stamp.date())


def _named_entry(entry, table: str, kind: str) -> tuple[str, dict]:
    """(name, params) of a [[models]] or [[strategies]] entry: a bare name, or a table
    with `name` and an optional `params` table."""
    if isinstance(entry, str):
        return entry, {}
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise ConfigError(f"each [[{table}]] entry needs a name, got {entry!r}")
    _unknown(entry, {"name", "params"}, f"{kind} {entry['name']}")
    params = entry.get("params", {})
    if not isinstance(params, Mapping):
        raise ConfigError(f"{kind} {entry['name']}: params must be a table")
    return str(entry["name"]), dict(params)


def _model(entry) -> ModelSpec:
    return ModelSpec(*_named_entry(entry, "models", "model"))


def _strategy(entry) -> tuple[str, dict]:
    name, params = _named_entry(entry, "strategies", "strategy")
    return name, {k: _as_list(v, f"strategy {name} parameter {k}") for k, v in params.items()}


def _portfolio(entry) -> tuple[str, dict, str, bool, float]:
    """(name, {param: [values]}, target, pooled, rebalance_band) of a [[portfolios]] entry."""
    from forecast.features.universe_target import TARGETS
    from forecast.portfolio.engine import check_band

    if not isinstance(entry, Mapping) or "name" not in entry:
        raise ConfigError(f"each [[portfolios]] entry needs a name, got {entry!r}")
    _unknown(entry, PORTFOLIO_KEYS, f"portfolio {entry['name']}")
    name, params = _named_entry({k: v for k, v in entry.items() if k in ("name", "params")},
                                "portfolios", "portfolio")
    target = entry.get("target", defaults.PORTFOLIO_TARGET)
    if target not in TARGETS:
        raise ConfigError(f"portfolio {name}: target must be one of {', '.join(TARGETS)}, got {target!r}")
    pooled = entry.get("pooled", True)
    if not isinstance(pooled, bool):
        raise ConfigError(f"portfolio {name}: pooled must be true or false, got {pooled!r}")
    band = entry.get("rebalance_band", defaults.REBALANCE_BAND)
    try:
        check_band(band)
    except ConfigError as exc:
        raise ConfigError(f"portfolio {name}: {exc}") from None
    grid = {k: _as_list(v, f"portfolio {name} parameter {k}") for k, v in params.items()}
    return name, grid, target, pooled, float(band)
