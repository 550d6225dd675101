"""How long report.html takes to build, beside the run it describes (offline, bundled data).

It prints, in one run on the same machine, for each page kind:

- backtest: `fc.run_backtest` of logreg predictions on AAPL (walk-forward included) and
  writing its files, then `write_report` on the folder (first page in the process, with
  matplotlib's import, and a second, warm, build);
- portfolio: `run_portfolio_backtest` (logreg, long-short k=2) over 6 bundled tickers, then
  its page;
- experiment: a grid of `--tickers` x logreg x 2 strategies x 2 costs, then the
  experiment's page and each configuration's page;

with wall seconds, the page's size, its charts, and the page build as a ratio of the run.
Nothing is asserted about the times.

    .venv/bin/python bench/bench_report.py [--start 2012-01-01] [--tickers 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FCAST_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def timed(fn):
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began


def describe(page: Path) -> str:
    text = page.read_text()
    return (f"{page.stat().st_size / 1e6:.2f} MB, {text.count('data-chart=')} charts, "
            f"{text.count('data-canvas-chart=')} interactive")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2012-01-01")
    parser.add_argument("--tickers", type=int, default=3)
    args = parser.parse_args()

    import forecast as fc
    from forecast.experiment import ExperimentSpec, run_experiment
    from forecast.portfolio.run import run_portfolio_backtest
    from forecast.report import write_report

    root = Path(tempfile.mkdtemp(prefix="bench_report_"))
    home = root / "home"

    def backtest():
        bars = fc.load("AAPL", source="bundled", start=args.start, home=home)
        preds = fc.predict(bars, "logreg", cache=False)
        result = fc.run_backtest(bars, preds, strategy="long-only")
        return result.write(root / "backtest")

    folder, run_s = timed(backtest)
    page, cold_s = timed(lambda: write_report(folder))
    _, warm_s = timed(lambda: write_report(folder))
    print(f"backtest   run {run_s:6.1f} s | page {cold_s:5.2f} s cold (matplotlib import included), "
          f"{warm_s:5.2f} s warm = {warm_s / run_s:.1%} of the run | {describe(page)}")

    def portfolio():
        result = run_portfolio_backtest(["AAPL", "MSFT", "KO", "IBM", "XOM", "GE"], model="logreg",
                                        strategy="long-short", params={"k": 2}, source="bundled",
                                        start=args.start, home=home)
        return result.write(root / "portfolio")

    folder, run_s = timed(portfolio)
    page, page_s = timed(lambda: write_report(folder))
    print(f"portfolio  run {run_s:6.1f} s | page {page_s:5.2f} s = {page_s / run_s:.1%} of the run | "
          f"{describe(page)}")

    tickers = ["AAPL", "MSFT", "KO", "IBM", "XOM", "GE", "JNJ", "PG"][: args.tickers]
    spec = ExperimentSpec.from_dict({
        "name": "bench", "tickers": tickers, "start": args.start, "models": [{"name": "logreg"}],
        "strategies": [{"name": "long-only"}, {"name": "long-short"}],
        "costs": {"commission": [0.0, 0.001]},
    })
    out = root / "experiment"
    result, run_s = timed(lambda: run_experiment(spec, home=home, source="bundled", output=out, cache=False))
    result.write(out)
    pages, pages_s = timed(lambda: [write_report(out / r["run"]) for r in result.rows if r.get("run")])
    page, page_s = timed(lambda: write_report(out))
    print(f"experiment run {run_s:6.1f} s ({len(result.rows)} configurations) | its page {page_s:5.2f} s, "
          f"{len(pages)} configuration pages {pages_s:5.2f} s ({pages_s / max(len(pages), 1):.2f} s each) "
          f"= {(page_s + pages_s) / run_s:.1%} of the run | {describe(page)}")


if __name__ == "__main__":
    main()
