"""Wall time of the main job, `fcast backtest`, on 10 years of daily bars on this machine.

Runs the real CLI in a subprocess (start-up, data, features, walk-forward training of
every fold, backtest, report) for `--model mlp` and `--model lstm`:

* on the bundled sample, ^GSPC 2009-2018 (always available, offline);
* on AAPL 2007-11-10 to 2017-11-10 from ../shared/data/daily/AAPL.csv when that file
  exists (development data; skipped with a note otherwise).

    .venv/bin/python bench/bench_main_job.py [--models mlp lstm]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED_AAPL = Path(__file__).resolve().parents[2] / "shared" / "data" / "daily" / "AAPL.csv"


def fcast(*args: str, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "forecast", *args], env=env, capture_output=True, text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"fcast {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "lstm"])
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fcast-bench-")
    env = {**os.environ, "FCAST_HOME": home, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cases = [("^GSPC", ["--source", "bundled", "--start", "2009-01-01"])]
    if SHARED_AAPL.is_file():
        fcast("data", "import", "AAPL", str(SHARED_AAPL), env=env)
        cases.append(("AAPL", ["--start", "2007-11-12"]))
    else:
        print(f"note: {SHARED_AAPL} not found; AAPL case skipped")
    print(f"{'ticker':8} {'model':6} {'wall s':>8}   (cpus: {os.cpu_count()})")
    for ticker, extra in cases:
        for model in args.models:
            wall = fcast("backtest", ticker, "--model", model, "--no-plot", *extra, env=env)
            print(f"{ticker:8} {model:6} {wall:8.1f}")


if __name__ == "__main__":
    main()
