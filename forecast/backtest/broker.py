"""Broker set-up: fractional sizes, percentage or per-share commission, slippage at the open."""

from __future__ import annotations

import backtrader as bt

from forecast.errors import ConfigError


class FractionalCommInfo(bt.CommInfoBase):
    """Stock-like commission allowing fractional sizes.

    Commission is `commission` x traded value, or `per_share` x shares when `per_share` is
    set; either way at least `min_commission` per fill.
    """

    params = (
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_PERC),
        ("percabs", True),
        ("per_share", None),
        ("min_commission", 0.0),
    )

    def _getcommission(self, size, price, pseudoexec):
        if not size:
            return 0.0
        if self.p.per_share is not None:
            fee = abs(size) * self.p.per_share
        else:
            fee = abs(size) * price * self.p.commission
        return max(fee, self.p.min_commission)

    def getsize(self, price, cash):
        # Fractional: results must not hinge on rounding to whole shares.
        return self.p.leverage * (cash / price)


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
    if cash <= 0:
        raise ConfigError(f"cash must be positive, got {cash}")
    if commission < 0 or slippage < 0 or min_commission < 0:
        raise ConfigError("commission, min_commission and slippage must be non-negative")
    if commission_per_share is not None and commission_per_share < 0:
        raise ConfigError("commission_per_share must be non-negative")
    broker = cerebro.broker
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
