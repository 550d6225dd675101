"""`BacktestResult`: what a backtest produced, and how it is written to disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from forecast.jsonsafe import json_safe
from forecast.run_result import RunRecord


@dataclass
class BacktestResult:
    """Equity of the strategy and of buy-and-hold, trades, decisions and metrics.

    `equity`: DataFrame indexed by `date`, columns `strategy, benchmark`.
    `trades`: `entry_date, exit_date, direction, size, entry_price, exit_price, pnl, pnl_net,
    open` (a trade still open at the end is marked to the last close, its exit being that
    bar, and has `open` true). `predictions`: `date, prob_up, target, actual_up`.
    `metrics`: `{"strategy": {...}, "benchmark": {...}}` (no trade statistics for
    buy-and-hold). `benchmark_entry`: the bar buy-and-hold buys at the open of, the first
    bar any order can fill; `first_trade`: the strategy's first fill (None: it never
    traded). `ledger`: per bar `cash, value, position, close`; `fills`: per executed
    order. `model` is for the caller. `data`: where the bars came from (`fingerprint`,
    `source`), when the caller knew them.
    """

    equity: pd.DataFrame
    trades: pd.DataFrame
    predictions: pd.DataFrame
    metrics: dict
    ticker: str | None
    strategy: str
    params: dict
    start: pd.Timestamp
    end: pd.Timestamp
    benchmark_entry: pd.Timestamp
    first_trade: pd.Timestamp | None = None
    ledger: pd.DataFrame | None = None
    fills: pd.DataFrame | None = None
    settings: dict = field(default_factory=dict)
    model: str | None = None
    forecast_metrics: dict | None = None  # direction metrics of the predictions used
    walk_forward: dict | None = None  # how the predictions were made (window, folds, seed...)
    engine: str = "backtrader"  # which engine ran it: "backtrader" or "vector" (same numbers)
    data: dict | None = None  # provenance of the bars: {"fingerprint", "source"}

    kind: ClassVar[str] = "backtest"

    @property
    def title(self) -> str:
        return f"{self.ticker}: the run"

    def to_dict(self) -> dict:
        """The metrics.json content; JSON-safe (NaN and infinities become null)."""
        from forecast.provenance import fcast_version

        return json_safe(
            {
                "ticker": self.ticker,
                "model": self.model,
                "strategy": {"name": self.strategy, "params": self.params, **self.metrics["strategy"]},
                "benchmark": {"name": "buy-and-hold", **self.metrics["benchmark"]},
                "start": self.start,
                "end": self.end,
                "benchmark_entry": self.benchmark_entry,
                "first_trade": self.first_trade,
                "settings": self.settings,
                "engine": self.engine,
                # Provenance, so a report rebuilt from the folder alone can say what made it.
                "fcast_version": fcast_version(),
                **({"data": self.data} if self.data is not None else {}),
                **({"forecast": self.forecast_metrics} if self.forecast_metrics is not None else {}),
                **({"walk_forward": self.walk_forward} if self.walk_forward is not None else {}),
            }
        )

    def run_record(self) -> RunRecord:
        """What the run index keeps: ticker, model, strategy, seed, the bars' provenance and span."""
        metrics = self.to_dict()
        data = self.data or {}
        return RunRecord(
            summary={
                "ticker": self.ticker,
                "model": self.model,
                "strategy": self.strategy,
                "seed": (self.walk_forward or {}).get("seed"),
                "data": {
                    "fingerprint": data.get("fingerprint"),
                    "source": data.get("source"),
                    "start": metrics.get("start"),
                    "end": metrics.get("end"),
                },
            },
            metrics=metrics,
        )

    def write(self, output_dir, plot: bool = True) -> Path:
        """Write metrics.json, equity.csv, trades.csv, predictions.csv, ledger.csv (when the
        ledger is known) and equity.png."""
        from forecast.output_dir import write_files

        dates = {"index_label": "date", "date_format": "%Y-%m-%d"}
        writers = {
            "metrics.json": lambda p: p.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False)),
            "equity.csv": lambda p: self.equity.to_csv(p, **dates),
            "trades.csv": lambda p: self.trades.to_csv(p, index=False, date_format="%Y-%m-%d"),
            "predictions.csv": lambda p: self.predictions.to_csv(p, index=False, date_format="%Y-%m-%d"),
        }
        if self.ledger is not None:  # cash, value, position, close per bar: the report's exposure
            writers["ledger.csv"] = lambda p: self.ledger.to_csv(p, **dates)
        if plot:
            def png(p):
                from forecast.backtest.plot import plot_equity  # matplotlib only when asked

                plot_equity(self, p)

            writers["equity.png"] = png
        return write_files(Path(output_dir), writers)
