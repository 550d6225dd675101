"""Inter-process locks around check-then-write sequences (the store's tickers, cache entries).

A write alone is atomic (forecast.atomic), but "look at what is there, then write" is not:
two processes can both look before either writes. Holding a real file lock (flock, through
the `filelock` package) across both steps makes them one step. Locks are reentrant within
a thread, so a locked sequence may call functions that take the same lock themselves.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from forecast.errors import ConfigError, FcastError

# Seconds to wait for another fcast process before giving up (FCAST_LOCK_TIMEOUT overrides).
LOCK_TIMEOUT = 60.0
TIMEOUT_ENV = "FCAST_LOCK_TIMEOUT"

_held = threading.local()  # lock path -> depth, for this thread


class LockTimeout(FcastError):
    """Another process held a lock longer than the timeout."""


def lock_timeout() -> float:
    """FCAST_LOCK_TIMEOUT, or 60 s. ConfigError for anything but a finite number >= 0: a
    negative one would make filelock wait for ever, and a typo must not pass for 60 s."""
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None:
        return LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{TIMEOUT_ENV} must be a number of seconds >= 0, got {raw!r}")
    return value


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (True when unknown: another user's, or not POSIX)."""
    if os.name != "posix":  # on Windows, os.kill would end the process
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or a number no process can have
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


@contextmanager
def locked(path: str | Path, what: str) -> Iterator[None]:
    """Hold the file lock at `path` (created, with its folder, when missing).

    `what` names the locked thing in the timeout's one-line error. OSError (a read-only
    folder, say) reaches the caller unchanged, to be worded as its own write failures are.
    """
    from filelock import FileLock, Timeout

    key = os.path.abspath(path)
    depth = getattr(_held, "depth", None)
    if depth is None:
        depth = _held.depth = {}
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    timeout = lock_timeout()
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(key, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"{what} is being written by another fcast process (lock {key} still held after "
            f"{timeout:g} s); try again when it has finished"
        ) from None
    depth[key] = 1
    try:
        yield
    finally:
        del depth[key]
        lock.release()
