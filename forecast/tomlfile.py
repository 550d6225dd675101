"""Reading a user's TOML file (a feature spec, an experiment spec) with one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

from forecast.errors import ConfigError


def read_toml(path: str | Path, what: str) -> dict:
    """The parsed file, or a ConfigError naming `what` ("feature spec") and the cause."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    # TOML is UTF-8 without NUL bytes; a binary file (an image, a pickle) fails both tests.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ConfigError(f"{what} {path} is not a TOML text file (it holds binary data)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
