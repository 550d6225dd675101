"""A journal's live record beside the backtest of the same configuration, on the same days.

For each ticker the journaled calls whose outcome is now in the data are scored: accuracy
of P(up) > 0.5 against the label (`make_target`, the backtest's own), and the strategy
traded on the journaled P(up) by the backtest's own engine (`forecast.api.run_backtest`),
from flat on the first journaled day. The backtest of the journal's configuration is then
run through the last scored day (its folds pinned by `test_start`, so it predicts those days
as the signals did, if nothing changed) and its P(up) on the same days is traded the same
way: equal figures are the expected result, and days where the two P(up) differ are counted
(data revised, or code or environment changed). The verdict compares the live strategy's
mean daily return with the backtest's over its out-of-sample days before the journal began
(a Welch z of the difference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.errors import ConfigError

SAME_CALL = 1e-9  # P(up)s closer than this are the same call


@dataclass
class TickerScore:
    ticker: str
    days: int  # journaled calls with an outcome
    pending: int  # journaled calls still waiting for theirs
    live: dict  # accuracy, accuracy_se, total_return, sharpe, sharpe_se, psr
    backtest: dict  # the same figures from the backtest's P(up) on the same days
    differing_days: int  # days whose journaled P(up) or target differs from the backtest's
    verdict: dict  # difference of mean daily returns (live - backtest before), its se, z, text
    live_returns: pd.Series = field(repr=False, default=None)
    backtest_returns: pd.Series = field(repr=False, default=None)

    def to_dict(self) -> dict:
        from forecast.jsonsafe import json_safe

        return json_safe({"ticker": self.ticker, "days": self.days, "pending": self.pending,
                          "live": self.live, "backtest": self.backtest,
                          "differing_days": self.differing_days, "verdict": self.verdict})


def figures(preds: pd.DataFrame, returns: pd.Series) -> dict:
    """Accuracy (with its binomial SE) of `preds` (prob_up, actual_up) and the strategy's
    total return, Sharpe (with its SE) and PSR (vs 0) from its daily `returns`."""
    from forecast.stats.sharpe import probabilistic_sharpe_ratio, sharpe_ratio, sharpe_se

    hit = ((preds["prob_up"] > 0.5) == (preds["actual_up"] > 0.5)).astype(float)
    n = len(hit)
    acc = float(hit.mean()) if n else math.nan
    enough = len(returns) >= 3 and float(returns.std()) > 0
    return {
        "days": n,
        "accuracy": acc,
        "accuracy_se": math.sqrt(acc * (1 - acc) / n) if n else math.nan,
        "total_return": float((1 + returns).prod() - 1) if len(returns) else math.nan,
        "sharpe": sharpe_ratio(returns) if enough else math.nan,
        "sharpe_se": sharpe_se(returns) if enough else math.nan,
        "psr": probabilistic_sharpe_ratio(returns) if enough else math.nan,
    }


def verdict(live: pd.Series, before: pd.Series) -> dict:
    """Live mean daily return minus the backtest's before the journal, its Welch SE and z."""
    if len(live) < 2 or len(before) < 2:
        return {"difference": math.nan, "se": math.nan, "z": math.nan,
                "text": "too few days to compare with the backtest yet"}
    diff = float(live.mean() - before.mean())
    se = math.sqrt(live.var(ddof=1) / len(live) + before.var(ddof=1) / len(before))
    z = diff / se if se > 0 else math.nan
    if not math.isfinite(z) or abs(z) < 2:
        text = f"consistent with the backtest (z = {z:+.2f})"
    else:
        text = f"{'better' if z > 0 else 'worse'} than the backtest (z = {z:+.2f})"
    return {"difference": diff, "se": se, "z": z, "text": text}


def score_journal(name: str, *, home=None, source=None) -> list[TickerScore]:
    """Each ticker's live record in journal `name` beside the backtest (see the module)."""
    from forecast.journal.store import entries
    from forecast.signal.config import SignalConfig

    docs = entries(name, home)
    if not docs:
        raise ConfigError(f"journal {name} has no entries")
    config = SignalConfig.from_dict(docs[0]["config"])
    if config.kind == "portfolio":
        return [_score_portfolio(docs, config, home=home, source=source)]
    return [_score_ticker(ticker, docs, config, home=home, source=source) for ticker in config.tickers]


def _score_portfolio(docs: list[dict], config, *, home, source) -> TickerScore:
    """A portfolio journal: the journaled forecasts of each day traded by the portfolio engine
    (`score_portfolio`, the backtest's own), beside the backtest's forecasts of the same days."""
    from forecast.portfolio.run import forecast_column, score_portfolio
    from forecast.portfolio.universe import load_universe
    from forecast.signal.replay import portfolio_through
    from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

    replayed = portfolio_through(config, home=home, source=source)
    preds = replayed.predictions
    column = forecast_column(preds)
    calls = pd.Series({(pd.Timestamp(r["as_of"]), r["ticker"]): r.get(column)
                       for d in docs for r in d["signals"]}, dtype=float)
    calls.index.names = ["date", "ticker"]
    days = pd.DatetimeIndex(sorted({d for d, _ in calls.index}))
    outcome = preds["realized"].groupby(level="date").apply(lambda r: bool(r.notna().any()))
    known = days[days.isin(outcome.index[outcome.to_numpy(dtype=bool)])]
    name = config.universe or "portfolio"
    if len(known) == 0:
        empty = figures(pd.DataFrame(columns=["prob_up", "actual_up"]), pd.Series(dtype=float))
        return TickerScore(name, 0, len(days), empty, empty, 0, verdict(pd.Series(), pd.Series()))
    same_days = preds[preds.index.get_level_values("date").isin(known)]
    live = same_days.copy()
    live[column] = calls.reindex(live.index).to_numpy()
    universe = load_universe(config.universe or list(config.tickers), source=source, start=config.start,
                             home=home)
    cls = load_portfolio_strategy(config.strategy)
    extra = {k: v for k, v in config.portfolio.items() if k in ("rebalance_band", "max_fee_share")}
    costs = {k: v for k, v in config.costs.broker().items() if k != "commission_per_share"}

    def traded(frame):
        result = score_portfolio(universe, frame, cls, parse_portfolio_params(cls, config.params),
                                 model=config.model.name, pooled=bool(config.portfolio.get("pooled", True)),
                                 target=str(config.portfolio.get("target", "direction")),
                                 strategy=config.strategy, market=None, **extra, **costs)
        returns = result.backtest.equity["strategy"].pct_change().dropna()
        return returns[returns.index > known[0]]

    def calls_frame(frame):
        if column != "prob_up":  # a score's accuracy is not a probability's: left out
            return pd.DataFrame(columns=["prob_up", "actual_up"])
        return frame[["prob_up", "actual_up"]].dropna()

    live_returns, replay_returns = traded(live), traded(same_days)
    differ = ~np.isclose(live[column], same_days[column], rtol=0, atol=SAME_CALL, equal_nan=True)
    history = replayed.backtest.equity["strategy"].pct_change().dropna()
    return TickerScore(name, len(known), len(days) - len(known), figures(calls_frame(live), live_returns),
                       figures(calls_frame(same_days), replay_returns), int(differ.sum()),
                       verdict(live_returns, history[history.index < known[0]]), live_returns, replay_returns)


def _calls(docs: list[dict], ticker: str) -> pd.DataFrame:
    rows = [(pd.Timestamp(r["as_of"]), r["prob_up"], r["target"]) for d in docs for r in d["signals"]
            if r["ticker"] == ticker]
    frame = pd.DataFrame(rows, columns=["date", "prob_up", "target"]).set_index("date").sort_index()
    return frame.astype(float)


def _score_ticker(ticker: str, docs: list[dict], config, *, home, source) -> TickerScore:
    from forecast.api import load
    from forecast.features.target import label_lookahead, make_target
    from forecast.signal.replay import backtest_through

    calls = _calls(docs, ticker)
    bars = load(ticker, home=home, source=source)
    wf = config.walk_forward
    actual = make_target(bars, 1, label=wf.label)
    known = calls.index[calls.index.isin(bars.index)]
    position = bars.index.get_indexer(known)
    known = known[position + label_lookahead(1, wf.label) <= len(bars) - 1]
    pending = len(calls) - len(known)
    if len(known) == 0:
        empty = figures(pd.DataFrame(columns=["prob_up", "actual_up"]), pd.Series(dtype=float))
        return TickerScore(ticker, 0, pending, empty, empty, 0, verdict(pd.Series(), pd.Series()))
    last_day = bars.index[bars.index.get_loc(known[-1]) + label_lookahead(1, wf.label)]
    live_preds = calls.loc[known, ["prob_up"]].assign(actual_up=actual.reindex(known).to_numpy())
    live_returns = _traded(bars.loc[:last_day], live_preds, config)
    (replayed, _, _), = backtest_through(config, end=last_day, home=home, source=source)
    rows = replayed.predictions.set_index("date")
    replay_preds = rows.reindex(known)[["prob_up"]].assign(actual_up=live_preds["actual_up"].to_numpy())
    replay_returns = _traded(bars.loc[:last_day], replay_preds, config)
    # Below 1e-9, a rescaled history's rounding (a later dividend back-adjusts the prices before
    # it): the same call. Above, the data was revised, or the code or its environment changed.
    differ = (~np.isclose(calls.loc[known, "prob_up"], rows.reindex(known)["prob_up"], rtol=0, atol=SAME_CALL)
              | ~_same(calls.loc[known, "target"], rows.reindex(known)["target"]))
    history = replayed.equity["strategy"].pct_change().dropna()
    before = history[history.index < known[0]]
    return TickerScore(ticker, len(known), pending, figures(live_preds, live_returns),
                       figures(replay_preds, replay_returns), int(differ.sum()),
                       verdict(live_returns, before), live_returns, replay_returns)


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _traded(bars: pd.DataFrame, preds: pd.DataFrame, config) -> pd.Series:
    """Daily returns of the configuration's strategy traded on `preds` by the backtest's
    engine, from flat on the first day."""
    from forecast.api import run_backtest

    result = run_backtest(bars, preds[["prob_up"]], strategy=config.strategy, params=config.params,
                          engine=config.engine, **config.costs.broker())
    equity = result.equity["strategy"]
    returns = equity.pct_change().dropna()
    return returns[returns.index > preds.index[0]]
