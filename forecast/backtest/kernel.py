"""The vector engine's sequential core: one numba loop over the bars, cash and position.

It replays, operation for operation, what backtrader does with `PredictionStrategy`'s
orders under fcast's broker (`broker.py`): the sizing of `order_exposure` at the open,
`BackBroker._execute` (a flip split into a closing and an opening leg, the cash check on
the opening leg), `Position.update`, `OrderData.add`, `Trade.update` and the portfolio
value of `BackBroker._get_value`. The floating-point operations are the same ones in the
same order, so the results are the same numbers, not merely close ones: a rounding
difference could otherwise flip a rebalance-band decision and send the two runs apart.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from forecast.backtest.layout import CLOSED, FILL, TRADE

RESIDUE = 1e-9  # OrderFeeBroker.RESIDUE: an order left with less than this is complete


@njit(cache=True)
def _py_max(a, b):
    return b if b > a else a  # Python's max(a, b)


@njit(cache=True)
def _py_min(a, b):
    return b if b < a else a  # Python's min(a, b)


@njit(cache=True)
def _fee(leg, price, order, commission, per_share, has_per_share, min_commission):
    """FractionalCommInfo._getcommission: a leg's share of the order's one fee."""
    if leg == 0.0:
        return 0.0
    whole = abs(order) if order != 0.0 else abs(leg)
    share = _py_min(1.0, abs(leg) / whole)
    rate = per_share if has_per_share else price * commission
    return _py_max(abs(leg) * rate, min_commission * share)


@njit(cache=True)
def _trade_update(trade, size, price, comm, bar):
    """backtrader's Trade.update plus what Recorder reads from the trade's history
    (`trade`: one TRADE record, written in place)."""
    trade["commission"] += comm
    old = trade["size"]
    trade["size"] = old + size
    new = trade["size"]
    if old == 0.0:  # just opened
        trade["open_bar"] = bar
        trade["long"] = new > 0
    closed = old != 0.0 and new == 0.0
    trade["closed"] = closed
    if closed:
        trade["status"] = CLOSED
    elif new != 0.0:
        trade["status"] = 1
    if abs(new) > abs(old):
        trade["price"] = (old * trade["price"] + size * price) / new
        pnl = 0.0
    else:
        pnl = -size * (price - trade["price"]) * 1.0
    trade["pnl"] += pnl
    trade["pnl_net"] = trade["pnl"] - trade["commission"]
    trade["last_bar"] = bar
    trade["max_size"] = max(trade["max_size"], abs(new))
    sign = 1.0 if trade["long"] else -1.0
    if size * sign > 0:
        trade["grown"] += abs(size)
        trade["grown_value"] += abs(size) * price
    elif size * sign < 0:
        trade["shrunk"] += abs(size)
        trade["shrunk_value"] += abs(size) * price


@njit(cache=True)
def _new_trade(trades, k):
    """Start trade row `k`: every field zero, no opening bar yet (rows come uninitialised:
    zeroing them all up front would cost more than the loop for a long run)."""
    t = trades[k]
    t["open_bar"] = -1
    t["last_bar"] = 0
    t["status"] = 0
    t["long"] = False
    t["closed"] = False
    t["size"] = t["price"] = t["commission"] = t["pnl"] = t["pnl_net"] = t["max_size"] = 0.0
    t["grown"] = t["grown_value"] = t["shrunk"] = t["shrunk_value"] = 0.0
    return k


@njit(cache=True)
def run_kernel(open_, close, target, cash0, commission, per_share, min_commission, slippage, band):
    """Trade `target` (decided at each bar's close, NaN: none) at the next bar's open.

    `per_share` NaN means a percentage `commission`. Returns (cash, value, position at
    each close; fills (`layout.FILL` records); trades (`layout.TRADE` records);
    orders refused for cash; bars of orders whose remainder backtrader would have kept
    pending, which this kernel cannot replay: -1 when none; orders not sent for their
    costs). From the first close whose value is zero or below (ruin) no order is sent.
    """
    n = len(open_)
    has_ps = not np.isnan(per_share)
    cash_out = np.empty(n)
    value_out = np.empty(n)
    pos_out = np.empty(n)
    fills = np.empty(n, dtype=FILL)
    trades = np.empty(n + 1, dtype=TRADE)
    nf = 0
    nt = 0
    cur = -1  # the trade being updated (backtrader's datatrades[-1])
    refused = 0
    skipped = 0
    ruined = False
    stuck = -1
    cash = cash0
    pos = 0.0
    pos_price = 0.0
    pending = np.nan
    for i in range(n):
        order = 0.0
        if not np.isnan(pending) and not ruined:
            order, skip = _order_size(pending, pos, cash, open_[i], commission, per_share, has_ps,
                                      min_commission, slippage, band)
            skipped += skip
        if order != 0.0:
            price = open_[i]
            if slippage:
                price = price * (1 + slippage) if order > 0 else price * (1 - slippage)
            # BackBroker._execute: pseudo-update, closing leg, opening leg with the cash check.
            new = pos + order
            if new == 0.0:
                opened, closed = 0.0, order
            elif pos == 0.0:
                opened, closed = order, 0.0
            elif (pos > 0) == (order > 0):
                opened, closed = order, 0.0
            elif (new > 0) == (pos > 0):
                opened, closed = 0.0, order
            else:
                opened, closed = new, -pos
            c = cash
            closed_fee = 0.0
            if closed != 0.0:
                pnl = -closed * (price - pos_price) * 1.0
                c += -closed * pos_price + pnl
                closed_fee = _fee(closed, price, order, commission, per_share, has_ps, min_commission)
                c -= closed_fee
                c += 0.0  # cashadjust: 0 for stocks (kept: it turns -0.0 into 0.0 as there)
                cash = c
            opened_fee = 0.0
            tried = opened != 0.0
            if tried:
                c -= opened * price
                opened_fee = _fee(opened, price, order, commission, per_share, has_ps, min_commission)
                c -= opened_fee
                if c < 0.0:  # not enough cash: the opening leg is dropped, the order refused
                    opened = 0.0
                    opened_fee = 0.0
                else:
                    if abs(new) > abs(opened):
                        c += 0.0  # cashadjust again
                    cash = c
            executed = closed + opened
            if executed != 0.0:
                # Position.update
                old = pos
                pos = old + executed
                if pos == 0.0:
                    pos_price = 0.0
                elif old == 0.0:
                    pos_price = price
                elif (old > 0) == (executed > 0):
                    pos_price = (pos_price * old + executed * price) / pos
                elif (pos > 0) != (old > 0):
                    pos_price = price
                # OrderData.add on an empty execution record
                fill = fills[nf]
                fill["bar"] = i
                fill["size"] = executed
                fill["price"] = (0.0 + executed * price) / executed
                fill["commission"] = 0.0 + (closed_fee + opened_fee)
                nf += 1
                # Strategy._addnotification: the closing leg, then the opening one
                if cur < 0:
                    nt += 1
                    cur = _new_trade(trades, nt - 1)
                if closed != 0.0:
                    _trade_update(trades[cur], closed, price, closed_fee, i)
                if opened != 0.0:
                    if trades[cur]["closed"]:
                        nt += 1
                        cur = _new_trade(trades, nt - 1)
                    _trade_update(trades[cur], opened, price, opened_fee, i)
            if tried and opened == 0.0:
                refused += 1
            elif order - executed != 0.0 and abs(order - executed) > RESIDUE * abs(order):
                stuck = i
        if pos != 0.0:
            cash += 0.0  # end-of-bar cashadjust
        # BackBroker._get_value at the close
        dvalue = pos * close[i]
        if dvalue > 0:
            unrealised = pos * (close[i] - pos_price) * 1.0
            held = 0.0 + (dvalue - unrealised) / 1.0
            held += unrealised
        else:
            held = 0.0 + dvalue
        cash_out[i] = cash
        value_out[i] = cash + held
        pos_out[i] = pos
        if value_out[i] <= 0:
            ruined = True
        pending = target[i]
    return cash_out, value_out, pos_out, fills[:nf], trades[:nt], refused, stuck, skipped


@njit(cache=True)
def _order_size(target, size, cash, price, commission, per_share, has_ps, min_commission, slippage,
                band):
    """PredictionStrategy.order_exposure then backtrader's order_target_size / close: the
    signed size of the order sent at this open (0: none), and 1 when an order was wanted
    but not sent for its costs (else 0)."""
    value = cash + size * price
    if value <= 0 or price <= 0:
        return 0.0, 0
    held = size != 0 and target != 0.0 and (size > 0) == (target > 0)
    if held and abs(target - size * price / value) <= band:
        return 0.0, 0
    want = target * value / price
    order = -size if want == 0.0 else want - size
    if order == 0.0:
        return 0.0, 0
    if target != 0.0 and want > size:
        # _affordable: FractionalCommInfo.affordable_size at the slipped price, trimmed
        fill = price * (1.0 + slippage)
        room = 0.0
        if cash > 0 and fill > 0:
            rate = per_share if has_ps else fill * commission
            spare = cash - min_commission
            room = _py_max(0.0, _py_min(spare / (fill + rate), (spare - min_commission) / fill))
        room = room * (1.0 - 1e-12)
        if want - size > room:
            if room <= 0:
                return 0.0, 1 if cash > 0 and size <= 0 else 0  # not a held long's top-up
            order = room
    fill = price
    if slippage:
        fill = price * (1 + slippage) if order > 0 else price * (1 - slippage)
    if _fee(order, fill, order, commission, per_share, has_ps, min_commission) > abs(order) * fill:
        return 0.0, 1  # FractionalCommInfo.fee_exceeds_value
    return order, 0
