"""Provenance of a run: which fcast made it (version and sources) and which bars it read."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np
import pandas as pd


def fcast_version() -> str:
    try:
        return importlib.metadata.version("fcast")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def bars_fingerprint(bars: pd.DataFrame) -> str:
    """SHA-256 of the ticker, the dates and every column's name and values."""
    h = hashlib.sha256()
    h.update(str(bars.attrs.get("ticker")).encode())
    h.update(np.ascontiguousarray(pd.DatetimeIndex(bars.index).asi8).tobytes())
    for col in sorted(bars.columns, key=str):
        h.update(str(col).encode() + b"\0")
        values = bars[col].to_numpy()
        try:
            values = np.ascontiguousarray(values, dtype="float64")
        except (TypeError, ValueError):
            values = np.asarray([repr(v) for v in values]).astype("U")
        h.update(values.tobytes())
    return h.hexdigest()


def file_digest(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


@functools.lru_cache(maxsize=1)
def fcast_code_digest() -> str:
    """SHA-256 of fcast's own sources: an editable install keeps one version number while
    its code changes, so the version alone would serve predictions of older code."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
