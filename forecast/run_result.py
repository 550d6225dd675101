"""`RunResult`: what every run's result (backtest, portfolio, experiment, ...) offers, so that
one `forecast.runs.record` and one CLI helper keep them all.

A result has a `kind`, its JSON document (`to_dict`), its files (`write`), a `title` for
messages, and the summary its entry in the run index carries (`run_record`). Only the
standard library here: the result classes import this module, and `forecast.runs` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class RunRecord:
    """A run's own part of its run.json, between the fields every record has (id, kind,
    created, command) and those after (versions, files, metrics, extras).

    `summary`: the kind's fields, in the order run.json lists them (ticker or universe,
    model, strategy, seed...). `metrics`: the full metrics a record keeps (None: the kind
    keeps none, an experiment's are in experiment.json). `id` and `created`: the run's own,
    when it has them (an experiment's); None gives a new id and the recording time.
    """

    summary: dict
    metrics: dict | None = None
    id: str | None = None
    created: str | None = None


@runtime_checkable
class RunResult(Protocol):
    """A run result `forecast.runs.record` can keep."""

    kind: str  # "backtest", "portfolio", "experiment": run.json's `kind`

    @property
    def title(self) -> str:
        """How messages name the run ("AAPL: the run", "the portfolio run", ...)."""
        ...

    def to_dict(self) -> dict:
        """The run's JSON document (metrics.json or experiment.json), JSON-safe."""
        ...

    def write(self, folder: str | Path, *, plot: bool = True) -> Path:
        """The run's files into `folder`; `plot`: its figures too, where the kind draws any
        (a record keeps the data, not the pictures)."""
        ...

    def run_record(self) -> RunRecord:
        """The run's part of its run.json."""
        ...
