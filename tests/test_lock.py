"""The environment the suite runs in is the one uv.lock describes, version for version."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, set[str]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(_canonical(package["name"]), set()).add(package["version"])
    return versions


def test_every_installed_distribution_is_the_locked_version():
    locked = _locked()
    installed = {_canonical(d.metadata["Name"]): d.version for d in md.distributions()}
    unlocked = sorted(n for n in installed if n not in locked)
    wrong = {n: (v, sorted(locked[n])) for n, v in installed.items() if n in locked and v not in locked[n]}
    assert not unlocked, f"installed but not in uv.lock (install with `make setup`): {unlocked}"
    assert not wrong, f"installed versions differ from uv.lock: {wrong}"


def test_lock_pins_the_runtime_and_the_test_extras():
    locked = _locked()
    for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "arch", "yfinance",
                 "backtrader", "pyarrow", "pytest", "nbclient", "ipykernel", "ruff"):
        assert name in locked, f"{name} is not in uv.lock"
    fcast = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert locked["fcast"] == {fcast}
