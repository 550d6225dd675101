"""Bars per second of a backtest: raw backtrader, fcast's adapter on backtrader, fcast's
vector engine, its bare numba kernel (and vectorbt, where it is installed).

All run the same long-only decisions (prob_up > 0.5, decided on the close, sized and
filled at the next open with the same broker, costs and slippage) on the same synthetic
bars. The adapter adds input validation, the join and trim, per-bar recording, trade and
metric tables and the buy-and-hold benchmark; `simulate(engine="vector")` does all of
that around the numba kernel. The raw baseline uses backtrader's stock PandasData; a
second baseline uses the adapter's numpy-backed feed, to separate the feed's speed-up
from the adapter's own overhead. The vector engine's cold start (import, numba cache
load or compilation, first run) is timed in fresh processes.

    .venv/bin/python bench/bench_backtest.py [--bars 5000] [--repeat 5] [--kernel-bars 2000000]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import backtrader as bt
import numpy as np
import pandas as pd

from forecast.backtest import kernel, simulate
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


COLD = """
import time; t0 = time.perf_counter()
import numpy as np, pandas as pd
from forecast.backtest import kernel, simulate
from forecast.data.synthetic import random_walk_bars
from strategies import LongOnly
t1 = time.perf_counter()
x = np.linspace(100.0, 110.0, 10)
kernel.run_kernel(x, x, x * 0 + 1, 1e5, 0.001, np.nan, 0.0, 0.0005, 0.05)
t2 = time.perf_counter()
bars = random_walk_bars({n}, seed=0)
index = bars.index[250:-1]
preds = pd.DataFrame({{"prob_up": np.random.default_rng(0).uniform(0, 1, len(index))}}, index=index)
t3 = time.perf_counter()
simulate(bars, preds, LongOnly, engine="vector")
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t4 - t3)
"""


def cold_start(n: int, numba_cache: str | None, pyc: str | None) -> tuple[float, float, float]:
    """(imports, first kernel call: numba cache load or compilation, first vector run), in
    seconds, in a fresh interpreter. `numba_cache`: an empty folder forces compilation
    (None: the package's cache). `pyc`: a folder for Python's bytecode (None: as the
    environment says; PYTHONDONTWRITEBYTECODE makes every import compile its source)."""
    env = dict(os.environ)
    if numba_cache:
        env["NUMBA_CACHE_DIR"] = numba_cache
    if pyc:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pyc
    out = subprocess.run([sys.executable, "-c", COLD.format(n=n)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def print_cold(label: str, times: tuple[float, float, float]) -> None:
    imports, load, first = times
    print(f"{label}: imports {imports:.2f} s, first kernel call {load:.3f} s, first run {first:.3f} s")


def kernel_run(opens, closes, targets):
    return kernel.run_kernel(opens, closes, targets, COSTS["cash"], COSTS["commission"], np.nan,
                             COSTS["min_commission"], COSTS["slippage"], 0.05)


def vectorbt_run(frame: pd.DataFrame):
    """vectorbt's nearest equivalent (target-percent orders at the next open), if installed."""
    try:
        import vectorbt as vbt
    except ImportError:
        return None
    target = np.where(frame["prob_up"].to_numpy() > 0.5, 1.0, 0.0)
    target[np.isnan(frame["prob_up"].to_numpy())] = np.nan
    size = pd.Series(target, index=frame.index).shift(1)  # decided at t's close, sent at t+1's open
    return lambda: vbt.Portfolio.from_orders(
        frame["close"], size=size, size_type="targetpercent", price=frame["open"],
        fees=COSTS["commission"], slippage=COSTS["slippage"], init_cash=COSTS["cash"], freq="1D",
    ).final_value()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kernel-bars", type=int, default=2_000_000)
    args = parser.parse_args()

    bars = random_walk_bars(args.bars, seed=0)
    rng = np.random.default_rng(0)
    index = bars.index[250:-1]
    preds = pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "fold": 0}, index=index)
    frame = feed_frame(bars, preds)  # same trimmed bars for every contender
    n = len(frame)

    run_bt = lambda: simulate(bars, preds, LongOnly, engine="backtrader", **COSTS)  # noqa: E731
    run_vec = lambda: simulate(bars, preds, LongOnly, engine="vector", **COSTS)  # noqa: E731
    run_bt(), run_vec()  # warm imports and caches
    t_adapter, result = best_of(run_bt, args.repeat)
    t_vector, vec = best_of(run_vec, args.repeat * 4)
    t_stock, v_stock = best_of(lambda: raw_run(frame, StockFeed), args.repeat)
    t_fast, v_fast = best_of(lambda: raw_run(frame, PredictionData), args.repeat)

    # The bare kernel: the same bars, then a long array of them for a steady rate.
    opens, closes = np.array(frame["open"]), np.array(frame["close"])  # writable, as the engine passes
    targets = LongOnly.vector_targets(frame, {"threshold": 0.5})
    kernel_run(opens, closes, targets)
    t_kernel, _ = best_of(lambda: kernel_run(opens, closes, targets), args.repeat * 20)
    reps = max(1, args.kernel_bars // n)
    big = [np.tile(a, reps) for a in (opens, closes, targets)]
    t_big, _ = best_of(lambda: kernel_run(*big), args.repeat)

    final = result.equity["strategy"].iloc[-1]
    assert vec.equity["strategy"].iloc[-1] == final
    assert abs(final / v_stock - 1) < 1e-9 and abs(final / v_fast - 1) < 1e-9, (final, v_stock, v_fast)
    print(f"bars traded: {n}, trades: {result.metrics['strategy']['n_trades']}, best of {args.repeat}+")
    print(f"{'run':<44}{'seconds':>11}{'bars/s':>15}{'vs backtrader':>15}")
    rows = [
        ("raw backtrader, stock PandasData", t_stock),
        ("raw backtrader, adapter's feed", t_fast),
        ("fcast adapter (simulate, backtrader)", t_adapter),
        ("fcast vector engine (simulate, vector)", t_vector),
        ("bare numba kernel", t_kernel),
    ]
    vbt_fn = vectorbt_run(frame)
    if vbt_fn is not None:
        vbt_fn()
        rows.append(("vectorbt Portfolio.from_orders", best_of(vbt_fn, args.repeat)[0]))
    for name, t in rows:
        print(f"{name:<44}{t:>11.6f}{n / t:>15,.0f}{t_stock / t:>14,.1f}x")
    if vbt_fn is None:
        print("vectorbt: not installed (skipped)")
    print(f"bare numba kernel on {reps * n:,} bars: {t_big:.4f} s, {reps * n / t_big:,.0f} bars/s "
          f"(goal >= 20,000,000), {t_stock / n / (t_big / (reps * n)):,.0f}x raw backtrader per bar "
          "(goal >= 1000x)")
    print(f"overhead ratio adapter / raw backtrader (stock feed): {t_adapter / t_stock:.2f}x "
          "(target <= 1.3x)")
    print(f"overhead ratio adapter / raw backtrader (same feed):  {t_adapter / t_fast:.2f}x")
    print(f"vector engine vs fcast adapter: {t_adapter / t_vector:,.0f}x faster")
    print("vector engine cold start, fresh processes (goal: kernel < 1 s incl. cached compilation):")
    print_cold("  numba cache present", cold_start(args.bars, None, None))
    with tempfile.TemporaryDirectory() as empty:
        print_cold("  empty numba cache (compiles)", cold_start(args.bars, empty, None))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        with tempfile.TemporaryDirectory() as pyc:
            cold_start(args.bars, None, pyc)  # writes the bytecode once
            print_cold("  numba cache present, Python bytecode cached", cold_start(args.bars, None, pyc))

if __name__ == "__main__":
    main()
