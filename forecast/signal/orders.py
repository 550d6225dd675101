"""Orders in whole shares that move current holdings to a signal's targets at the next open.

The sizing follows the backtest's order rules (`strategies.base.PredictionStrategy.
order_exposure` and the portfolio engine): the account's value at the price, target x
value in shares, the rebalance band for held positions, a buy trimmed to what the cash pays
after slippage and commission, and no order whose fee exceeds its value. Two differences,
both because this is for a real account: shares are whole (rounded toward zero, so a
target is never overshot), and the price is the last close, as the next open is not known
yet (`price` says which was used). Fees come from the engine's own commission scheme.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from forecast.errors import ConfigError


@dataclass(frozen=True)
class Order:
    ticker: str
    shares: int  # signed: > 0 buys, < 0 sells
    price: float  # the estimate it was sized at (the last close)
    notional: float  # |shares| x price
    commission: float  # the engine's fee for the order at `price`
    slippage: float  # the expected cost of slippage: notional x slippage rate

    @property
    def side(self) -> str:
        return "buy" if self.shares > 0 else "sell"

    def to_dict(self) -> dict:
        return {**asdict(self), "side": self.side}


def read_positions(path) -> dict[str, float]:
    """Holdings from a CSV with columns `ticker` and `shares` (one line on a bad file)."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--positions {path}: cannot read it ({exc})") from None
    if not {"ticker", "shares"} <= set(frame.columns):
        has = ", ".join(map(str, frame.columns))
        raise ConfigError(f"--positions {path}: needs columns ticker and shares, has {has}")
    shares = pd.to_numeric(frame["shares"], errors="coerce")
    bad = shares.isna() | ~shares.map(lambda v: math.isfinite(v) if pd.notna(v) else False)
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2  # a header line, then 1-based
        raise ConfigError(f"--positions {path}: line {line} has no number of shares")
    tickers = frame["ticker"].astype(str).str.strip().str.upper()
    if tickers.duplicated().any():
        raise ConfigError(f"--positions {path}: {tickers[tickers.duplicated()].iloc[0]} is listed twice")
    return dict(zip(tickers, shares.astype(float), strict=True))


def _commission_info(costs):
    from forecast.backtest.broker import FractionalCommInfo

    return FractionalCommInfo(commission=costs.commission, per_share=costs.commission_per_share,
                              min_commission=costs.min_commission)


def orders_for(targets: dict[str, float], prices: dict[str, float], positions: dict[str, float], cash: float,
               costs, *, rebalance_band: float = 0.0) -> list[Order]:
    """The orders that bring `positions` (shares) to `targets` (fractions of the account's
    value, -1..1, summing to at most 1 in absolute value over the tickers) at `prices`.

    Sells first, then buys from the cash left, so a rebalance never buys with money that
    a sale has not yet freed. Holdings of tickers without a price are left alone and not
    counted in the value; priced holdings without a target count, and are kept.
    """
    if not math.isfinite(cash):
        raise ConfigError(f"--cash must be a finite number, got {cash}")
    missing = [t for t in targets if t not in prices or not prices[t] > 0]
    if missing:
        raise ConfigError(f"no price to size an order for {missing[0]}")
    info = _commission_info(costs)
    # Every priced holding counts, with a target or not (a ticker without a decision today).
    value = cash + sum(positions.get(t, 0.0) * price for t, price in prices.items() if price > 0)
    if value <= 0:
        raise ConfigError(f"the account's value at the last closes is {value:.2f}: no orders can be sized")
    wanted = {}
    for ticker, target in targets.items():
        if target is None or math.isnan(target):
            continue  # no decision: keep the position
        price, held = prices[ticker], positions.get(ticker, 0.0)
        same_side = held != 0 and target != 0 and (held > 0) == (target > 0)
        if same_side and abs(target - held * price / value) <= rebalance_band:
            continue
        want = math.trunc(target * value / price)
        if want != held:
            wanted[ticker] = want - held
    sells = {t: n for t, n in wanted.items() if n < 0}
    left = cash + sum(-n * prices[t] * (1 - costs.slippage) - info._getcommission(n, prices[t], True)
                      for t, n in sells.items() if not info.fee_exceeds_value(n, prices[t]))
    buys = _affordable_buys({t: n for t, n in wanted.items() if n > 0}, positions, prices, left, costs, info)
    orders = []
    for ticker, shares in [*sorted(sells.items()), *sorted(buys.items())]:  # sells first
        price = prices[ticker]
        shares = int(shares) if float(shares).is_integer() else shares
        if shares == 0 or info.fee_exceeds_value(shares, price):
            continue
        fee = info._getcommission(shares, price, True)
        notional = abs(shares) * price
        orders.append(Order(ticker, shares, price, notional, fee, notional * costs.slippage))
    return orders


def _affordable_buys(buys: dict, positions: dict, prices: dict, cash: float, costs, info) -> dict:
    """The buys the cash pays for: covering a short is never trimmed (an exit, as in the
    engine); what opens or adds to a long is scaled by one common fraction when the cash falls
    short (as the portfolio engine scales its buys), in whole shares."""
    cover = {t: min(n, max(0.0, -positions.get(t, 0.0))) for t, n in buys.items()}
    opening = {t: n - cover[t] for t, n in buys.items()}

    def cost(t: str, n: float) -> float:
        # as the engine's buys, each leaves the minimum fee of its closing order in cash
        fill = prices[t] * (1 + costs.slippage)
        return n * fill + (info._getcommission(n, fill, True) + costs.min_commission if n else 0.0)

    left = cash - sum(cost(t, n) for t, n in cover.items())
    total = sum(cost(t, n) for t, n in opening.items())
    if total > left:
        share = max(0.0, left) / total if total > 0 else 0.0
        opening = {t: math.floor(n * share) for t, n in opening.items()}
        while opening and sum(cost(t, n) for t, n in opening.items()) > left:
            biggest = max(opening, key=lambda t: (opening[t] * prices[t], t))
            if opening[biggest] <= 0:
                break
            opening[biggest] -= 1  # the common fraction's rounding, taken from the largest buy
    return {t: cover[t] + opening[t] for t in buys}
