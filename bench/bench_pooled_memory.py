"""Peak memory of gathering one pooled fold's windows: 500 names, window 240, train window 750.

The Fischer & Krauss design (return_lags=(1,), every other feature off): the members of
`--year` from ../shared/data/us_liquid (skipped cleanly when absent), their bars from
`--history-from` to the year's end. `--folds` quarterly folds (the last one tests the year's
last quarter), each training on the 750 decision dates before a 2-day gap. The part measured
is what `run_folds` does before fitting: `fold_windows` for every member and
`pooled_training_source` (the stacked rows a Keras model streams its batches from, plus one
batch of 512 windows) or, in a tree from before streaming, `pooled_training_set` (every window
gathered); timed over all the folds, its memory measured on the last.

Each code tree (this one, and `--reference`, e.g. the main checkout, for the figure before
a change) runs in its own child process, which loads the members from a pickle, gathers once for
the time (features computed), then again under tracemalloc (numpy reports its buffers to
it): the peak of memory allocated while gathering. The pooled X's own size is printed
beside it (the least any gathering can hold).

    .venv/bin/python bench/bench_pooled_memory.py [--reference ../main] [--names 500]
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parents[1]
DEFAULT = HERE / ".." / "shared" / "data" / "us_liquid"
WINDOW, TRAIN, TEST, GAP, STEP = 240, 750, 250, 2, 63

CHILD = r"""
import json, pickle, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
import numpy as np
from forecast.evaluate import walkforward as wfm
from forecast.evaluate.fold_windows import Member, fold_windows
from forecast.evaluate.folds import Fold
from forecast.features.spec import FeatureSpec
with open(sys.argv[2], "rb") as fh:
    data = pickle.load(fh)
members = [Member(t, bars, labels, pos) for t, bars, labels, pos in data["members"]]
folds = [Fold(**f) for f in data["folds"]]
spec = FeatureSpec(return_lags=(1,), vol_windows=(), volume=False, rsi=False, macd=False,
                   bollinger=False, atr=False, hl_range=False, gap=False)
# A tree with pooled_training_source streams (what a Keras model trains from: the stacked
# rows plus one 512-window batch at a time); an older one gathers every window.
stream = hasattr(wfm, "pooled_training_source")
def gather(fold):
    parts = [p for m in members if (p := fold_windows(m, fold, spec, data["window"])) is not None]
    if stream:
        src, y = wfm.pooled_training_source(parts)
        return parts, (src, y, src.take(np.arange(min(512, len(src)))))
    return parts, wfm.pooled_training_set(parts)
t0 = time.perf_counter()
for fold in folds:
    parts, out = gather(fold)
    del parts, out
secs = time.perf_counter() - t0
tracemalloc.start()  # numpy reports its buffers to tracemalloc
parts, out = gather(folds[-1])
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
if stream:
    src, y, _ = out
    n, w, f = src.shape
    x_bytes, digest = n * w * f * 8, float(np.sum(src.features[src.ends, 0]))
else:
    X, y = out[0], out[1]
    x_bytes, digest = X.nbytes, float(np.sum(X[:, -1, 0]))
print(json.dumps({"peak": peak, "secs": secs, "X_bytes": x_bytes, "stream": stream,
                  "n": len(y), "parts": len(parts), "digest": digest}))
"""


def prepare(data: Path, year: int, n_names: int, n_folds: int, history_from: str) -> dict:
    raw = pd.read_parquet(data / "bars.parquet")
    members = pd.read_csv(data / "membership.csv")
    names = list(members.loc[members["year"] == year].sort_values("rank")["ticker"].astype(str))[:n_names]
    raw = raw[raw["ticker"].astype(str).isin(names) & (raw["date"] <= pd.Timestamp(f"{year}-12-31"))]
    calendar = pd.DatetimeIndex(np.sort(raw["date"].unique())).as_unit("ns")
    span = WINDOW + TRAIN + GAP + TEST
    calendar = calendar[calendar >= pd.Timestamp(history_from)]
    assert len(calendar) >= span + (n_folds - 1) * STEP, "too short a history"
    out = []
    for ticker, frame in raw.groupby(raw["ticker"].astype(str), sort=True):
        bars = frame.drop(columns="ticker").set_index("date").sort_index()
        bars.index = pd.DatetimeIndex(bars.index).as_unit("ns")
        bars = bars.loc[bars.index >= calendar[0]]
        if len(bars) < 2 or not (bars[["open", "high", "low", "close"]].to_numpy() > 0).all():
            continue
        bars.attrs["ticker"] = ticker
        opens = bars["open"].to_numpy()
        labels = np.r_[(opens[2:] > opens[1:-1]).astype("float64"), np.nan, np.nan]
        out.append((ticker, bars, labels, calendar.get_indexer(bars.index)))
    folds = []
    for k in range(n_folds):  # quarterly refits; the last fold tests the calendar's last quarter
        stop = len(calendar) - (n_folds - 1 - k) * STEP
        last = stop - STEP - GAP - 1
        folds.append({"index": k, "train_start": last - TRAIN + 1, "train_last": last,
                      "test_start": stop - STEP, "test_stop": stop})
    return {"members": out, "folds": folds, "window": WINDOW}


def measure(code: Path, pickled: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, str(code), str(pickled)],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--year", type=int, default=2010)
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--folds", type=int, default=4, help="quarterly folds timed")
    parser.add_argument("--history-from", default="2001-01-01", help="first bar of every member")
    parser.add_argument("--reference", type=Path, default=None, help="another code tree, e.g. ../main")
    args = parser.parse_args()
    if not (args.data / "bars.parquet").is_file():
        print(f"skipped: {args.data} not found (bars.parquet, membership.csv)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / "members.pkl"
        with open(pickled, "wb") as fh:
            pickle.dump(prepare(args.data, args.year, args.names, args.folds, args.history_from), fh)
        trees = [("this tree", HERE)] + ([("reference", args.reference.resolve())] if args.reference else [])
        results = {}
        for label, code in trees:
            r = results[label] = measure(code, pickled)
            peak = r["peak"] / 2**20
            print(f"{label} ({code}): {r['parts']} names, {r['n']:,} training windows of {WINDOW} rows; "
                  f"gathered X {r['X_bytes'] / 2**20:.0f} MiB; peak memory allocated while "
                  f"{'streaming' if r.get('stream') else 'gathering'} "
                  f"{peak:.0f} MiB ({peak / (r['X_bytes'] / 2**20):.2f}x X); {args.folds} quarterly folds' "
                  f"windows (features included) in {r['secs']:.1f} s")
        if len(results) == 2:
            a, b = results["this tree"], results["reference"]
            same = a["n"] == b["n"] and a["digest"] == b["digest"]
            print(f"peak this tree / reference: {a['peak'] / b['peak']:.2f}; "
                  f"time {a['secs'] / b['secs']:.2f}; same windows: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
