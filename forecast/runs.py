"""Run records: every `fcast backtest` and `fcast experiment run` kept under ``<home>/runs/<id>/``.

A record is a folder named by a sortable id (UTC time, then a short random suffix) with
`run.json` (the metrics, the command line, versions, the data fingerprint, seed, model,
strategy) and the run's output files (`metrics.json`, `equity.csv`, `trades.csv`,
`predictions.csv`). A record is written once: the folder is created exclusively and its
files written atomically; nothing is ever overwritten.
"""

from __future__ import annotations

import importlib.metadata
import json
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forecast.atomic import write_atomic
from forecast.errors import ConfigError
from forecast.jsonsafe import json_safe

# Distributions whose versions a record keeps (when installed); read from metadata, never imported.
DEPENDENCIES = ("numpy", "pandas", "scikit-learn", "keras", "tensorflow", "jax", "torch", "backtrader",
                "arch", "numba", "pyarrow")
RUN_FILE = "run.json"


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


def record_run(
    result,
    *,
    bars=None,
    home: str | Path | None = None,
    command: list[str] | None = None,
    seed: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Record a `BacktestResult` as a new run; return its folder."""
    from forecast.cache import bars_fingerprint

    folder = _new_folder(home)
    run_id = folder.name
    result.write(folder, plot=False)
    metrics = result.to_dict()
    doc = {
        "id": run_id,
        "kind": "backtest",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(sys.argv if command is None else command),
        "ticker": result.ticker,
        "model": result.model,
        "strategy": result.strategy,
        "seed": seed if seed is not None else (result.walk_forward or {}).get("seed"),
        "data": {
            "fingerprint": bars_fingerprint(bars) if bars is not None else None,
            "source": bars.attrs.get("source") if bars is not None else None,
            "start": metrics.get("start"),
            "end": metrics.get("end"),
        },
        "versions": installed_versions(),
        "files": sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")),
        "metrics": metrics,
        **(extra or {}),
    }
    write_atomic(folder / RUN_FILE, json.dumps(json_safe(doc), indent=2, allow_nan=False).encode())
    return folder


def _new_folder(home, run_id: str | None = None) -> Path:
    """A new, empty run folder (created exclusively: a record is never overwritten)."""
    root = runs_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(10):
        folder = root / (run_id or new_run_id())
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            if run_id is not None:
                raise ConfigError(f"run {run_id} is already recorded in {root}") from None
    # pragma: no cover - ten collisions of a 24-bit suffix within a microsecond
    raise ConfigError(f"cannot find a free run id under {root}")


def record_experiment(result, *, home: str | Path | None = None, command: list[str] | None = None,
                      extra: dict[str, Any] | None = None) -> Path:
    """Record an `ExperimentResult` under its own id: run.json, experiment.json, results.csv."""
    folder = _new_folder(home, result.id)
    result.write(folder)
    doc = result.to_dict()
    best = (doc["tests"] or {}).get("best") or {}
    row = doc["rows"][best["row"]] if "row" in best else {}
    record = {
        "id": result.id,
        "kind": "experiment",
        "created": doc["created"],
        "command": list(sys.argv if command is None else command),
        "name": doc["name"],
        "n_trials": doc["n_trials"],
        "n_configurations": doc["n_configurations"],
        "n_failed": doc["n_failed"],
        "cache": doc["cache"],
        "tickers": doc["tickers"],
        "seeds": doc["spec"]["seeds"],
        "best": row,
        "tests": doc["tests"],
        "verdict": doc["verdict"],
        "versions": doc["versions"],
        "files": sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")),
        **(extra or {}),
    }
    write_atomic(folder / RUN_FILE, json.dumps(json_safe(record), indent=2, allow_nan=False).encode())
    return folder


def record_portfolio(result, *, home: str | Path | None = None, command: list[str] | None = None,
                     extra: dict[str, Any] | None = None) -> Path:
    """Record a `PortfolioResult`: its files and run.json (kind "portfolio")."""
    folder = _new_folder(home)
    result.write(folder)
    metrics = result.to_dict()
    doc = {
        "id": folder.name,
        "kind": "portfolio",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(sys.argv if command is None else command),
        "universe": metrics["universe"],
        "model": metrics["model"],
        "strategy": metrics["strategy"]["name"],
        "seed": (metrics.get("walk_forward") or {}).get("seed"),
        "versions": installed_versions(),
        "files": sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")),
        "metrics": metrics,
        **(extra or {}),
    }
    write_atomic(folder / RUN_FILE, json.dumps(json_safe(doc), indent=2, allow_nan=False).encode())
    return folder


def list_runs(home: str | Path | None = None) -> list[dict]:
    """Every recorded run's run.json (oldest first); an unreadable one as {"id", "error"}."""
    root = runs_dir(home)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            doc = json.loads((folder / RUN_FILE).read_text())
        except (OSError, ValueError) as exc:
            doc = {"id": folder.name, "error": f"unreadable run.json ({type(exc).__name__})"}
        doc["path"] = str(folder)
        out.append(doc)
    return out


def load_run(run_id: str, home: str | Path | None = None) -> dict:
    """One run by id, or by a unique prefix of it (ConfigError otherwise)."""
    runs = [r for r in list_runs(home) if r["id"].startswith(run_id)]
    exact = [r for r in runs if r["id"] == run_id]
    if exact:
        runs = exact
    if not runs:
        raise ConfigError(f"no run {run_id!r} in {runs_dir(home)} (see `fcast runs list`)")
    if len(runs) > 1:
        raise ConfigError(f"run id {run_id!r} is ambiguous: {len(runs)} runs start with it")
    if "error" in runs[0]:
        raise ConfigError(f"run {runs[0]['id']}: {runs[0]['error']}")
    return runs[0]


def key_figures(doc: dict) -> dict[str, Any]:
    """The figures `runs list/show/compare` print, from a run.json."""
    if doc.get("kind") == "experiment":
        return _experiment_figures(doc)
    m = doc.get("metrics") or {}
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
