"""The JSON document a page is built from, read with one clear error when it is not there."""

from __future__ import annotations

import json
from pathlib import Path

from forecast.errors import ConfigError


def read_record_json(path: Path, *, what: str, kind: str | None = None) -> dict:
    """The object in `path`; a ConfigError naming `what` when it is unreadable, not an
    object, or (with `kind`) an object of another kind."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict) or (kind is not None and doc.get("kind") != kind):
        raise ConfigError(f"{path} is not {what}")
    return doc
