"""Shared fixtures. Every test runs with its own empty store, no network and no GPU.

The suite must pass the same way on a laptop, a networked machine and a GPU box:
- Yahoo Finance is simulated as unreachable (`FCAST_OFFLINE=1`, inherited by subprocesses
  and notebook kernels), and fcast's download boundary fails the test if it is reached;
  a test that needs Yahoo injects a fake downloader and says Yahoo is reachable.
- The training device is pinned to the CPU (no GPU visible, in-process and in children),
  so device lines and bit-exact determinism do not depend on the machine.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
# Before anything imports TensorFlow: children and this process see no GPU.
os.environ["CUDA_VISIBLE_DEVICES"] = "-1"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """A fresh FCAST_HOME per test, so no test sees the user's store or another test's."""
    home = tmp_path / "fcast_home"
    monkeypatch.setenv("FCAST_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail loudly if anything tries to open a network connection or reach Yahoo."""
    import socket

    from forecast.data import yahoo

    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in tests")

    def no_yahoo(*args, **kwargs):
        # pytest.fail raises a BaseException: fetch_yahoo's `except Exception` cannot hide it.
        pytest.fail("a test reached yfinance; inject a fake `download` instead")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv(yahoo.OFFLINE_ENV, "1")
    # yfinance downloads through curl_cffi, which the socket patch does not stop.
    monkeypatch.setattr(yahoo, "_download", no_yahoo)


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch):
    """`--device auto` means the CPU in every test; tests of the GPU path pretend a GPU."""
    from forecast.models import device

    monkeypatch.setattr(device, "visible_gpus", lambda: ())


@pytest.fixture
def pretend_gpu(monkeypatch):
    """The device code sees a GPU. TensorFlow places "gpu" ops on the CPU when none exists
    (soft placement); JAX and PyTorch refuse, so under them the scope stays on the CPU."""
    from forecast.models import backend, device

    monkeypatch.setattr(device, "visible_gpus", lambda: ("/physical_device:GPU:0",))
    if backend.backend_name() != "tensorflow":
        on_cpu = backend.device_context
        monkeypatch.setattr(backend, "device_context", lambda resolved: on_cpu("cpu"))


@pytest.fixture
def folds(monkeypatch):
    """A list that grows by one for every walk-forward fold trained (cache tests: a hit
    trains none)."""
    from forecast.evaluate import walkforward

    calls = []
    real = walkforward._run_fold

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(walkforward, "_run_fold", counting)
    return calls
