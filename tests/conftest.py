"""Shared fixtures. Every test runs with its own empty store and no network."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """A fresh FCAST_HOME per test, so no test sees the user's store or another test's."""
    home = tmp_path / "fcast_home"
    monkeypatch.setenv("FCAST_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail loudly if anything tries to open a network connection."""
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
