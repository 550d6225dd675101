"""Run an experiment: train each (ticker, model, seed) once, re-score it for every strategy
and cost, and judge the grid against the number of trials.

The driver loads the bars, keys every walk-forward run and reads the prediction cache;
only the misses go to the executor (in-process or Ray). As each run comes back the driver
caches it and backtests its configurations (cheap: the vector engine where it applies).
A configuration that fails is a row with its error line; the others finish.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

from forecast.errors import FcastError, TickerError
from forecast.experiment.executors import Job, SerialExecutor, error_line
from forecast.experiment.judge import judge, row_statistics
from forecast.experiment.result import ExperimentResult
from forecast.experiment.spec import (
    PORTFOLIO_TICKER,
    Configuration,
    ExperimentSpec,
    PortfolioConfiguration,
    PortfolioTask,
    PredictionTask,
)
from forecast.formatting import count
from forecast.settings import WalkForwardOptions

log = logging.getLogger("fcast")


class Events:
    """What the runner reports as it goes; the CLI draws a progress bar from these."""

    def started(self, n_jobs: int, n_cached: int) -> None: ...

    def task_done(self, task: PredictionTask, error: str | None, cached: bool) -> None: ...


def run_experiment(
    spec: ExperimentSpec,
    *,
    home: str | Path | None = None,
    source: str | None = None,
    path: str | Path | None = None,
    cache=True,
    executor=None,
    output: str | Path | None = None,
    events: Events | None = None,
    run_id: str | None = None,
    spa_reps: int | None = None,
) -> ExperimentResult:
    """Run every configuration of `spec`; return an `ExperimentResult` (never raises for a
    configuration that fails: its row says why).

    `cache`: True (the prediction cache under `home`), a `PredictionCache`, or False.
    `executor`: a `SerialExecutor` (default) or a `RayExecutor`. `output`: a folder for each
    configuration's own files (``runs/<n>-<label>/``). `source`, `path`: as `forecast.api.load`.
    """
    from forecast.cache import PredictionCache
    from forecast.runs import new_run_id

    began = time.perf_counter()
    events = events or Events()
    executor = executor or SerialExecutor()
    store = PredictionCache(home) if cache is True else (cache or None)
    state = _State(spec, output=Path(output) if output is not None else None)
    if store is not None and spec.portfolios:
        state.portfolio_store = PredictionCache(store.home, universe=True)
    bars_by_ticker = state.load_all(home=home, source=source, path=path)
    with executor:
        refs = {t: executor.put(b) for t, b in bars_by_ticker.items()}
        jobs, meta = [], {}
        for task in spec.tasks():
            bars = bars_by_ticker.get(task.ticker)
            if bars is None:
                continue
            wf = spec.task_walk_forward(task)
            key = fields = None
            if store is not None:
                key, fields, frame, error = _lookup(store, bars, task, wf)
                if error is not None:
                    state.fail_task(task, error)
                    continue
                if frame is not None:
                    state.score(task, bars, frame, cached=True)
                    events.task_done(task, None, cached=True)
                    continue
            jobs.append(Job(task.key, refs[task.ticker], task.model.name, dict(task.model.params), wf,
                            _backend(task.model.name)))
            meta[task.key] = (task, key, fields)
        portfolio_tasks = spec.portfolio_tasks()
        events.started(len(jobs) + len(portfolio_tasks), state.hits)

        def on_done(job: Job, frame: pd.DataFrame | None, error: str | None) -> None:
            task, key, fields = meta[job.key]
            if error is not None:
                state.fail_task(task, error)
            else:
                state.trained += 1
                if store is not None and key is not None:
                    try:
                        store.put(key, frame, fields)
                    except OSError as exc:
                        log.warning("cannot write the prediction cache in %s: %s", store.dir,
                                    exc.strerror or exc)
                state.score(task, bars_by_ticker[task.ticker], frame, cached=False)
            events.task_done(task, error, cached=False)

        executor.run(jobs, on_done)
        # Universe-wide walk-forwards (one per model, seed, target and pooling) are driven
        # from here, cached like the rest; their folds run on the executor (see
        # `portfolio_walk_forward`).
        for task in portfolio_tasks:
            error, cached = state.run_portfolio(task, bars_by_ticker, executor=executor)
            events.task_done(task, error, cached=cached)
    kwargs = {} if spa_reps is None else {"spa_reps": spa_reps}
    tests = judge(state.rows, state.returns, state.benchmarks, tuning_trials=state.tuning_trials(), **kwargs)
    return ExperimentResult(
        id=run_id or new_run_id(),
        spec=spec,
        rows=state.rows,
        tests=tests,
        cache={"hits": state.hits, "trained": state.trained, "enabled": store is not None},
        executor={"name": executor.name, "workers": executor.workers},
        seconds=time.perf_counter() - began,
        tickers=state.spans,
        returns=state.returns,
    )


def _lookup(store, bars, task: PredictionTask, wf: dict):
    """(key, fields, cached frame or None, error line or None) for one task."""
    from forecast.cache import Uncacheable, prediction_key

    try:
        key, fields = prediction_key(bars, task.model.name, model_params=dict(task.model.params), **wf)
    except Uncacheable as exc:
        log.warning("%s: predictions not cached: %s", task.label, exc)
        return None, None, None, None
    except FcastError as exc:  # bad settings for this ticker (a span too short, say)
        return None, None, None, error_line(exc)
    return key, fields, store.get(key), None


def _backend(model: str) -> str | None:
    """The Keras backend a worker must select, for a Keras model (None otherwise)."""
    from forecast.models.registry import is_keras_model

    if not is_keras_model(model):
        return None
    from forecast.models.backend import backend_name

    return backend_name()


def run_directory(index: int, config: Configuration | PortfolioConfiguration) -> str:
    """``007-AAPL-logreg-long-only``: a configuration's folder under ``runs/``."""
    import re

    label = f"{_ticker(config)}-{config.task.model.name}-{config.strategy.name}"
    return f"{index:03d}-" + re.sub(r"[^A-Za-z0-9._^=-]+", "_", label)


class _State:
    """Rows, returns and counters, filled in as tasks finish."""

    def __init__(self, spec: ExperimentSpec, output: Path | None):
        self.spec = spec
        self.output = output
        self.configs = [*spec.configurations(), *spec.portfolio_configurations()]
        self.rows = [_base_row(c, spec) for c in self.configs]
        self.by_task: dict[str, list[int]] = defaultdict(list)  # task.key -> its rows
        for i, c in enumerate(self.configs):
            self.by_task[c.task.key].append(i)
        self.returns: dict[int, pd.Series] = {}
        self.benchmarks: dict[int, pd.Series] = {}
        self.spans: dict[str, dict] = {}
        self.hits = self.trained = 0
        self.loaded_with: dict = {}  # home and source, for SPY beside the portfolios
        self.portfolio_store = None  # a universe PredictionCache when caching
        self.load_errors: dict[str, str] = {}  # ticker -> why it could not be loaded
        self.universe = None  # a stored universe, loaded with its membership (load_universe)
        self.tuned: dict[str, int] = {}  # task.key -> trials its nested tuning spent

    def tuning_trials(self) -> int:
        """Trials spent tuning the tasks that have a row judged (status ok)."""
        ok = {c.task.key for c, row in zip(self.configs, self.rows, strict=True) if row.get("status") == "ok"}
        return sum(n for key, n in self.tuned.items() if key in ok)

    def load_all(self, *, home, source, path) -> dict[str, pd.DataFrame]:
        from forecast.api import load

        self.loaded_with = {"home": home, "source": source}
        if self.spec.universe is not None:
            return self._load_stored(home=home, source=source, path=path)
        loaded = {}
        outside = []  # tickers with bars, none of them in the span: the spec is wrong, say so now
        for ticker in self.spec.tickers:
            try:
                bars = load(ticker, source=source, path=path, start=self.spec.start, end=self.spec.end,
                            home=home)
            except FcastError as exc:
                where = {"home": home, "source": source, "path": path}
                if isinstance(exc, TickerError) and self._has_bars(ticker, **where):
                    outside.append(ticker)
                    continue
                self.load_errors[ticker] = error_line(exc)
                failing = [task for task in self.spec.tasks() if task.ticker == ticker]
                for task in failing:
                    self.fail_task(task, error_line(exc))
                # said now, before any training, not only in the failed rows at the end
                n_rows = sum(c.task in failing for c in self.spec.configurations())
                if self.spec.portfolios:
                    n_rows += len(self.spec.portfolio_configurations())
                log.warning("warning: %s cannot be loaded, so %s will fail: %s", ticker,
                            count(n_rows, "configuration"), error_line(exc))
                continue
            loaded[ticker] = bars
            self.spans[ticker] = _span(bars)
        if outside:
            from forecast.errors import ConfigError

            span = f"{self.spec.start or 'the first bar'} to {self.spec.end or 'the last bar'}"
            raise ConfigError(f"experiment {self.spec.name}: no bars from {span} for {', '.join(outside)}; "
                              "change the spec's start/end or drop the ticker(s) (nothing was trained)")
        return loaded

    def _load_stored(self, *, home, source, path) -> dict[str, pd.DataFrame]:
        """A stored universe's bars and membership, loaded as `fcast portfolio --universe`
        loads them (`load_universe`): its portfolios trade members only."""
        from forecast.errors import ConfigError
        from forecast.portfolio.universe import load_universe

        universe = load_universe(self.spec.universe, source=source, path=path, start=self.spec.start,
                                 end=self.spec.end, home=home)
        if tuple(universe.tickers) != self.spec.tickers:  # read from another home, or re-imported since
            raise ConfigError(f"universe {self.spec.universe} has changed since the spec was read "
                              "(nothing was trained); run it again")
        self.universe = universe
        for ticker, bars in universe.bars.items():
            self.spans[ticker] = _span(bars)
        return dict(universe.bars)

    @staticmethod
    def _has_bars(ticker: str, **where) -> bool:
        """Whether `ticker` loads at all, outside the spec's span (a span without its bars is
        a mistake in the spec; a ticker that does not load is one failed row, as ever)."""
        from forecast.api import load

        try:
            load(ticker, **where)
        except FcastError:
            return False
        return True

    def run_portfolio(self, task: PortfolioTask, bars_by_ticker: dict,
                      executor=None) -> tuple[str | None, bool]:
        """Forecast the universe once for `task` (or read the cache; its folds on `executor`),
        then score each of its portfolio rows; (the error line when it fails, whether it came
        from the cache)."""
        from forecast.evaluate import pooled
        from forecast.portfolio.universe import Universe

        if self.load_errors:  # a portfolio over fewer names than the spec lists is another universe
            error = "the universe is incomplete: " + "; ".join(self.load_errors.values())
            self.fail_task(task, error)
            return error, False
        wf = WalkForwardOptions.from_table(self.spec.walk_forward).universe_kwargs(task.seed)
        kwargs = {"pooled": task.pooled, "target": task.target, "model_params": dict(task.model.params), **wf}
        key = fields = preds = None
        try:
            universe = self.universe or Universe.from_bars({t: bars_by_ticker[t] for t in self.spec.tickers
                                                            if t in bars_by_ticker})
            if self.portfolio_store is not None:
                key, fields, preds = self._portfolio_lookup(universe, task, kwargs)
            cached = preds is not None
            if not cached:
                preds = pooled.portfolio_walk_forward(universe, task.model.name, executor=executor, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a failed walk-forward fails its rows, not the grid
            self.fail_task(task, error_line(exc))
            return error_line(exc), False
        if cached:
            self.hits += 1
        else:
            self.trained += 1
            if key is not None:
                try:
                    self.portfolio_store.put(key, preds, fields)
                except OSError as exc:
                    log.warning("cannot write the portfolio cache in %s: %s", self.portfolio_store.dir,
                                exc.strerror or exc)
        self.score_portfolio(task, universe, preds, cached=cached)
        return None, cached

    def _portfolio_lookup(self, universe, task: PortfolioTask, kwargs: dict):
        """(key, fields, cached frame or None); an unkeyable model runs uncached, with a line."""
        from forecast.cache import Uncacheable, prediction_key

        try:
            key, fields = prediction_key(universe, task.model.name, universe=True, **kwargs)
        except Uncacheable as exc:
            log.warning("%s: predictions not cached: %s", task.label, exc)
            return None, None, None
        return key, fields, self.portfolio_store.get(key)

    def score_portfolio(self, task: PortfolioTask, universe, preds: pd.DataFrame, *, cached: bool) -> None:
        from forecast.backtest.metrics import daily_returns
        from forecast.portfolio.filters import FilterSettings
        from forecast.portfolio.run import forecast_column, score_portfolio, up_cut
        from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

        known = preds.dropna(subset=["actual_up"])
        hits = (known[forecast_column(preds)] > up_cut(task.target)) == (known["actual_up"] > 0.5)
        accuracy = float(hits.mean()) if len(known) else None
        up = float(known["actual_up"].mean()) if len(known) else float("nan")
        majority = max(up, 1.0 - up)  # the accuracy of always saying the commoner outcome
        market = True  # SPY's buy-and-hold: loaded for the first row, the same span for the rest
        filters = FilterSettings(**self.spec.filters) if self.spec.filters else None
        for i in self.by_task[task.key]:
            c = self.configs[i]
            row = self.rows[i]
            row["cache"] = "hit" if cached else "trained"
            try:
                cls = load_portfolio_strategy(c.strategy.name)
                result = score_portfolio(
                    universe, preds, cls, parse_portfolio_params(cls, c.strategy.params),
                    model=task.model.name, pooled=task.pooled, target=task.target, strategy=c.strategy.name,
                    cash=self.spec.cash, commission=c.commission, slippage=c.slippage,
                    min_commission=self.spec.broker.get("min_commission", 0.0),
                    rebalance_band=c.strategy.rebalance_band, market=market, filters=filters,
                    **self.loaded_with)
            except Exception as exc:  # noqa: BLE001 - one failed configuration is one failed row
                row["status"] = error_line(exc)
                continue
            market = result.market
            equity = result.backtest.equity
            strat, bench = daily_returns(equity["strategy"]), daily_returns(equity["benchmark"])
            m, b = result.backtest.metrics["strategy"], result.backtest.metrics["benchmark"]
            row.update(
                start=str(equity.index[0].date()), end=str(equity.index[-1].date()),
                total_return=m.get("total_return"), cagr=m.get("cagr"), sharpe=m.get("sharpe"),
                **row_statistics(strat, bench),
                max_drawdown=m.get("max_drawdown"), n_trades=m.get("n_fills"),
                benchmark_return=b.get("total_return"), benchmark_sharpe=b.get("sharpe"),
                accuracy=accuracy, engine="backtrader", status="ok",
                portfolio={"tickers": list(universe.tickers), "target": task.target, "pooled": task.pooled,
                           "majority_rate": majority, "mean_rank_ic": result.ic_summary.get("mean_rank_ic")},
            )
            self.returns[i], self.benchmarks[i] = strat, bench
            if self.output is not None:
                folder = self.output / "runs" / run_directory(i, c)
                result.write(folder)
                row["run"] = str(folder.relative_to(self.output))

    def fail_task(self, task: PredictionTask | PortfolioTask, error: str) -> None:
        for i in self.by_task[task.key]:
            self.rows[i]["status"] = error

    def score(self, task: PredictionTask, bars: pd.DataFrame, frame: pd.DataFrame, *, cached: bool) -> None:
        """Backtest every configuration of `task` on its predictions."""
        from forecast.api import run_backtest
        from forecast.backtest.metrics import daily_returns
        from forecast.evaluate.predictions import Predictions

        if cached:
            self.hits += 1
        trials = (frame.attrs.get("tune") or {}).get("trials")
        if trials is not None:
            self.tuned[task.key] = int(trials)
        predictions = Predictions.from_frame(frame, bars)
        for i in self.by_task[task.key]:
            c = self.configs[i]
            row = self.rows[i]
            row["cache"] = "hit" if cached else "trained"
            try:
                result = run_backtest(bars, predictions, strategy=c.strategy.name, params=c.strategy.params,
                                      cash=self.spec.cash, commission=c.commission, slippage=c.slippage,
                                      engine=self.spec.engine, **self.spec.broker)
            except Exception as exc:  # noqa: BLE001 - one failed configuration is one failed row
                row["status"] = error_line(exc)
                continue
            strat, bench = daily_returns(result.equity["strategy"]), daily_returns(result.equity["benchmark"])
            m, b = result.metrics["strategy"], result.metrics["benchmark"]
            row.update(
                start=str(result.start.date()), end=str(result.end.date()),
                total_return=m.get("total_return"), cagr=m.get("cagr"), sharpe=m.get("sharpe"),
                **row_statistics(strat, bench),
                max_drawdown=m.get("max_drawdown"), n_trades=m.get("n_trades"),
                benchmark_return=b.get("total_return"), benchmark_sharpe=b.get("sharpe"),
                accuracy=(result.forecast_metrics or {}).get("accuracy"),
                engine=result.engine, status="ok",
                **({"tuning_trials": int(trials)} if trials is not None else {}),
            )
            self.returns[i], self.benchmarks[i] = strat, bench
            if self.output is not None:
                folder = self.output / "runs" / run_directory(i, c)
                result.write(folder, plot=False)
                row["run"] = str(folder.relative_to(self.output))


def _span(bars: pd.DataFrame) -> dict:
    """A loaded ticker's span, source and fingerprint, for experiment.json."""
    from forecast.provenance import bars_fingerprint

    return {"start": str(bars.index[0].date()), "end": str(bars.index[-1].date()), "bars": len(bars),
            "source": bars.attrs.get("source"), "fingerprint": bars_fingerprint(bars)}


def _ticker(c: Configuration | PortfolioConfiguration) -> str:
    return PORTFOLIO_TICKER if isinstance(c, PortfolioConfiguration) else c.task.ticker


def _base_row(c: Configuration | PortfolioConfiguration, spec: ExperimentSpec) -> dict:
    # The label names the seed and the costs when those axes vary, so a line can say which row.
    label = c.label
    if spec.tune and isinstance(c, Configuration) and c.task.model.name == spec.tune["model"]:
        label = f"{c.task.ticker} {c.task.model.label} tuned {c.strategy.label}"
    if len(spec.seeds) > 1:
        label += f" seed {c.task.seed}"
    if len(spec.commissions) > 1 or len(spec.slippages) > 1:
        label += f" fee {c.commission:.2%} slip {c.slippage:.2%}"
    return {
        "label": label, "ticker": _ticker(c), "model": c.task.model.name,
        "model_params": dict(c.task.model.params), "seed": c.task.seed, "strategy": c.strategy.name,
        "params": dict(c.strategy.params),
        # a portfolio's forecast target and pooling (None for a per-ticker row): two portfolios
        # that differ only in these are two rows, and must read as two
        "target": c.task.target if isinstance(c, PortfolioConfiguration) else None,
        "pooled": c.task.pooled if isinstance(c, PortfolioConfiguration) else None,
        "commission": c.commission, "slippage": c.slippage,
        "start": None, "end": None, "total_return": None, "cagr": None, "sharpe": None, "sharpe_se": None,
        "psr": None, "psr_vs_benchmark": None, "max_drawdown": None, "n_trades": None,
        "benchmark_return": None, "benchmark_sharpe": None, "accuracy": None, "cache": None,
        "engine": None, "status": "not run",
    }
