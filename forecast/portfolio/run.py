"""`run_portfolio_backtest`: universe -> forecasts -> ranking strategy -> a complete result.

The steps, each its own module: load the universe on its union calendar (`universe.py`),
forecast every ticker out of sample, pooled or per ticker (`pooled.py`), trade a ranking
strategy on backtrader with one feed per ticker (`engine.py`), and score the forecasts
by their information coefficients (`ic.py`). The result is built once, complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError
from forecast.jsonsafe import json_safe
from forecast.run_result import RunRecord

MARKET = "SPY"  # the second benchmark, when it is available over the span


@dataclass
class PortfolioResult:
    """A portfolio run: the backtest, the forecasts behind it and their quality."""

    universe: list[str]
    model: str
    pooled: bool
    target: str
    strategy: str
    params: dict
    backtest: Any  # forecast.portfolio.engine.PortfolioBacktest
    predictions: pd.DataFrame  # long: (date, ticker) -> prob_up (or score), actual_up, realized, fold
    ic: pd.DataFrame  # date -> ic, rank_ic, n
    ic_summary: dict
    market: pd.Series | None  # SPY buy-and-hold equity on the strategy's dates (None: not available)
    statistics: dict  # Sharpe SE, PSR vs 0 and vs the equal-weight benchmark
    spread: dict  # top-minus-bottom by prob_up (or score), independent of the strategy
    settings: dict = field(default_factory=dict)
    walk_forward: dict = field(default_factory=dict)
    # True: bundled stocks (today's Dow members, filled back in time); None: unknown (user data)
    survivorship_biased: bool | None = False
    cache: str | None = None  # "hit" or "miss" when the forecasts went through the cache (not written)

    kind: ClassVar[str] = "portfolio"
    title: ClassVar[str] = "the portfolio run"

    @property
    def equity(self) -> pd.DataFrame:
        eq = self.backtest.equity.copy()
        if self.market is not None:
            eq["market"] = self.market.reindex(eq.index)
        return eq

    def to_dict(self) -> dict:
        """The metrics.json content."""
        from forecast.backtest.metrics import compute_metrics

        bt_metrics = self.backtest.metrics
        market = None
        if self.market is not None:
            market = {"name": f"{MARKET} buy-and-hold", **compute_metrics(self.market.dropna())}
        return json_safe({
            "kind": "portfolio",
            "universe": self.universe,
            "model": self.model,
            "pooled": self.pooled,
            "target": self.target,
            "strategy": {"name": self.strategy, "params": self.params, **bt_metrics["strategy"]},
            "benchmark": {"name": "equal-weight buy-and-hold", **bt_metrics["benchmark"]},
            "market": market,
            "start": self.backtest.equity.index[0],
            "end": self.backtest.equity.index[-1],
            "ic": self.ic_summary,
            "spread": self.spread,
            "statistics": self.statistics,
            "contributions": self.backtest.contributions.to_dict(),
            # each leg's daily P&L over the previous close's value, summed (legs.csv has the days)
            "legs": {c: float(self.backtest.legs[c].sum()) for c in self.backtest.legs.columns},
            "settings": self.settings,
            "walk_forward": self.walk_forward,
            "survivorship_biased": self.survivorship_biased,
        })

    def run_record(self) -> RunRecord:
        """What the run index keeps: universe, model, strategy, seed and the metrics."""
        metrics = self.to_dict()
        return RunRecord(
            summary={
                "universe": metrics["universe"],
                "model": metrics["model"],
                "strategy": metrics["strategy"]["name"],
                "seed": (metrics.get("walk_forward") or {}).get("seed"),
            },
            metrics=metrics,
        )

    def write(self, folder: str | Path, *, plot: bool = True) -> Path:
        """metrics.json, equity.csv, weights.csv, trades.csv, predictions.csv, ic.csv, legs.csv
        (`plot`: no figure here, the report page draws them)."""
        from forecast.output_dir import write_files

        dates = {"index_label": "date", "date_format": "%Y-%m-%d"}
        trades = getattr(self.backtest, "trades", None)
        if trades is None:
            trades = self.backtest.fills
        column = forecast_column(self.predictions)
        preds = self.predictions.reset_index()[["date", "ticker", column, "realized"]]
        writers = {
            "metrics.json": lambda p: p.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False)),
            "equity.csv": lambda p: self.equity.to_csv(p, **dates),
            "weights.csv": lambda p: self.backtest.weights.to_csv(p, **dates),
            "trades.csv": lambda p: trades.to_csv(p, index=False, date_format="%Y-%m-%d"),
            "predictions.csv": lambda p: preds.rename(columns={"realized": "realised_return"}).to_csv(
                p, index=False, date_format="%Y-%m-%d"),
            "ic.csv": lambda p: self.ic.to_csv(p, **dates),
        }
        legs = getattr(self.backtest, "legs", None)
        if legs is not None:  # daily long and short P&L, for the report's legs section
            writers["legs.csv"] = lambda p: legs.to_csv(p, **dates)
        return write_files(Path(folder), writers)


def check_universe_size(cls, params: dict, n: int) -> None:
    """Refuse a k the universe cannot fill (the strategy would trade a smaller k than its label
    says): long-short with k needs 2k names, top-k and topk-dropout k names."""
    from strategies.portfolio import names_needed

    needed = names_needed(cls, params)
    if needed is not None and needed > n:
        k = {**cls.param_defaults(), **params}.get("k")
        raise ConfigError(f"{cls.__name__} with k={k} needs {needed} tickers, the universe has {n} "
                          f"(lower k to at most {k * n // needed})")


def forecast_column(preds: pd.DataFrame) -> str:
    """What a universe's forecasts rank by: `score` (a return or rank target), else `prob_up`."""
    return "score" if "score" in preds.columns else "prob_up"


def up_cut(target: str) -> float:
    """Where a forecast calls "up": P(up) or a predicted rank above 1/2, a predicted return above 0."""
    return 0.0 if target == "return" else 0.5


def daily_ranks(score: pd.DataFrame) -> pd.DataFrame:
    """Each day's scores as percentile ranks in (0, 1] across that row's tickers (NaN stays
    NaN): the same order each day, in the range the portfolio engine takes, so a ranking
    strategy holds the same names as it would ranking the scores themselves (ties tie)."""
    return score.rank(axis=1, method="average", pct=True)


def top_minus_bottom(prob: pd.DataFrame, realized: pd.DataFrame, k: int) -> dict:
    """Mean daily realised return of the k highest-ranked names minus the k lowest (equal
    weight, no costs): the forecasts' spread, whatever the strategy does with it."""
    realized = realized.reindex(index=prob.index, columns=prob.columns)
    spreads = []
    for p, r in zip(prob.to_numpy(dtype=float), realized.to_numpy(dtype=float), strict=True):
        both = np.isfinite(p) & np.isfinite(r)
        kk = min(k, int(both.sum()) // 2)
        if kk < 1:
            continue
        ranked = r[both][np.argsort(-p[both], kind="stable")]  # ties keep the column order
        spreads.append(ranked[:kk].mean() - ranked[-kk:].mean())
    s = np.asarray(spreads, dtype=float)
    if s.size < 2:
        return {"k": k, "mean": None, "t_stat": None, "n_days": int(s.size)}
    return {"k": k, "mean": float(s.mean()), "t_stat": float(s.mean() / s.std(ddof=1) * np.sqrt(s.size)),
            "n_days": int(s.size)}


def market_equity(index: pd.DatetimeIndex, *, cash: float, source, home) -> pd.Series | None:
    """SPY as the equal-weight benchmark is held: cash on the first decision day, bought at
    the next day's open without costs and held, valued at its last close on days it has no
    bar (as the engine values any holding). None when SPY has no bar on the entry day."""
    from forecast.api import load
    from forecast.errors import FcastError

    try:
        bars = load(MARKET, source=source, start=index[0], end=index[-1], home=home)
    except FcastError:
        return None
    if len(index) < 2 or index[1] not in bars.index:
        return None
    held = cash * bars["close"].reindex(index).ffill() / bars.at[index[1], "open"]
    held.iloc[0] = cash
    return held.rename("market")


def run_portfolio_backtest(
    tickers,
    *,
    model: str = defaults.PORTFOLIO_MODEL,
    pooled: bool = True,
    target: str = defaults.PORTFOLIO_TARGET,
    strategy: str = defaults.PORTFOLIO_STRATEGY,
    params: dict | list | None = None,
    model_params: dict | None = None,
    walk_forward: dict | None = None,
    source: str | None = None,
    path=None,
    start=None,
    end=None,
    home=None,
    cash: float = defaults.CASH,
    commission: float = defaults.COMMISSION,
    slippage: float = defaults.SLIPPAGE,
    min_commission: float = defaults.MIN_COMMISSION,
    rebalance_band: float = defaults.REBALANCE_BAND,
    max_fee_share: float = defaults.MAX_FEE_SHARE,
    progress: Callable[[int, int], None] | None = None,
    cache: bool = False,
    filters=None,
    executor=None,
) -> PortfolioResult:
    """Forecast every ticker of `tickers` (a list, or a universe name such as "dow30"),
    trade `strategy` on the forecasts and return a complete `PortfolioResult`.

    `cache`: read and keep the forecasts in the portfolio prediction cache under `home`
    (keyed by every ticker's bars and every setting that shapes them).
    `filters`: a `forecast.portfolio.filters.FilterSettings` (which tickers may be ranked).
    `executor`: where the walk-forward's folds run (see `portfolio_walk_forward`; an entered
    `forecast.experiment.RayExecutor`, say); None: here, in order."""
    from forecast.evaluate.pooled import portfolio_walk_forward
    from forecast.portfolio.engine import check_band, check_fee_share
    from forecast.portfolio.universe import load_universe
    from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

    cls = load_portfolio_strategy(strategy)  # bad names and params fail before any training
    typed = parse_portfolio_params(cls, params or {})
    check_band(rebalance_band)
    check_fee_share(max_fee_share)
    universe = load_universe(tickers, source=source, path=path, start=start, end=end, home=home)
    check_universe_size(cls, typed, len(universe.tickers))
    kwargs = {"pooled": pooled, "target": target, "model_params": model_params, "progress": progress,
              "executor": executor, **(walk_forward or {})}
    store = None
    if cache:
        from forecast.cache import PredictionCache

        store = PredictionCache(home, universe=True)
        preds = store.walk_forward(universe, model, **kwargs)
    else:
        preds = portfolio_walk_forward(universe, model, **kwargs)
    result = score_portfolio(universe, preds, cls, typed, model=model, pooled=pooled, target=target,
                             strategy=strategy if isinstance(strategy, str) else cls.__name__,
                             cash=cash, commission=commission, slippage=slippage,
                             min_commission=min_commission, rebalance_band=rebalance_band,
                             max_fee_share=max_fee_share, source=source, home=home, filters=filters)
    result.cache = store.last if store is not None else None
    return result


# What an `ens:a,b` run records beside the scalar settings: who its members were, and with what.
ENSEMBLE_ATTRS = ("members", "member_params")


def score_portfolio(universe, preds: pd.DataFrame, cls, params: dict, *, model: str, pooled: bool,
                    target: str, strategy: str, cash: float = defaults.CASH,
                    commission: float = defaults.COMMISSION, slippage: float = defaults.SLIPPAGE,
                    min_commission: float = defaults.MIN_COMMISSION,
                    rebalance_band: float = defaults.REBALANCE_BAND,
                    max_fee_share: float = defaults.MAX_FEE_SHARE, source=None, home=None,
                    market: pd.Series | None | bool = True, filters=None) -> PortfolioResult:
    """Trade ranking strategy `cls` (with checked `params`) on forecasts `preds` of
    `portfolio_walk_forward` over `universe`: the backtest, IC, spread and statistics.
    An experiment calls it once per strategy, parameter and cost on one set of forecasts.
    `market`: True loads SPY's buy-and-hold for the span, or give it (None: not available).
    `filters`: a `FilterSettings` (None or inactive: none; recorded in settings when active)."""
    from forecast.data.sources import survivorship_biased
    from forecast.portfolio.engine import run_portfolio
    from forecast.portfolio.ic import ic_summary, information_coefficients
    from forecast.stats import probabilistic_sharpe_ratio, psr_vs_benchmark, sharpe_se

    # A return or rank target ranks by its score; IC and spread read the score itself.
    prob = preds[forecast_column(preds)].unstack("ticker")
    realized = preds["realized"].unstack("ticker")
    members = None
    if getattr(universe, "membership", None) is not None:  # point in time: members only
        members = universe.membership.mask(prob.index, list(prob.columns))
        prob = prob.where(members)
    eligible = None
    if filters is not None and filters.active:  # IC and spread also count eligible tickers only
        from forecast.portfolio.filters import eligibility

        eligible = eligibility(universe.bars, prob.index, list(prob.columns), filters)
        prob = prob.where(eligible)
    check_universe_size(cls, params, len(universe.tickers))
    # The engine takes values in [0, 1]: a score trades as its rank among the day's rankable names.
    signal = daily_ranks(prob) if forecast_column(preds) == "score" else prob
    backtest = run_portfolio(dict(universe.bars), signal, cls, params, cash=cash, commission=commission,
                             slippage=slippage, min_commission=min_commission,
                             rebalance_band=rebalance_band, max_fee_share=max_fee_share, members=members,
                             eligible=eligible)
    ic = information_coefficients(prob, realized)
    returns = backtest.equity.pct_change().dropna()
    statistics = {
        "sharpe_se": sharpe_se(returns["strategy"]),
        "psr": probabilistic_sharpe_ratio(returns["strategy"]),
        "psr_vs_benchmark": psr_vs_benchmark(returns["strategy"], returns["benchmark"]),
    }
    k = int(params.get("k", cls.param_defaults().get("k", 5)))
    if market is True:
        market = market_equity(backtest.equity.index, cash=cash, source=source, home=home)
    return PortfolioResult(
        universe=list(universe.tickers), model=model, pooled=pooled, target=target,
        strategy=strategy, params=params, backtest=backtest,
        predictions=preds, ic=ic, ic_summary=ic_summary(ic),
        market=market if isinstance(market, pd.Series) else None,
        statistics=statistics, spread=top_minus_bottom(prob, realized, k),
        settings={"cash": cash, "commission": commission, "slippage": slippage,
                  "min_commission": min_commission, "rebalance_band": rebalance_band,
                  "max_fee_share": max_fee_share,
                  **({"filters": filters.as_dict()} if eligible is not None else {})},
        walk_forward={k_: v for k_, v in preds.attrs.items()
                      if isinstance(v, str | int | float | bool) or k_ in ENSEMBLE_ATTRS},
        survivorship_biased=survivorship_biased(universe.bars),
    )
