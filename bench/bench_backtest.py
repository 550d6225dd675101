"""Bars per second of a backtest through fcast's adapter vs raw backtrader.

Both run the same long-only decisions (prob_up > 0.5, decided on the close, sized and
filled at the next open with the same broker, costs and slippage) on the same synthetic
bars. The adapter adds input validation, the join and trim, per-bar recording, trade and
metric tables and the buy-and-hold benchmark. The raw baseline uses backtrader's stock
PandasData; a second baseline uses the adapter's numpy-backed feed, to separate the
feed's speed-up from the adapter's own overhead.

    .venv/bin/python bench/bench_backtest.py [--bars 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import time

import backtrader as bt
import numpy as np
import pandas as pd

from forecast.backtest import simulate
from forecast.backtest.broker import configure_broker
from forecast.backtest.feed import PredictionData, feed_frame
from forecast.data.synthetic import random_walk_bars
from strategies import LongOnly

COSTS = {
    "cash": 100_000.0,
    "commission": 0.001,
    "commission_per_share": None,
    "min_commission": 0.0,
    "slippage": 0.0005,
}


class StockFeed(bt.feeds.PandasData):
    lines = ("prob_up",)
    params = (("openinterest", None), ("prob_up", -1))


class RawLongOnly(bt.Strategy):
    """What a user would write by hand: the same decisions, no recording."""

    def __init__(self):
        self.pending = None

    def next(self):
        p = self.data.prob_up[0]
        self.pending = None if math.isnan(p) else (1.0 if p > 0.5 else 0.0)

    def next_open(self):
        target, self.pending = self.pending, None
        if target == 1.0 and not self.position:
            fill = self.data.open[0] * (1 + COSTS["slippage"])
            self.buy(size=self.broker.getcash() / (fill * (1 + COSTS["commission"])) * (1 - 1e-12))
        elif target == 0.0 and self.position:
            self.close()


def raw_run(frame: pd.DataFrame, feed_cls) -> float:
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    cerebro.adddata(feed_cls(dataname=frame))
    cerebro.addstrategy(RawLongOnly)
    configure_broker(cerebro, **COSTS)
    cerebro.run()
    return cerebro.broker.getvalue()


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    bars = random_walk_bars(args.bars, seed=0)
    rng = np.random.default_rng(0)
    index = bars.index[250:-1]
    preds = pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "fold": 0}, index=index)
    frame = feed_frame(bars, preds)  # same trimmed bars for every contender
    n = len(frame)

    simulate(bars, preds, LongOnly, **COSTS)  # warm imports and caches
    t_adapter, result = best_of(lambda: simulate(bars, preds, LongOnly, **COSTS), args.repeat)
    t_stock, v_stock = best_of(lambda: raw_run(frame.drop(columns="target"), StockFeed), args.repeat)
    t_fast, v_fast = best_of(lambda: raw_run(frame, PredictionData), args.repeat)

    final = result.equity["strategy"].iloc[-1]
    assert abs(final / v_stock - 1) < 1e-9 and abs(final / v_fast - 1) < 1e-9, (final, v_stock, v_fast)
    print(f"bars traded: {n}, trades: {result.metrics['strategy']['n_trades']}, best of {args.repeat}")
    print(f"{'run':<40}{'seconds':>10}{'bars/s':>12}{'vs adapter':>12}")
    for name, t in [
        ("fcast adapter (simulate)", t_adapter),
        ("raw backtrader, stock PandasData", t_stock),
        ("raw backtrader, adapter's feed", t_fast),
    ]:
        print(f"{name:<40}{t:>10.3f}{n / t:>12,.0f}{t_adapter / t:>11.2f}x")
    print(
        f"overhead ratio adapter / raw backtrader (stock feed): {t_adapter / t_stock:.2f}x (target <= 1.3x)"
    )
    print(f"overhead ratio adapter / raw backtrader (same feed):  {t_adapter / t_fast:.2f}x")


if __name__ == "__main__":
    main()
