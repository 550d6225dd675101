"""Atomic file writes: readers see the old file or the new one, never half of either.

The content goes to a temporary file in the target's directory (so the final rename
stays on one file system), is flushed to disk, then renamed over the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read it is to set it, then put it back
    os.umask(mask)
    return mask


def write_atomic(
    path: str | Path,
    content: bytes | Callable[[BinaryIO], object],
    *,
    tmp_prefix: str | None = None,
) -> Path:
    """Write `content` to `path` atomically; return `path`.

    `content` is the bytes to write, or a function that writes to the open binary file
    it is given (e.g. `lambda f: pq.write_table(table, f)`). The temporary file is named
    `<tmp_prefix>XXXXXXXX.tmp` (default prefix `.<name>.`) and removed if anything fails;
    the exception (OSError included) reaches the caller unchanged.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=tmp_prefix or f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
