"""`ExperimentResult`: the rows of a grid, its verdict, and how they are written to disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pandas as pd

from forecast.jsonsafe import json_safe
from forecast.run_result import RunRecord

# results.csv's columns, in order (dict-valued ones are written as JSON text).
CSV_COLUMNS = ("ticker", "model", "model_params", "seed", "strategy", "params", "target", "pooled",
               "commission", "slippage",
               "start", "end", "total_return", "cagr", "sharpe", "sharpe_se", "psr", "psr_vs_benchmark",
               "max_drawdown", "benchmark_return", "benchmark_sharpe", "accuracy", "n_trades", "cache",
               "engine", "status", "run")


def _finite_or_minus_inf(x) -> float:
    """A Sharpe ratio for ranking: None or NaN (a strategy that never traded) ranks last."""
    import math

    return x if x is not None and math.isfinite(x) else float("-inf")


@dataclass
class ExperimentResult:
    """Every configuration's row (status "ok" or its error line) and the `tests` judging them.

    `returns` maps a row's index to its daily strategy returns (kept in memory for the
    report; not written). `tickers`: each ticker's span and data fingerprint.
    """

    id: str
    spec: object
    rows: list[dict]
    tests: dict
    cache: dict
    executor: dict
    seconds: float
    tickers: dict
    returns: dict = field(default_factory=dict, repr=False)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    kind: ClassVar[str] = "experiment"

    @property
    def title(self) -> str:
        return f"experiment {self.spec.name}"

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r.get("status") != "ok"]

    @property
    def n_trials(self) -> int:
        """Configurations that produced returns: the trials the statistics deflate for."""
        return int(self.tests.get("n_trials", 0))

    def ranked(self) -> list[dict]:
        """Rows best first by Sharpe ratio; failed rows last, in grid order."""
        ok = [r for r in self.rows if r.get("status") == "ok"]
        ok.sort(key=lambda r: -_finite_or_minus_inf(r.get("sharpe")))
        return ok + self.failed

    def to_dict(self) -> dict:
        """The experiment.json content (JSON-safe: NaN becomes null)."""
        from forecast.runs import installed_versions

        return json_safe({
            "name": self.spec.name,
            "id": self.id,
            "created": self.created,
            "n_trials": self.n_trials,
            "n_configurations": len(self.rows),
            "n_failed": len(self.failed),
            "cache": self.cache,
            "executor": self.executor,
            "seconds": round(self.seconds, 3),
            "tickers": self.tickers,
            "spec": self.spec.to_dict(),
            "tests": self.tests,
            "verdict": self.tests.get("verdict"),
            "rows": self.rows,
            "versions": installed_versions(),
        })

    def frame(self) -> pd.DataFrame:
        """results.csv: one row per configuration."""
        records = []
        for row in self.rows:
            rec = {c: row.get(c) for c in CSV_COLUMNS}
            for key in ("model_params", "params"):
                rec[key] = json.dumps(rec[key] or {}, sort_keys=True)
            records.append(rec)
        return pd.DataFrame.from_records(records, columns=list(CSV_COLUMNS))

    def run_record(self) -> RunRecord:
        """What the run index keeps: the grid's size, its best row and the tests, under the
        experiment's own id and time."""
        doc = self.to_dict()
        best = (doc["tests"] or {}).get("best") or {}
        return RunRecord(
            summary={
                "name": doc["name"],
                "n_trials": doc["n_trials"],
                "n_configurations": doc["n_configurations"],
                "n_failed": doc["n_failed"],
                "cache": doc["cache"],
                "tickers": doc["tickers"],
                "seeds": doc["spec"]["seeds"],
                "best": doc["rows"][best["row"]] if "row" in best else {},
                "tests": doc["tests"],
                "verdict": doc["verdict"],
            },
            id=self.id,
            created=doc["created"],
        )

    def write(self, folder: str | Path, *, plot: bool = True) -> Path:
        """experiment.json and results.csv (each run's own files were written as it ran;
        `plot`: no figure here, the report page draws them)."""
        from forecast.atomic import write_atomic
        from forecast.output_dir import write_files

        return write_files(Path(folder), {
            "experiment.json": lambda p: write_atomic(
                p, json.dumps(self.to_dict(), indent=2, allow_nan=False).encode()),
            "results.csv": lambda p: write_atomic(p, self.frame().to_csv(index=False).encode()),
        })
