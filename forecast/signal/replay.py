"""The backtest a signal configuration defines, through a given day: what a signal reads
its last row from, and what a journal's live record is compared with."""

from __future__ import annotations

from collections.abc import Callable

from forecast.signal.config import SignalConfig


def plan_for(config: SignalConfig, cache=None):
    """The checked `BacktestPlan` of a ticker configuration (bad options fail here)."""
    from forecast.batch import plan_backtest

    return plan_backtest(config.strategy, config.params, model=config.model, model_path=config.model_path,
                         walk_forward=config.walk_forward, costs=config.costs, engine=config.engine,
                         start=config.start, cache=cache)


def backtest_through(config: SignalConfig | dict, *, end=None, home=None, source=None, path=None, cache=None,
                     guard=None, progress: Callable | None = None, say: Callable[[str], None] | None = None):
    """The backtests of a ticker configuration on bars up to `end` (inclusive; None: the
    last bar): a list of (result, bars, cache status), one per ticker that loads
    (`guard(ticker, action, *args)` may skip one, as in `fcast backtest`)."""
    from forecast.batch import _call, load_tickers

    config = config if isinstance(config, SignalConfig) else SignalConfig.from_dict(config)
    plan = plan_for(config, cache)
    guard = guard or _call
    loaded = load_tickers(list(config.tickers), source=source, path=path, home=home, end=end,
                          start=None if config.model_path else config.start, guard=guard, say=say)
    return list(plan.run(loaded, guard=guard, progress=progress))


def portfolio_through(config: SignalConfig | dict, *, end=None, home=None, source=None, cache: bool = True,
                      progress: Callable | None = None):
    """The portfolio run of a portfolio configuration through `end` (a `PortfolioResult`)."""
    from forecast.portfolio.run import run_portfolio_backtest

    config = config if isinstance(config, SignalConfig) else SignalConfig.from_dict(config)
    extra = dict(config.portfolio)
    train_on = extra.pop("train_on", None)
    if extra.get("filters") is not None:
        from forecast.portfolio.filters import FilterSettings

        extra["filters"] = FilterSettings(**extra["filters"])
    walk_forward = {**config.walk_forward.universe_kwargs(config.model.seed),
                    **({"train_on": train_on} if train_on else {})}
    names = config.universe if config.universe else list(config.tickers)
    return run_portfolio_backtest(
        names, model=config.model.name, strategy=config.strategy, params=config.params,
        model_params=config.model.params(), walk_forward=walk_forward, source=source, start=config.start,
        end=end, home=home, cache=cache, progress=progress, **extra, **config.costs.broker(),
    )
