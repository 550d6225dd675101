"""The local store: one Parquet file per ticker, its metadata inside the same file.

Keeping metadata in the Parquet footer makes each write a single atomic rename: a
crash mid-write leaves the previous file untouched, never a half file or a file whose
sidecar disagrees with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from forecast.atomic import write_atomic
from forecast.data.frame import ensure_bars, validate_bars
from forecast.data.tickers import checked
from forecast.errors import StoreError
from forecast.locking import locked, process_alive

_META_KEY = b"fcast"
# A temporary file this old belongs to a killed write: no write takes an hour.
STALE_TMP_SECONDS = 3600


def _writer_alive(name: str) -> bool:
    """Whether the process named in a temporary file's name (.TICKER.PID.xxx.tmp) runs.

    True when unknown (older names, other systems): such files wait for STALE_TMP_SECONDS.
    """
    match = re.fullmatch(r"\..+\.(\d+)\.[^.]+\.tmp", name)
    # this process's own: another thread may be writing
    return match is None or process_alive(int(match.group(1)))


def default_home() -> Path:
    """`FCAST_HOME` if set, else the per-user data directory."""
    env = os.environ.get("FCAST_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("fcast", appauthor=False))


@dataclass(frozen=True)
class StoredInfo:
    """What the store knows of one ticker without loading its bars."""

    ticker: str
    source: str
    first: str
    last: str
    rows: int
    fetched_at: str


class Store:
    """Parquet files of validated daily bars under ``<home>/bars``."""

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.bars_dir = self.home / "bars"

    def path(self, ticker: str) -> Path:
        return self.bars_dir / f"{checked(ticker)}.parquet"

    def has(self, ticker: str) -> bool:
        return self.path(ticker).is_file()

    def lock_path(self, ticker: str) -> Path:
        return self.bars_dir / f".{checked(ticker)}.lock"

    @contextmanager
    def lock(self, ticker: str) -> Iterator[None]:
        """Hold the ticker's lock: every write takes it, and a caller that looks at the stored
        bars before writing (import's "would it lose history?") holds it across both, so no
        other process writes in between. Reentrant; StoreError when it cannot be created."""
        ticker = checked(ticker)
        stack = ExitStack()
        try:
            stack.enter_context(locked(self.lock_path(ticker), f"{ticker} in the store {self.bars_dir}"))
        except OSError as exc:
            raise self._write_error(ticker, exc) from exc
        with stack:
            yield

    def table(self, frame: pd.DataFrame, ticker: str, source: str | None = None):
        """Validate `frame` and build what a write stores: (Arrow table with metadata, info)."""
        import pyarrow as pa

        ticker = checked(ticker)
        source = source or frame.attrs.get("source", "unknown")
        frame = ensure_bars(frame, ticker, source=source)
        info = StoredInfo(
            ticker=ticker,
            source=source,
            first=str(frame.index[0].date()),
            last=str(frame.index[-1].date()),
            rows=len(frame),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        table = pa.Table.from_pandas(frame, preserve_index=True)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps(asdict(info)).encode()
        return table.replace_schema_metadata(meta), info

    def write(self, frame: pd.DataFrame, ticker: str, source: str | None = None) -> StoredInfo:
        """Validate and atomically write `frame` as the ticker's bars."""
        import pyarrow.parquet as pq

        ticker = checked(ticker)
        table, info = self.table(frame, ticker, source)
        target = self.path(ticker)
        with self.lock(ticker):
            try:
                self._remove_stale_tmp()
                # The pid in the name tells a later write whether this one may still be running.
                write_atomic(target, lambda handle: pq.write_table(table, handle),
                             tmp_prefix=f".{ticker}.{os.getpid()}.")
            except OSError as exc:
                raise self._write_error(ticker, exc) from exc
        return info

    def _write_error(self, ticker: str, exc: OSError) -> StoreError:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return StoreError(f"{ticker}: cannot write to the store directory {self.bars_dir}: {reason}")

    def _remove_stale_tmp(self) -> None:
        """Delete temporary files (and a batch's staging folders) that killed writes left
        behind, never a live write's."""
        now = time.time()
        for tmp in self.bars_dir.glob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_SECONDS or not _writer_alive(tmp.name):
                    shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
            except OSError:
                continue  # gone already, or not ours to delete: the write goes on

    def info(self, ticker: str) -> StoredInfo:
        """Metadata of a stored ticker, read from the file footer only."""
        import pyarrow.parquet as pq

        path = self.path(ticker)
        try:
            meta = pq.read_schema(path).metadata or {}
            return StoredInfo(**json.loads(meta[_META_KEY]))
        except FileNotFoundError:
            raise StoreError(f"{ticker}: not in the store ({self.bars_dir})") from None
        except Exception as exc:
            raise StoreError(f"{ticker}: store file {path} is corrupted or unreadable") from exc

    def read(self, ticker: str) -> pd.DataFrame:
        """The ticker's bars, validated as they enter from disk: a damaged file is never used silently."""
        import pyarrow.parquet as pq

        ticker = checked(ticker)
        path = self.path(ticker)
        try:  # one open for the metadata and the bars: a universe reads hundreds
            table = pq.read_table(path)
            info = StoredInfo(**json.loads((table.schema.metadata or {})[_META_KEY]))
            frame = table.to_pandas()
        except FileNotFoundError:
            raise StoreError(f"{ticker}: not in the store ({self.bars_dir})") from None
        except Exception as exc:
            raise StoreError(f"{ticker}: store file {path} is corrupted or unreadable") from exc
        try:
            return validate_bars(frame, ticker, source=info.source)
        except Exception as exc:
            detail = str(exc).removeprefix(f"{ticker}: ")  # name the ticker once
            raise StoreError(f"{ticker}: store file {path} fails validation: {detail}") from exc

    def list(self) -> list[StoredInfo | tuple[str, str]]:
        """Every stored ticker's info; a broken file appears as (ticker, error message)."""
        if not self.bars_dir.is_dir():
            return []
        out: list[StoredInfo | tuple[str, str]] = []
        for path in sorted(self.bars_dir.glob("*.parquet")):
            try:
                out.append(self.info(path.stem))
            except StoreError as exc:
                out.append((path.stem, str(exc)))
        return out

    def merge(self, new: pd.DataFrame, ticker: str, source: str | None = None) -> StoredInfo:
        """Merge freshly fetched bars into the stored ones (fresh values win on overlap), under
        the ticker's lock: a concurrent merge's bars are never lost."""
        with self.lock(ticker):
            if not self.has(ticker):
                return self.write(new, ticker, source)
            old = self.read(ticker)
            cols = [c for c in old.columns if c in new.columns]
            combined = pd.concat([old.loc[~old.index.isin(new.index), cols], new.loc[:, cols]])
            combined = combined.sort_index()
            return self.write(combined, ticker, source or old.attrs.get("source"))
