"""Import a user's class named `package.module:Class` or `path/to/file.py:Class`.

The loader under `forecast.plugins`, which resolves every kind of plugin (models,
strategies, ranking strategies, features); the errors name the kind.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from forecast.errors import ConfigError

# Modules imported from a user's file are named this plus a hash of the file's path.
_FILE_MODULE = "fcast_user_"
FILE_MODULE_PREFIX = _FILE_MODULE  # what a module imported from a user's file is named


def is_reference(spec: str) -> bool:
    """Whether `spec` names user code (`module:Class` or `file.py:Class`), not a built-in."""
    return ":" in spec


def one_line(exc: BaseException) -> str:
    """An exception as `Type: message` on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _import_file(path: Path, what: str):
    if not path.is_file():
        raise ConfigError(f"{what} file not found: {path}")
    # A name unique to the file, so two files with the same stem do not collide
    # (and an identifier: "portfolio strategy" -> "portfolio_strategy").
    tag = what.replace(" ", "_")
    name = f"{_FILE_MODULE}{tag}_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    # The absolute path, so `reference_of` can name the file from any working directory.
    spec = importlib.util.spec_from_file_location(name, path.resolve())
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


def load_reference(spec: str, what: str, *, holds: str = "class"):
    """The object `spec` (`package.module:Class` or `path/to/file.py:Class`) names.

    `what` (the plugin kind: "strategy", "model") and `holds` (what the module should
    hold: "class", "feature") go into the error messages. A part before the colon that
    ends in .py or holds a path separator is a file; anything else a module.
    Raises ConfigError (one line) when the file or module is missing, fails to import,
    or has no such attribute.
    """
    where, _, attr = spec.rpartition(":")
    looks_like_file = where.endswith(".py") or "/" in where or "\\" in where
    module = _import_file(Path(where), what) if looks_like_file else _import_module(where, what)
    if not hasattr(module, attr):
        source = f"file {where}" if looks_like_file else f"module {where!r}"
        raise ConfigError(f"{what} {source} has no {holds} {attr!r}")
    return getattr(module, attr)


def reference_of(cls: type, what: str) -> str:
    """The reference that imports `cls` again: `/absolute/file.py:Class` for a class from a
    user's file, else `package.module:Class`. ConfigError for a class nothing can import."""
    module = sys.modules.get(cls.__module__)
    qualname = cls.__qualname__
    if module is None or cls.__module__ == "__main__" or "." in qualname:
        raise ConfigError(
            f"{qualname} cannot be imported again (defined in __main__ or inside a function); "
            f"put the {what} in a file and name it path/to/file.py:{cls.__name__}"
        )
    if cls.__module__.startswith(_FILE_MODULE):
        return f"{Path(module.__file__).resolve()}:{qualname}"
    return f"{cls.__module__}:{qualname}"
