"""The three walk-forward shapes the leakage suite runs (tests/evaluate/test_leakage.py): one ticker,
a pooled universe, a universe ticker by ticker; their inputs, runs, perturbations and the
check that no prediction dated t moves when bars after t change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.evaluate import walk_forward
from forecast.evaluate.pooled import portfolio_walk_forward
from forecast.portfolio.universe import Universe

SHAPES = ("ticker", "pooled", "per-ticker")
# Per shape, a schedule of three folds that trains in seconds.
SCHEDULES = {
    "ticker": {"window": 5, "test_days": 160, "retrain_every": 80, "min_train": 300},
    "pooled": {"window": 10, "min_train": 100, "test_days": 120, "retrain_every": 40},
    "per-ticker": {"window": 10, "min_train": 100, "test_days": 120, "retrain_every": 40},
}


def ticker_bars(maker, n, seed, ticker, drop_first=0, holes=()):
    """Synthetic bars from 2010-01-04, without the first `drop_first` and the `holes`."""
    b = maker(n, seed=seed, ticker=ticker, start="2010-01-04")
    keep = np.ones(len(b), bool)
    keep[:drop_first] = False
    keep[[h for h in holes if h < n]] = False
    out = b.iloc[np.flatnonzero(keep)].copy()
    out.attrs = dict(b.attrs)
    return out


def universe(maker=random_walk_bars, n=420, late=True, hole=True, k=3) -> Universe:
    """AAA; BBB listing 40 days late; CCC missing three days; k - 3 more full histories."""
    bars = {"AAA": ticker_bars(maker, n, 1, "AAA")}
    bars["BBB"] = ticker_bars(maker, n, 2, "BBB", drop_first=40 if late else 0)
    bars["CCC"] = ticker_bars(maker, n, 3, "CCC", holes=(200, 201, 330) if hole else ())
    for i in range(3, k):
        name = f"T{i:02d}"
        bars[name] = ticker_bars(maker, n, 10 + i, name)
    return Universe.from_bars(bars)


def inputs(shape: str):
    """One ticker's AR(1) bars, or a universe with a late listing and holes."""
    return ar1_bars(800, phi=0.5, seed=4, ticker="SYN") if shape == "ticker" else universe()


def run(shape: str, data, model="logreg", **kw) -> pd.DataFrame:
    kw = {**SCHEDULES[shape], **kw}
    if shape == "ticker":
        return walk_forward(data, model, **kw)
    return portfolio_walk_forward(data, model, pooled=shape == "pooled", **kw)


def dates(pred: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pred.index.get_level_values("date"))


def cut_dates(pred: pd.DataFrame, *names: str) -> list[pd.Timestamp]:
    """Test dates named by where they sit: "first" (the first test day), "mid" (mid-way
    through the first block), "last0" (its last day), "second" (the second block's first
    day), "mid1" (mid-way through the second)."""
    blocks = [sorted(set(dates(pred[pred["fold"] == k]))) for k in sorted(pred["fold"].unique())]
    where = {"first": blocks[0][0], "mid": blocks[0][len(blocks[0]) // 2], "last0": blocks[0][-1],
             "second": blocks[1][0], "mid1": blocks[1][len(blocks[1]) // 2]}
    return [where[n] for n in names]


def perturb(bars: pd.DataFrame, after: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Scale every price of the bars after `after` by positive factors (OHLC stays valid).

    The first later bar is scaled so that the return from `after`'s open to its open flips
    sign (a label read one bar too early then always changes); later bars get random factors.
    """
    out = bars.copy()
    later = out.index > after
    rng = np.random.default_rng(seed)
    factor = np.exp(rng.normal(0.0, 0.05, later.sum()))
    if after in out.index and later.any():
        first = out.loc[later, "open"].iloc[0]
        factor[0] = 1.0
        factor *= (out.loc[after, "open"] / first) ** 2
    for col in ("open", "high", "low", "close"):
        out.loc[later, col] = out.loc[later, col].to_numpy() * factor
    volume = out.loc[later, "volume"].to_numpy()
    out.loc[later, "volume"] = np.round(volume * rng.uniform(0.5, 2.0, later.sum()))
    out.attrs = dict(bars.attrs)
    return out


def changed_after(data, cut: pd.Timestamp, which: list[str] | None = None):
    """`data` with the bars after `cut` perturbed (every ticker's, or those in `which`)."""
    if not isinstance(data, Universe):
        return perturb(data, cut, seed=0)
    return Universe.from_bars({t: perturb(b, cut, seed=i) if which is None or t in which else b
                               for i, (t, b) in enumerate(data.bars.items())})


def past_unchanged(shape: str, data, cuts: list, model="logreg", which=None, base=None, **kw) -> bool:
    """Whether every prediction dated <= cut survives perturbing the bars after it, for each
    cut (`base`: the run on `data`, when already made). Asserts that the test covers
    forecasts on both sides of each cut and that the perturbation moved a later one."""
    base = run(shape, data, model, **kw) if base is None else base
    col = "score" if "score" in base.columns else "prob_up"  # a return or rank target's forecast
    for cut in cuts:
        other = run(shape, changed_after(data, cut, which), model, **kw)
        a, b = base[dates(base) <= cut], other[dates(other) <= cut]
        assert len(a) > 0 and len(base) > len(a)
        if not (a.index.equals(b.index) and np.array_equal(a[col].to_numpy(), b[col].to_numpy())):
            return False
        moved = not (base.index.equals(other.index)
                     and np.array_equal(base[col].to_numpy(), other[col].to_numpy()))
        assert moved, f"perturbing the bars after {cut.date()} moved no prediction at all"
    return True


def train_up_to_the_block(plan):
    """A planted leak: training decisions run to the day before the test block, so the last
    training labels read bars inside it (label look-ahead and embargo forgotten)."""
    return lambda *a, **k: [dataclasses.replace(f, train_last=f.test_start - 1) for f in plan(*a, **k)]


def train_one_closer(plan):
    """Training one decision closer to the block than the embargo asks (embargo 1 by default
    for these shapes): the last training label then reads the block's first open, still no
    later bar."""
    return lambda *a, **k: [dataclasses.replace(f, train_last=f.train_last + 1) for f in plan(*a, **k)]
