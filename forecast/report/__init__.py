"""report.html: a self-contained page for a backtest, an experiment, a portfolio or a tuning run.

Every page is rebuilt from the files a run wrote (``metrics.json`` or ``experiment.json``
and the CSVs beside it), never recomputed from data, so `fcast report DIR` gives the same
page as the run that wrote DIR. matplotlib is imported only when a page is built.
"""

from __future__ import annotations

import json
from pathlib import Path

from forecast.errors import ConfigError

REPORT_FILE = "report.html"
KINDS = ("backtest", "experiment", "portfolio", "tune")


def report_kind(folder: str | Path) -> str:
    """Which page a run folder gets: experiment (experiment.json), tune (tune.json), portfolio
    (metrics.json with ``"kind": "portfolio"``) or backtest (any other metrics.json)."""
    folder = Path(folder)
    if (folder / "experiment.json").is_file():
        return "experiment"
    if (folder / "tune.json").is_file():
        return "tune"
    metrics = folder / "metrics.json"
    if not metrics.is_file():
        raise ConfigError(f"{folder} holds no run: no metrics.json or experiment.json")
    try:
        doc = json.loads(metrics.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {metrics}: {exc}") from None
    return "portfolio" if isinstance(doc, dict) and doc.get("kind") == "portfolio" else "backtest"


def build_report(folder: str | Path, **options) -> str:
    """The page's HTML for the run in `folder` (options go to the page builder)."""
    kind = report_kind(folder)
    if kind == "experiment":
        from forecast.report.experiment_page import experiment_page as builder
    elif kind == "portfolio":
        from forecast.report.portfolio_page import portfolio_page as builder
    elif kind == "tune":
        from forecast.report.tune_page import tune_page as builder
    else:
        from forecast.report.backtest_page import backtest_page as builder
    return builder(Path(folder), **options)


def write_report(folder: str | Path, **options) -> Path:
    """Build the page for the run in `folder` and write it there as report.html (atomically)."""
    from forecast.atomic import write_atomic

    folder = Path(folder)
    text = build_report(folder, **options)
    path = folder / REPORT_FILE
    write_atomic(path, text.encode("utf-8"))
    return path
