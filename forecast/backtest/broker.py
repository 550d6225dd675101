"""Broker set-up: fractional sizes, percentage or per-share commission, slippage at the open.

Cost rule: one fee per order execution (one row of the fills table), `commission` x
traded value or `per_share` x shares, at least `min_commission`. An order that flips
the position (long -> short or short -> long) is one order and pays one fee, although
backtrader books it as a closing and an opening leg: `OrderFeeBroker` tells the
commission info the order's size, and each leg pays its share of that one fee.

Money that cannot be: an order whose fee would exceed its value is not executed (it is
rejected and counted as skipped for costs), and a buy sized by `affordable_size` keeps the
minimum fee of the order that will close the position in cash, so that closing it never
needs money the account does not have (the proportional part of that fee is paid from the
closing order's own proceeds).
"""

from __future__ import annotations

import backtrader as bt

from forecast.errors import ConfigError


class FractionalCommInfo(bt.CommInfoBase):
    """Stock-like commission allowing fractional sizes, charged once per order execution."""

    params = (
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_PERC),
        ("percabs", True),
        ("per_share", None),
        ("min_commission", 0.0),
    )

    order_size = None  # size of the order being executed; set by OrderFeeBroker

    def _rate(self, price) -> float:
        """Fee per share before the minimum."""
        return self.p.per_share if self.p.per_share is not None else price * self.p.commission

    def _getcommission(self, size, price, pseudoexec):
        if not size:
            return 0.0
        # A leg of a flip pays its share of the order's minimum: summed over both legs,
        # max(fee, min x share) is max(order fee, min), the fee of one order.
        whole = abs(self.order_size) if self.order_size else abs(size)
        share = min(1.0, abs(size) / whole)
        return max(abs(size) * self._rate(price), self.p.min_commission * share)

    def affordable_size(self, cash: float, price: float) -> float:
        """Most shares one order can buy at `price` with `cash`, its fee included, leaving
        the closing order's minimum fee in cash.

        With `spare` = cash - min, size x price + max(size x rate, min) <= spare holds when
        both size x (price + rate) <= spare and size x price + min <= spare: closed form,
        exact for any rate. Without a minimum fee, spare is the cash.
        """
        if cash <= 0 or price <= 0:
            return 0.0
        spare = cash - self.p.min_commission
        by_rate = spare / (price + self._rate(price))
        by_minimum = (spare - self.p.min_commission) / price
        return max(0.0, min(by_rate, by_minimum))

    def fee_exceeds_value(self, size: float, price: float) -> bool:
        """Whether one order of `size` shares at `price` would pay more in fee than it is worth."""
        return self._getcommission(size, price, True) > abs(size) * price

    def getsize(self, price, cash):
        # Fractional: results must not hinge on rounding to whole shares.
        return self.p.leverage * (cash / price)


class OrderFeeBroker(bt.brokers.BackBroker):
    """BackBroker that charges one fee per order and completes orders executed in full.

    The commission info is told which order it is pricing. And backtrader executes a
    flip as closed + opened shares, which can miss the order's size by a rounding
    residue (1e-13 shares): left pending, that residue would trade on the next bar as a
    fill of its own, dated there and paying a minimum fee. It is completed instead.
    """

    RESIDUE = 1e-9  # of the order's size

    def notify(self, order):
        if order.status == order.Partial and abs(order.executed.remsize) <= self.RESIDUE * abs(order.size):
            order.executed.remsize = 0.0
            order.completed()
        super().notify(order)

    def _execute(self, order, ago=None, price=None, cash=None, position=None, dtcoc=None):
        info = self.getcommissioninfo(order.data)
        if not isinstance(info, FractionalCommInfo):
            return super()._execute(order, ago, price, cash, position, dtcoc)
        # No volume filler is set, so backtrader executes the whole remaining size.
        info.order_size = order.executed.remsize
        if ago is not None and price is not None and info.fee_exceeds_value(order.executed.remsize, price):
            info.order_size = None
            order.addinfo(skipped_for_costs=True)  # Recorder counts it apart from other rejections
            order.reject(self)
            self.notify(order)
            self._ococheck(order)
            self._bracketize(order, cancel=True)
            return None
        try:
            return super()._execute(order, ago, price, cash, position, dtcoc)
        finally:
            info.order_size = None


def validate_costs(*, commission: float, slippage: float, min_commission: float = 0.0,
                   commission_per_share: float | None = None) -> None:
    """Refuse costs that cannot be meant: negative, or fractions of 100% and more."""
    if commission < 0 or slippage < 0 or min_commission < 0:
        raise ConfigError("commission, min_commission and slippage must be non-negative")
    if commission_per_share is not None and commission_per_share < 0:
        raise ConfigError("commission_per_share must be non-negative")
    for name, value in (("commission", commission), ("slippage", slippage)):
        if value >= 1.0:
            raise ConfigError(
                f"{name} is a fraction of the traded value and must be below 1 (got {value}; "
                f"10 bp is 0.001)"
            )


def validate_broker(*, cash: float, commission: float, commission_per_share: float | None,
                    min_commission: float, slippage: float) -> None:
    """The checks `configure_broker` makes, for engines that need no cerebro."""
    if cash <= 0:
        raise ConfigError(f"cash must be positive, got {cash}")
    validate_costs(commission=commission, slippage=slippage, min_commission=min_commission,
                   commission_per_share=commission_per_share)


def configure_broker(
    cerebro: bt.Cerebro,
    *,
    cash: float,
    commission: float,
    commission_per_share: float | None,
    min_commission: float,
    slippage: float,
) -> None:
    """Cash, costs and the fill convention.

    Market orders sent in `next()` on bar t's close fill at bar t+1's open (no
    cheat-on-close); orders sent in `next_open()` of bar t+1 (cheat-on-open, where
    `PredictionStrategy` sizes the order decided at t's close) fill at that same open.
    Fills move against the trader by `slippage` (a fraction): buys at open x (1 +
    slippage), sells at open x (1 - slippage), even where that falls outside the bar's
    high-low range (slip_out), so the fill never depends on the bar's wicks. The cash
    check runs at execution, not at submission (checksubmit off), where the open is known.
    """
    validate_broker(cash=cash, commission=commission, commission_per_share=commission_per_share,
                    min_commission=min_commission, slippage=slippage)
    cerebro.broker = broker = OrderFeeBroker()
    broker.setcash(float(cash))
    broker.set_coc(False)
    broker.set_coo(True)
    broker.set_checksubmit(False)
    broker.set_slippage_perc(slippage, slip_open=True, slip_limit=True, slip_match=True, slip_out=True)
    broker.addcommissioninfo(
        FractionalCommInfo(
            commission=commission, per_share=commission_per_share, min_commission=min_commission
        )
    )
