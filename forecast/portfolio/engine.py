"""`run_portfolio`: a cross-sectional ranking strategy over a universe, on backtrader with
one data feed per ticker.

Conventions (the single-ticker engine's, extended to many tickers):

- Calendar: the union of the tickers' bar dates. A ticker is *tradable* on day t when it
  has a bar dated t and a finite prob at t. Only tradable tickers are ranked and traded on
  t; a ticker without a bar on t keeps its position. Prices are never forward-filled into
  returns: a held ticker without a bar is valued at its last close (a zero return that
  day, its move shows on its next bar).
- Decision on day t's close: the strategy gets the prob row dated t of the tradable
  tickers and the current weights, and returns target weights. Weights are fractions of
  the portfolio value V_t at t's close (cash + sum of positions x last close); the target
  of ticker i is w_i x V_t / close_i,t shares (fractional), fixed at the decision. A
  portfolio whose value at a close is <= 0 is ruined: it takes no decision from then on,
  its equity is zero from that close on, and its metrics say `ruined_on`.
- Orders are sent at the open of the next calendar day (backtrader's cheat-on-open hook)
  for the tickers that have a bar that day and fill at that open, buys at open x (1 +
  slippage), sells at open x (1 - slippage). A ticker without a bar on the next calendar
  day does not trade on that decision (its position is held; the next decision on which
  it is tradable reconsiders it). No order is sent after the last day's decision.
- `rebalance_band`: a held position whose target keeps its side is not resized when the
  target weight is within the band of its current weight (default 0: always resized).
- Costs: one fee per order, max(commission x traded value, min_commission)
  (`forecast.backtest.broker`'s broker and commission info). An order whose fee would be
  more than `max_fee_share` of its value (default 1: more than the order is worth) is
  skipped and counted (`orders_skipped_costs`): a sell before the buys are sized, a buy
  after they are scaled (see the cash rule), the scale being worked out again without it.
- Cash rule (trimming): sells (and short sales, whose proceeds are credited to cash, the
  standard short-cash accounting) go first; the cash they leave, net of their fees, pays
  for the buys (including buys that cover shorts). When the buys, slippage and fees
  included, would cost more than that, every buy of the day is scaled by one common
  fraction f < 1 so that they cost exactly the cash (times 1 - 1e-12, for rounding); if
  the cash cannot even pay the buys' minimum fees, no buy is sent that day.
- Benchmark: equal-weight buy-and-hold of the tickers tradable on the first decision day
  that have a bar on the next calendar day (the entry day): cash / N of each is bought
  at the entry day's open, without costs or slippage, and held to the end (valued at
  each ticker's last close). Tickers that list later are not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import backtrader as bt
import numpy as np
import pandas as pd

from forecast import defaults
from forecast.backtest.broker import configure_broker, validate_broker
from forecast.backtest.metrics import compute_metrics, floor_ruin, ruin_bar
from forecast.backtest.recorder import FillRecorder, num_to_timestamps
from forecast.data.frame import ensure_bars
from forecast.errors import ConfigError

FILL_COLUMNS = ["date", "ticker", "size", "price", "value", "commission"]
_SAFETY = 1.0 - 1e-12  # keeps cash >= 0 despite rounding when buys are trimmed


@dataclass
class PortfolioBacktest:
    """What `run_portfolio` returns.

    - `equity`: date -> strategy, benchmark (portfolio value at each close).
    - `weights`: date x ticker, end-of-day weights: position x last close / portfolio value
      (after a ruin: NaN at the ruin bar, whose value is <= 0, and 0 after it).
    - `targets`: decision date x ticker, the weights the strategy asked for (NaN: not
      tradable that day; 0: tradable, not wanted).
    - `fills`: one row per executed order: date, ticker, size (signed), price (after
      slippage), value (|size| x price), commission.
    - `metrics`: {"strategy": {...}, "benchmark": {...}} (see `_metrics`).
    - `legs`: date -> long, short, costs. long (short): the day's P&L of the long (short)
      positions over the previous close's portfolio value, before fees; costs: the day's
      fees over the same value. long + short - costs is the strategy's daily return (0 on
      the first day). A position's P&L on a day is prev_size x (fill - prev_close) +
      size x (close - fill) (fill = close when it did not trade): the first part goes to
      the side of the position held before the fill, the second to the side after it.
    - `contributions`: ticker -> that P&L summed over the run minus that ticker's fees, in
      currency; they sum to final equity - starting cash (up to rounding).
    - `settings`: costs, strategy, params, tickers, start, end, benchmark entry and members.
    """

    equity: pd.DataFrame
    weights: pd.DataFrame
    targets: pd.DataFrame
    fills: pd.DataFrame
    metrics: dict
    legs: pd.DataFrame
    contributions: pd.Series
    settings: dict = field(default_factory=dict)


def run_portfolio(
    bars: dict[str, pd.DataFrame],
    prob: pd.DataFrame,
    strategy: type,
    params: dict | None = None,
    *,
    cash: float = defaults.CASH,
    commission: float = defaults.COMMISSION,
    slippage: float = defaults.SLIPPAGE,
    min_commission: float = defaults.MIN_COMMISSION,
    rebalance_band: float = defaults.REBALANCE_BAND,
    max_fee_share: float = defaults.MAX_FEE_SHARE,
    risk_free: float = 0.0,
    members: pd.DataFrame | None = None,
    eligible: pd.DataFrame | None = None,
) -> PortfolioBacktest:
    """Trade the ranking strategy class `strategy` (a `strategies.portfolio.RankingStrategy`
    subclass, instantiated with `params`) on `prob` over `bars` (see the module's
    conventions). `bars`: canonical daily bars per ticker, calendars may differ; `prob`:
    indexed by decision date, one column per ticker of `bars`, NaN where there is no
    prediction (rows dated off the bars' union calendar are ignored: no ticker trades on
    them). `members` (optional): booleans per date and ticker, a universe's point-in-time
    membership. A ticker is a candidate at the decision on day t only if it is a member on
    t and on the next calendar day, the day the position is held (membership is a schedule
    known a day ahead; no price of t+1 is read): otherwise its prob is ignored and a
    position held in it is closed at the next open, so no end-of-day weight is ever held
    on a day its ticker is not a member. `eligible` (optional): booleans per date and
    ticker from the universe filters (`forecast.portfolio.filters`), read on t itself:
    a ticker not eligible at the decision on t is not ranked and a position held in it
    closes at the next open. Returns a `PortfolioBacktest`. Raises ConfigError (one
    line) for bad input."""
    validate_broker(cash=cash, commission=commission, commission_per_share=None,
                    min_commission=min_commission, slippage=slippage)
    check_band(rebalance_band)
    check_fee_share(max_fee_share)
    ranker, name = _make_ranker(strategy, params)
    bars, probs = _inputs(bars, prob)
    member = None
    if members is not None:
        member = members.reindex(index=probs.index, columns=probs.columns).fillna(False).astype(bool)
        member &= member.shift(-1, fill_value=True)  # the last decision sends no order
    if eligible is not None:  # the filters read bars <= t: never shifted like membership
        ok = eligible.reindex(index=probs.index, columns=probs.columns).fillna(False).astype(bool)
        member = ok if member is None else member & ok
    if member is not None:
        probs = probs.where(member)

    has_bar = pd.DataFrame({t: pd.Series(True, index=b.index) for t, b in bars.items()})
    has_bar = has_bar.reindex(probs.index).fillna(False).astype(bool)
    tradable = has_bar & probs.notna()
    if not tradable.any().any():
        raise ConfigError("no day has both a bar and a prediction for any ticker")
    start = tradable.index[tradable.any(axis=1).to_numpy()][0]
    calendar = probs.index[probs.index >= start]
    if len(calendar) < 2:
        raise ConfigError("a portfolio backtest needs at least two days from the first prediction on")
    tickers = [t for t in bars if len(bars[t].loc[start:])]
    probs = probs.loc[calendar, tickers]
    member = member.loc[calendar, tickers].to_numpy() if member is not None else None

    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    for t in tickers:
        frame = bars[t].loc[start:, ["open", "high", "low", "close", "volume"]]
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, openinterest=None), name=t)
    configure_broker(cerebro, cash=cash, commission=commission, commission_per_share=None,
                     min_commission=min_commission, slippage=slippage)
    cerebro.addstrategy(_Runner, ranker=ranker, label=name, probs=probs, band=float(rebalance_band),
                        fee_share=float(max_fee_share), members=member)
    run = cerebro.run()[0]

    dates = num_to_timestamps([r[0] for r in run.rows])
    if len(dates) != len(calendar) or not (dates == calendar).all():
        raise RuntimeError("backtrader did not visit every day of the union calendar")
    value = np.array([r[2] for r in run.rows])
    sizes = np.array([r[3] for r in run.rows]).reshape(len(calendar), len(tickers))
    closes = np.array([r[4] for r in run.rows]).reshape(len(calendar), len(tickers))
    fills = _fills(run.orders)
    targets = pd.DataFrame(run.targets, index=calendar, columns=tickers)
    targets.index.name = "date"

    held_value = np.where(sizes != 0, sizes * np.nan_to_num(closes), 0.0)
    weights = pd.DataFrame(held_value / value[:, None], index=calendar, columns=tickers)
    weights.index.name = "date"
    ruin = ruin_bar(value)
    if ruin is not None:  # a fraction of a value <= 0 is undefined; nothing is held after it
        weights.iloc[ruin] = np.nan
        weights.iloc[ruin + 1:] = 0.0
    legs, contributions = _attribution(calendar, tickers, value, sizes, closes, fills)

    entry = calendar[1]
    members = [t for t in tickers if tradable.at[start, t] and has_bar.at[entry, t]]
    bench = benchmark_equity(bars, members, calendar, entry, cash)
    # A ruined portfolio (value <= 0 at a close) is worth nothing from then on, as in
    # compute_metrics: its returns are not computed from negative equity.
    strategy_value = floor_ruin(pd.Series(value, index=calendar)).to_numpy()
    equity = pd.DataFrame({"strategy": strategy_value, "benchmark": bench.to_numpy()}, index=calendar)
    equity.index.name = "date"

    metrics = _metrics(equity, weights, fills, entry, cash, risk_free)
    metrics["strategy"].update(run.orders.refused)
    settings = {
        "cash": cash, "commission": commission, "slippage": slippage,
        "min_commission": min_commission, "rebalance_band": rebalance_band,
        "max_fee_share": max_fee_share, "risk_free": risk_free,
        "strategy": name, "params": dict(vars(ranker.p)) if hasattr(ranker, "p") else dict(params or {}),
        "tickers": tickers, "start": start, "end": calendar[-1],
        "benchmark_entry": entry, "benchmark_members": members,
    }
    return PortfolioBacktest(equity=equity, weights=weights, targets=targets, fills=fills,
                             metrics=metrics, legs=legs, contributions=contributions, settings=settings)


def _make_ranker(strategy, params):
    if not (isinstance(strategy, type) and callable(getattr(strategy, "target_weights", None))
            and callable(getattr(strategy, "param_defaults", None))):
        raise ConfigError(
            f"run_portfolio takes a RankingStrategy class, got {strategy!r} "
            "(strategies.portfolio.load_portfolio_strategy resolves names)"
        )
    if params is not None and not isinstance(params, dict):
        raise ConfigError(
            "params must be a dict (strategies.portfolio.parse_portfolio_params types key=value)"
        )
    return strategy(**(params or {})), strategy.__name__


def _inputs(bars, prob) -> tuple[dict, pd.DataFrame]:
    """Validated bars per ticker and the probs on the union calendar (ticker columns)."""
    if not isinstance(bars, dict) or not bars:
        raise ConfigError("bars must be a non-empty dict of ticker -> daily bars")
    bars = {str(t): ensure_bars(b) for t, b in bars.items()}
    if not isinstance(prob, pd.DataFrame) or not isinstance(prob.index, pd.DatetimeIndex):
        raise ConfigError("prob must be a DataFrame indexed by decision date, one column per ticker")
    if prob.index.has_duplicates or prob.columns.has_duplicates:
        raise ConfigError("prob has duplicate dates or tickers")
    unknown = [str(c) for c in prob.columns if str(c) not in bars]
    if unknown:
        raise ConfigError(f"prob has tickers without bars: {', '.join(unknown)}")
    try:
        values = prob.astype(float)
    except (TypeError, ValueError):
        raise ConfigError("prob must hold numbers (probabilities of an up move)") from None
    values.columns = [str(c) for c in values.columns]
    finite = values.to_numpy()[~np.isnan(values.to_numpy())]
    if ((finite < 0) | (finite > 1)).any():
        raise ConfigError("prob values must be in [0, 1] (NaN where there is no prediction)")
    calendar = pd.DatetimeIndex(sorted(set().union(*(b.index for b in bars.values()))), name="date")
    return bars, values.reindex(index=calendar, columns=list(bars))


def check_band(band) -> None:
    """Refuse a rebalance band outside [0, 1)."""
    if isinstance(band, bool) or not (isinstance(band, (int, float)) and 0.0 <= band < 1.0):
        raise ConfigError(f"rebalance_band must be in [0, 1), got {band!r}")


def check_fee_share(share) -> None:
    """Refuse a max_fee_share outside (0, 1]: no order may pay more in fee than it is worth."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 < share <= 1.0:
        raise ConfigError(f"max_fee_share (the most of an order's value its fee may be) must be in "
                          f"(0, 1], got {share!r}")


def check_weights(weights, probs: pd.Series, name: str) -> pd.Series:
    """The strategy's weights as floats on tradable tickers; ConfigError when they break
    the rules (a ticker not tradable today, NaN, duplicates, sum of |w| above 1)."""
    weights = pd.Series(weights, dtype=float)
    extra = [t for t in weights.index if t not in probs.index]
    if extra:
        raise ConfigError(f"{name} gave a weight to {extra[0]!r}, which is not tradable that day")
    if weights.index.has_duplicates or not np.isfinite(weights.to_numpy()).all():
        raise ConfigError(f"{name} gave duplicate or non-finite weights")
    if weights.abs().sum() > 1.0 + 1e-9:
        raise ConfigError(f"{name} gave weights whose |w| sum to {weights.abs().sum():.6g} > 1")
    return weights


def buy_fraction(costs: np.ndarray, rate: float, minimum: float, cash: float) -> float:
    """Largest f in [0, 1] with sum(f c_i + max(rate f c_i, minimum)) <= cash, c_i the
    buys' values at their fill prices (1 when all fit, 0 when the minimums do not)."""
    costs = np.asarray(costs, dtype=float)

    def total(f: float) -> float:
        return float(f * costs.sum() + np.maximum(rate * f * costs, minimum).sum())

    if total(1.0) <= cash:
        return 1.0
    if cash <= minimum * len(costs):
        return 0.0
    # total is piecewise linear in f, with kinks where rate f c_i = minimum.
    kinks = {minimum / (rate * c) for c in costs if rate > 0 and c > 0 and minimum / (rate * c) < 1.0}
    points = sorted({0.0, 1.0} | {k for k in kinks if k > 0})
    for lo, hi in zip(points[:-1], points[1:], strict=True):
        t_lo, t_hi = total(lo), total(hi)
        if t_hi >= cash:
            return (lo + (cash - t_lo) * (hi - lo) / (t_hi - t_lo)) * _SAFETY
    return 0.0  # not reached: total(1) > cash


def _too_dear(value: float, rate: float, minimum: float, share: float) -> bool:
    """Whether an order worth `value` pays more than `share` of it in fee. Both sides
    multiply the same `value`, so a share equal to the rate passes every order without a
    minimum (computed from differently rounded products, some would fail by an ulp)."""
    return max(rate * value, minimum) > share * value


class _Runner(bt.Strategy):
    """Decides at each union-calendar close, orders at the next day's open."""

    params = (("ranker", None), ("label", ""), ("probs", None), ("band", 0.0), ("fee_share", 1.0),
              ("members", None))

    def __init__(self):
        self.names = [d._name for d in self.datas]
        self.rows: list[tuple] = []
        self.targets: list[np.ndarray] = []
        self.orders = FillRecorder()  # fills and the orders that did not fill
        self.pending: dict[int, float] = {}
        self._ruined = False
        self._probs = self.p.probs.to_numpy()
        # the prob row of each calendar day, by backtrader date number (the feeds' own)
        self._row = {bt.date2num(day.to_pydatetime()): i for i, day in enumerate(self.p.probs.index)}

    def _now(self) -> float:
        return max(d.datetime[0] for d in self.datas if len(d))

    def _has_bar(self, now: float) -> list[bool]:
        return [bool(len(d)) and d.datetime[0] == now for d in self.datas]

    def next(self):
        now = self._now()
        sizes = np.array([self.getposition(d).size for d in self.datas], dtype=float)
        closes = np.array([d.close[0] if len(d) else math.nan for d in self.datas], dtype=float)
        value = self.broker.getvalue()
        self.rows.append((now, self.broker.getcash(), value, sizes, closes))
        self.pending = {}
        row = self._probs[self._row[now]]
        decided = np.full(len(self.datas), np.nan)
        self.targets.append(decided)
        live = [i for i, ok in enumerate(self._has_bar(now)) if ok and not math.isnan(row[i])]
        self._ruined = self._ruined or value <= 0  # ruined for good at the first close <= 0
        if self._ruined:
            return
        if self.p.members is not None:  # a position in a ticker that left the universe closes
            member = self.p.members[self._row[now]]
            for i in np.flatnonzero((sizes != 0) & ~member):
                decided[i] = 0.0
                self.pending[i] = 0.0
        if not live:
            return
        probs = pd.Series(row[live], index=pd.Index([self.names[i] for i in live], dtype=object))
        held = [i for i in range(len(self.datas)) if sizes[i] != 0]
        holdings = pd.Series(sizes[held] * closes[held] / value,
                             index=pd.Index([self.names[i] for i in held], dtype=object), dtype=float)
        weights = check_weights(self.p.ranker.target_weights(probs, holdings), probs, self.p.label)
        for i in live:
            target = float(weights.get(self.names[i], 0.0))
            decided[i] = target
            size = sizes[i]
            same_side = size != 0 and target != 0 and (size > 0) == (target > 0)
            if same_side and abs(target - size * closes[i] / value) <= self.p.band:
                continue
            shares = target * value / closes[i]
            if shares != size:
                self.pending[i] = shares

    prenext = nextstart = next

    def next_open(self):
        pending, self.pending = self.pending, {}
        if not pending:
            return
        now = self._now()
        has_bar = self._has_bar(now)
        info = self.broker.getcommissioninfo(self.datas[0])
        rate, minimum, slip = info.p.commission, info.p.min_commission, self.broker.p.slip_perc
        cash = self.broker.getcash()
        sells, buys, costs = [], [], []
        share = self.p.fee_share
        skipped = 0
        for i, target in pending.items():
            if not has_bar[i]:
                continue  # no bar on the fill day: this ticker does not trade on that decision
            data = self.datas[i]
            delta = target - self.getposition(data).size
            if delta < 0:
                price = data.open[0] * (1.0 - slip)
                fee = max(rate * -delta * price, minimum)
                if _too_dear(-delta * price, rate, minimum, share):
                    skipped += 1
                    continue
                cash += -delta * price - fee
                sells.append((data, -delta))
            elif delta > 0:
                buys.append((data, delta))
                costs.append(delta * data.open[0] * (1.0 + slip))
        for data, size in sells:
            self.sell(data=data, size=size)
        fraction = 0.0
        while buys:  # drop the buys whose scaled fee is too large a share; the rest scale up
            fraction = buy_fraction(np.array(costs), rate, minimum, cash)
            fair = [not _too_dear(fraction * c, rate, minimum, share) for c in costs]
            if all(fair):
                break
            skipped += len(fair) - sum(fair)
            buys = [b for b, ok in zip(buys, fair, strict=True) if ok]
            costs = [c for c, ok in zip(costs, fair, strict=True) if ok]
            fraction = 0.0
        if fraction > 0:
            for data, size in buys:
                self.buy(data=data, size=size * fraction)
        self.orders.refused["orders_skipped_costs"] += skipped

    prenext_open = nextstart_open = next_open

    def notify_order(self, order):
        self.orders.notify_order(order)


def _fills(orders: FillRecorder) -> pd.DataFrame:
    frame = orders.frame()
    frame["value"] = frame["size"].abs() * frame["price"]
    return frame[FILL_COLUMNS].astype({"size": float, "price": float, "value": float, "commission": float})


def _attribution(calendar, tickers, value, sizes, closes, fills) -> tuple[pd.DataFrame, pd.Series]:
    """Daily long/short P&L legs and per-ticker contributions (see PortfolioBacktest)."""
    n, m = sizes.shape
    fill_price = np.full((n, m), np.nan)
    fees = np.zeros((n, m))
    if len(fills):
        rows = calendar.get_indexer(fills["date"])
        cols = pd.Index(tickers).get_indexer(fills["ticker"])
        fill_price[rows, cols] = fills["price"].to_numpy()
        np.add.at(fees, (rows, cols), fills["commission"].to_numpy())
    prev_size, prev_close = sizes[:-1], closes[:-1]
    size, close = sizes[1:], closes[1:]
    price = np.where(np.isnan(fill_price[1:]), close, fill_price[1:])
    before = np.where(prev_size != 0, prev_size * (price - prev_close), 0.0)
    after = np.where(size != 0, size * (close - price), 0.0)
    zero = np.zeros((1, m))
    before, after = np.vstack([zero, before]), np.vstack([zero, after])
    base = np.concatenate([[value[0]], value[:-1]])
    prev_size = np.vstack([zero, prev_size])
    long = (np.where(prev_size > 0, before, 0.0) + np.where(sizes > 0, after, 0.0)).sum(axis=1)
    short = (np.where(prev_size < 0, before, 0.0) + np.where(sizes < 0, after, 0.0)).sum(axis=1)
    legs = pd.DataFrame({"long": long / base, "short": short / base, "costs": fees.sum(axis=1) / base},
                        index=calendar)
    legs.iloc[0] = 0.0
    contributions = pd.Series((before + after - fees).sum(axis=0), index=pd.Index(tickers, name="ticker"))
    return legs, contributions


def benchmark_equity(bars: dict, members: list[str], calendar: pd.DatetimeIndex,
                     entry: pd.Timestamp, cash: float) -> pd.Series:
    """Equal-weight buy-and-hold: cash until `entry`, then cash / N of each member bought
    at `entry`'s open, valued at each member's last close."""
    out = pd.Series(float(cash), index=calendar)
    if not members:
        return out
    held = pd.Series(0.0, index=calendar[calendar >= entry])
    for t in members:
        shares = cash / len(members) / bars[t].at[entry, "open"]
        last_close = bars[t]["close"].reindex(held.index).ffill()  # valuation at the last close
        held = held + shares * last_close
    out.loc[held.index] = held
    return out


def _metrics(equity, weights, fills, entry, cash, risk_free) -> dict:
    """compute_metrics for both curves (its annual turnover is renamed `turnover_annual`),
    plus for the strategy: `turnover`, the mean over days 2..n of the day's traded value
    (sum of |size| x fill price) over the previous close's portfolio value, halved (one-way);
    `gross_exposure` / `net_exposure`, means of sum |w| and sum w of the end-of-day weights;
    `n_fills`."""
    gross = weights.abs().sum(axis=1, min_count=1)  # NaN at a ruin bar: held there, weight undefined
    traded = fills.groupby("date")["value"].sum().reindex(equity.index, fill_value=0.0)
    strategy = compute_metrics(equity["strategy"], positions=gross, risk_free=risk_free,
                               traded_value=float(fills["value"].sum()))
    strategy["turnover_annual"] = strategy.pop("turnover")
    base = equity["strategy"].to_numpy()[:-1]
    daily = traded.to_numpy()[1:][base > 0] / base[base > 0]  # none after a ruin (zero equity)
    strategy.update({
        "turnover": float(daily.mean() / 2.0),
        "gross_exposure": float(gross.mean()),
        "net_exposure": float(weights.sum(axis=1, min_count=1).mean()),
        "n_fills": int(len(fills)),
    })
    benchmark = compute_metrics(equity["benchmark"], positions=(equity.index >= entry).astype(float),
                                traded_value=float(cash), risk_free=risk_free)
    benchmark["turnover_annual"] = benchmark.pop("turnover")
    return {"strategy": strategy, "benchmark": benchmark}
