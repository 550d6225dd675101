"""Run records: every `fcast backtest`, `fcast portfolio` and `fcast experiment run` kept
under ``<home>/runs/<id>/``, through one `record` for any `forecast.run_result.RunResult`.

A record is a folder named by a sortable id (UTC time, then a short random suffix) with
`run.json` (the metrics, the command line, versions, the data fingerprint, seed, model,
strategy) and the run's output files (a backtest's `metrics.json`, `equity.csv`, `trades.csv`,
`predictions.csv`; whatever the result's `write` puts there). A record is written once and
appears whole: its files go into a hidden ``.<id>.<pid>.tmp`` folder, renamed to ``<id>``
when all are written, so a run killed mid-record leaves no half record in `fcast runs list`,
only a temporary folder that `fcast runs prune` removes once its process is gone. Nothing is
ever overwritten.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forecast.atomic import write_atomic
from forecast.errors import ConfigError, StoreError
from forecast.jsonsafe import json_safe
from forecast.locking import process_alive
from forecast.run_result import RunResult

# Distributions whose versions a record keeps (when installed); read from metadata, never imported.
DEPENDENCIES = ("numpy", "pandas", "scikit-learn", "keras", "tensorflow", "jax", "torch", "backtrader",
                "arch", "numba", "pyarrow")
RUN_FILE = "run.json"
# A record's temporary folder: .<id>.<pid>.tmp (the pid tells prune whether it may be live).
_TMP = re.compile(r"\.(?P<id>[^/]+)\.(?P<pid>\d+)\.tmp")
# A temporary folder this old belongs to a killed process, whatever its pid says now.
STALE_TMP_SECONDS = 24 * 3600


def runs_dir(home: str | Path | None = None) -> Path:
    from forecast.data.store import default_home

    return (Path(home).expanduser() if home is not None else default_home()) / "runs"


def installed_versions() -> dict[str, str]:
    out = {}
    for name in ("fcast", *DEPENDENCIES):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYmmddTHHMMSSffffffZ-xxxxxx``: sorts by time; the suffix keeps same-instant runs apart."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


def record(
    result: RunResult,
    *,
    home: str | Path | None = None,
    command: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Record any run result (backtest, portfolio, experiment...) as a new run; return its folder.

    run.json lists id, kind, created and command, the result's own summary, the versions, the
    files, its metrics (when it keeps them) and `extra` (the caller's: output folder, cache).
    """
    own = result.run_record()
    with _recording(home, own.id) as rec:
        result.write(rec.folder, plot=False)  # the data; pictures are drawn again from it
        doc = {
            "id": rec.id,
            "kind": result.kind,
            "created": own.created or datetime.now(UTC).isoformat(timespec="seconds"),
            "command": list(sys.argv if command is None else command),
            **own.summary,
            "versions": installed_versions(),
            "files": _files(rec.folder),
            **({"metrics": own.metrics} if own.metrics is not None else {}),
            **(extra or {}),
        }
        _write_record(rec.folder, doc)
    return rec.final


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _write_record(folder: Path, doc: dict) -> None:
    write_atomic(folder / RUN_FILE, json.dumps(json_safe(doc), indent=2, allow_nan=False).encode())


@dataclass(frozen=True)
class _Recording:
    id: str
    folder: Path  # the hidden temporary folder the files go into
    final: Path  # where the record appears once complete


@contextmanager
def _recording(home, run_id: str | None = None) -> Iterator[_Recording]:
    """A new record's temporary folder, renamed into place when the block ends without
    error (removed when it fails): a record is listed whole or not at all."""
    root = runs_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    rec = _reserve(root, run_id)
    try:
        yield rec
        try:
            os.rename(rec.folder, rec.final)  # fails on an existing, non-empty record
        except OSError as exc:
            if rec.final.is_dir():
                raise ConfigError(f"run {rec.id} is already recorded in {root}") from exc
            raise
    except BaseException:
        shutil.rmtree(rec.folder, ignore_errors=True)
        raise


def _reserve(root: Path, run_id: str | None) -> _Recording:
    """An id no record has, and its new, empty temporary folder (created exclusively)."""
    for _ in range(10):
        rid = run_id or new_run_id()
        final, folder = root / rid, root / f".{rid}.{os.getpid()}.tmp"
        if final.exists():
            if run_id is not None:
                raise ConfigError(f"run {run_id} is already recorded in {root}")
            continue
        try:
            folder.mkdir()
            return _Recording(rid, folder, final)
        except FileExistsError:
            if run_id is not None:
                raise ConfigError(f"run {run_id} is being recorded by this process already") from None
    # pragma: no cover - ten collisions of a 24-bit suffix within a microsecond
    raise ConfigError(f"cannot find a free run id under {root}")


def list_runs(home: str | Path | None = None) -> list[dict]:
    """Every recorded run's run.json (oldest first); an unreadable one, or one missing files
    its run.json lists, as {"id", "error"}. Hidden folders (records being written) are not runs."""
    root = runs_dir(home)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            doc = json.loads((folder / RUN_FILE).read_text())
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            doc = {"id": folder.name, "error": f"unreadable run.json ({type(exc).__name__})"}
        else:
            doc["id"] = str(doc.get("id") or folder.name)
            missing = [f for f in doc.get("files") or () if not (folder / str(f)).exists()]
            if missing:
                doc = {"id": doc["id"], "error": f"incomplete: {', '.join(missing)} missing"}
        doc["path"] = str(folder)
        out.append(doc)
    return out


def find_run(run_id: str, home: str | Path | None = None) -> dict:
    """One run, readable or not, by id or a unique prefix of it (ConfigError otherwise)."""
    runs = [r for r in list_runs(home) if r["id"].startswith(run_id)]
    exact = [r for r in runs if r["id"] == run_id]
    if exact:
        runs = exact
    if not runs:
        raise ConfigError(f"no run {run_id!r} in {runs_dir(home)} (see `fcast runs list`)")
    if len(runs) > 1:
        raise ConfigError(f"run id {run_id!r} is ambiguous: {len(runs)} runs start with it")
    return runs[0]


def load_run(run_id: str, home: str | Path | None = None) -> dict:
    """One readable run by id, or by a unique prefix of it (ConfigError otherwise)."""
    run = find_run(run_id, home)
    if "error" in run:
        raise ConfigError(f"run {run['id']}: {run['error']} (remove it with `fcast runs rm {run['id']}`)")
    return run


def remove_run(path: str | Path) -> None:
    """Delete a record folder: first renamed to a hidden temporary name (so it leaves the
    list at once, and an interrupted removal leaves only what `prune_runs` clears), then deleted."""
    path = Path(path)
    doomed = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        os.rename(path, doomed)
        shutil.rmtree(doomed)
    except OSError as exc:
        raise StoreError(f"cannot remove run {path.name} in {path.parent}: "
                         f"{exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Prunable:
    id: str
    path: Path
    reason: str


def prunable_runs(home: str | Path | None = None) -> list[Prunable]:
    """Runs that are unreadable or incomplete, and temporary folders whose process is gone
    (or older than STALE_TMP_SECONDS): what `fcast runs prune` removes."""
    root = runs_dir(home)
    if not root.is_dir():
        return []
    found = [Prunable(r["id"], Path(r["path"]), r["error"]) for r in list_runs(home) if "error" in r]
    now = time.time()
    for folder in sorted(root.glob(".*.tmp")):
        match = _TMP.fullmatch(folder.name)
        if match is None or not folder.is_dir():
            continue  # not fcast's
        try:
            old = now - folder.stat().st_mtime > STALE_TMP_SECONDS
        except OSError:
            continue  # gone already
        if old or not process_alive(int(match.group("pid"))):
            found.append(Prunable(match.group("id"), folder, "left behind by an interrupted run"))
    return found


def prune_runs(home: str | Path | None = None, *, dry_run: bool = False) -> list[Prunable]:
    """Remove what `prunable_runs` finds (nothing when `dry_run`); return it."""
    found = prunable_runs(home)
    if not dry_run:
        for item in found:
            if item.path.name.startswith("."):
                try:
                    shutil.rmtree(item.path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise StoreError(f"cannot remove {item.path}: {exc.strerror or exc}") from exc
            else:
                remove_run(item.path)
    return found


def key_figures(doc: dict) -> dict[str, Any]:
    """The figures `runs list/show/compare` print, from a run.json."""
    if doc.get("kind") == "experiment":
        return _experiment_figures(doc)
    m = doc.get("metrics") or {}
    if doc.get("kind") == "tune":  # the trials behind the figures are part of what they mean
        doc = {**doc, "strategy": f"{doc.get('strategy')}, tuned: {doc.get('trials')} trials"}
    if doc.get("kind") == "portfolio":
        universe = doc.get("universe") or []
        doc = {**doc, "ticker": f"{len(universe)} tickers", "strategy": f"portfolio {doc.get('strategy')}"}
    strat, bench, fc = m.get("strategy") or {}, m.get("benchmark") or {}, m.get("forecast") or {}
    return {
        "ticker": doc.get("ticker"),
        "model": doc.get("model"),
        "strategy": doc.get("strategy"),
        "start": m.get("start"),
        "end": m.get("end"),
        "total_return": strat.get("total_return"),
        "cagr": strat.get("cagr"),
        "sharpe": strat.get("sharpe"),
        "max_drawdown": strat.get("max_drawdown"),
        "n_trades": strat.get("n_trades"),
        "benchmark_return": bench.get("total_return"),
        "benchmark_sharpe": bench.get("sharpe"),
        "accuracy": fc.get("accuracy"),
        "seed": doc.get("seed"),
    }


def _experiment_figures(doc: dict) -> dict[str, Any]:
    """An experiment's figures are its best configuration's, named as the experiment."""
    best = doc.get("best") or {}
    tickers = list(doc.get("tickers") or [])
    return {
        "ticker": ", ".join(tickers) if len(tickers) <= 3 else f"{len(tickers)} tickers",
        "model": best.get("model"),
        "strategy": f"experiment {doc.get('name')}: best of {doc.get('n_trials')}",
        "start": best.get("start"),
        "end": best.get("end"),
        "total_return": best.get("total_return"),
        "cagr": best.get("cagr"),
        "sharpe": best.get("sharpe"),
        "max_drawdown": best.get("max_drawdown"),
        "n_trades": best.get("n_trades"),
        "benchmark_return": best.get("benchmark_return"),
        "benchmark_sharpe": best.get("benchmark_sharpe"),
        "accuracy": best.get("accuracy"),
        "seed": ", ".join(str(s) for s in doc.get("seeds") or []) or None,
    }
