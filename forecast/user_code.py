"""Import a user's class named `package.module:Class` or `path/to/file.py:Class`.

Strategies and models are both extended this way; the errors read the same for both.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from forecast.errors import ConfigError


def is_reference(spec: str) -> bool:
    """Whether `spec` names user code (`module:Class` or `file.py:Class`), not a built-in."""
    return ":" in spec


def one_line(exc: BaseException) -> str:
    """An exception as `Type: message` on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _import_file(path: Path, what: str):
    if not path.is_file():
        raise ConfigError(f"{what} file not found: {path}")
    # A name unique to the file, so two files with the same stem do not collide.
    name = f"fcast_user_{what}_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Libraries (backtrader, pickle) look classes' modules up in sys.modules.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure in user code is a config error
        del sys.modules[name]
        raise ConfigError(f"cannot import {what} file {path}: {one_line(exc)}") from None
    return module


def _import_module(name: str, what: str):
    try:
        return importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any failure in user code is a config error
        raise ConfigError(f"cannot import {what} module {name!r}: {one_line(exc)}") from None


def load_reference(spec: str, what: str):
    """The object `spec` (`package.module:Class` or `path/to/file.py:Class`) names.

    `what` ("strategy", "model") goes into the error messages. A part before the colon
    that ends in .py or holds a path separator is a file; anything else a module.
    Raises ConfigError (one line) when the file or module is missing, fails to import,
    or has no such attribute.
    """
    where, _, attr = spec.rpartition(":")
    looks_like_file = where.endswith(".py") or "/" in where or "\\" in where
    module = _import_file(Path(where), what) if looks_like_file else _import_module(where, what)
    if not hasattr(module, attr):
        raise ConfigError(f"{where} has no class {attr!r}")
    return getattr(module, attr)
