"""Many tickers written to the store as one step: all of them, or none.

A batch holds every ticker's lock from the start (so a check of the stored bars and the
write stay one step, as `Store.write`'s callers do for one ticker), writes each ticker's
file into a hidden staging folder beside the bars, and commits by renaming them into
place, keeping the files they replace. Any failure or interruption (Ctrl-C included)
before the commit ends removes the staging folder; one during the commit puts every
replaced file back and removes every new one. A hard kill (SIGKILL, power loss) in the
middle of the renames is the one case left mixed (each file whole, some new, some old, the
universe folder not yet swapped in); the renames take milliseconds. A later write removes
the staging folder a killed batch left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pandas as pd

from forecast.data.store import Store, StoredInfo
from forecast.data.tickers import checked


class StoreBatch:
    """Use as a context manager: `with StoreBatch(store, tickers) as batch: batch.add(...);
    batch.commit()`. Leaving the block without `commit` writes nothing."""

    def __init__(self, store: Store, tickers):
        self.store = store
        self.tickers = sorted({checked(t) for t in tickers})  # one lock order: no deadlock
        self.staged: dict[str, StoredInfo] = {}
        self._stack = ExitStack()
        self._staging: Path | None = None

    def __enter__(self) -> StoreBatch:
        try:
            for ticker in self.tickers:
                self._stack.enter_context(self.store.lock(ticker))
            self.store.bars_dir.mkdir(parents=True, exist_ok=True)
            self.store._remove_stale_tmp()  # a killed batch's staging folder, say
            self._staging = Path(tempfile.mkdtemp(prefix=f".batch.{os.getpid()}.", suffix=".tmp",
                                                  dir=self.store.bars_dir))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
        finally:
            self._stack.close()

    def add(self, frame: pd.DataFrame, ticker: str, source: str | None = None) -> StoredInfo:
        """Stage the ticker's bars (validated as `Store.write` does); nothing is visible yet."""
        import pyarrow.parquet as pq

        ticker = checked(ticker)
        if ticker not in self.tickers:
            raise ValueError(f"{ticker} is not locked by this batch")
        table, info = self.store.table(frame, ticker, source)
        path = self._staging / f"{ticker}.parquet"
        try:
            with open(path, "wb") as handle:
                pq.write_table(table, handle)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise self.store._write_error(ticker, exc) from exc
        self.staged[ticker] = info
        return info

    def commit(self, after: Callable[[], None] | None = None) -> None:
        """Rename every staged file into the store, then run `after` (which
        must leave nothing behind when it fails); on any failure,
        undo what was done (replaced files back, new files removed) and re-raise."""
        backups = self._staging / "replaced"
        backups.mkdir()
        done: list[tuple[Path, Path | None]] = []  # (target, its backup or None)
        try:
            for ticker in self.staged:
                target = self.store.path(ticker)
                backup = None
                if target.exists():
                    backup = backups / target.name
                    os.replace(target, backup)
                    done.append((target, backup))
                    os.replace(self._staging / target.name, target)
                else:
                    os.replace(self._staging / target.name, target)
                    done.append((target, None))
            if after is not None:
                after()  # the last step: it leaves nothing behind when it fails
        except BaseException:
            for target, backup in reversed(done):
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(backup, target)
            raise
