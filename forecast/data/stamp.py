"""Which frames `validate_bars` made: a stamp tied to the memory their values live in.

An ``attrs`` flag would survive column assignment and arithmetic (pandas copies attrs
onto every result), so a frame changed after validation would still look checked. The
stamp instead records, for each column and the index, the array the validated values
live in and where. Row slices (`.loc` date ranges, `.iloc` with a positive step) are
views of that memory and keep the stamp; anything that writes new arrays (column
assignment, arithmetic, `astype`, `copy`, `concat`, `reindex`, boolean selection,
unpickling) loses it, and the frame is validated afresh where it is next used.

The rule a caller must keep: values written *in place* into a validated frame
(``bars.loc[day, "close"] = x`` on a frame no other frame shares) stay in the same
memory and keep the stamp; validate such a frame again with `validate_bars`.
"""

from __future__ import annotations

import itertools
import weakref

import numpy as np
import pandas as pd

try:  # numpy >= 2
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # pragma: no cover - numpy 1.26
    from numpy import byte_bounds

_INDEX = object()  # the index's key among the column names
# id(root array) -> (weak reference to it, {column: {validation id: (low, high, step)}}).
# An index may be shared by several validated frames (`drop` keeps it): hence per id.
_STAMPS: dict[int, tuple[weakref.ref, dict]] = {}
_ids = itertools.count()


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _arrays(frame: pd.DataFrame, names) -> list[tuple[object, np.ndarray]]:
    return [*((n, frame[n].to_numpy()) for n in names), (_INDEX, frame.index.asi8)]


def _forget(key: int) -> None:
    _STAMPS.pop(key, None)


def stamp(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark `frame` (fresh from validation: no caller can write its arrays) as validated."""
    vid = next(_ids)
    for name, arr in _arrays(frame, frame.columns):
        root = _root(arr)
        key = id(root)
        entry = _STAMPS.get(key)
        if entry is None or entry[0]() is not root:
            # The callback forgets the entry when the memory is freed (ids get reused).
            entry = _STAMPS[key] = (weakref.ref(root, lambda _, k=key: _forget(k)), {})
        entry[1].setdefault(name, {})[vid] = (*byte_bounds(arr), arr.strides[0])
    return frame


def _vids(name, arr: np.ndarray) -> set[int]:
    """The validations whose `name` memory holds `arr` as a positive-step slice."""
    root = _root(arr)
    entry = _STAMPS.get(id(root))
    if entry is None or entry[0]() is not root:
        return set()
    start, end = byte_bounds(arr)
    stride = arr.strides[0]
    # A step that is not a multiple of the stamped one is another column's interleaved memory.
    return {
        vid
        for vid, (low, high, step) in entry[1].get(name, {}).items()
        if step > 0 and stride > 0 and low <= start and end <= high
        and (start - low) % step == 0 and stride % step == 0
    }


def is_stamped(frame, columns) -> bool:
    """Whether `frame` holds `columns` and its index as one `stamp` saw them, or as a
    positive-step row slice of them; no data is read."""
    if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
        return False
    if not isinstance(frame.index, pd.DatetimeIndex) or not frame.columns.is_unique:
        return False
    if any(c not in frame.columns for c in columns):
        return False
    common: set[int] | None = None
    for name, arr in _arrays(frame, columns):
        common = _vids(name, arr) if common is None else common & _vids(name, arr)
        if not common:
            return False
    return True
