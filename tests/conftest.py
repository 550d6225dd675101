"""Shared fixtures. Every test runs with its own empty store, no network and no GPU.

The suite must pass the same way on a laptop, a networked machine and a GPU box:
- Yahoo Finance is simulated as unreachable (`FCAST_OFFLINE=1`, inherited by subprocesses
  and notebook kernels), and fcast's download boundary fails the test if it is reached;
  a test that needs Yahoo injects a fake downloader and says Yahoo is reachable.
- The training device is pinned to the CPU (no GPU visible, in-process and in children),
  so device lines and bit-exact determinism do not depend on the machine.
"""

from __future__ import annotations

import logging
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


def _count_calls(monkeypatch, owner, name: str) -> list[dict]:
    """Wrap `owner.name` so each call appends its keyword arguments to the returned list
    (and still runs): cache tests count what was really trained."""
    calls: list[dict] = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


@pytest.fixture
def folds(monkeypatch):
    """A list that grows by one for every walk-forward fold trained (cache tests: a hit
    trains none)."""
    from forecast.evaluate import walkforward

    return _count_calls(monkeypatch, walkforward, "fit_pooled_fold")


@pytest.fixture
def count_calls(monkeypatch):
    """`count_calls(owner, "name")`: a list that grows by one (the call's keyword arguments)
    each time `owner.name` runs, for this test."""
    return lambda owner, name: _count_calls(monkeypatch, owner, name)


@pytest.fixture
def warnings():
    """Warning lines on the `fcast` logger (the CLI stops it propagating to the root)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("fcast")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


# --- runs written by the CLI once per session, for the report tests ---------------------------

REPORT_EXPERIMENT_SPEC = """\
name = "pages"
tickers = ["AAPL", "KO", "ZZZZ"]
start = "2014-01-01"

[[models]]
name = "logreg"

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"

[costs]
commission = [0.0, 0.001]
"""
REPORT_PORTFOLIO_TICKERS = ["KO", "MSFT", "AAPL", "IBM", "XOM"]


def _cli_run(root, *args) -> int:
    """`fcast --home ROOT/home ARGS...` offline (session fixtures run before the per-test
    home and offline switch are in place, so they are set here)."""
    from forecast.cli.app import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        mp.setenv("FCAST_HOME", str(root / "home"))
        return main(["--home", str(root / "home"), *map(str, args)])


@pytest.fixture(scope="session")
def experiment_output(tmp_path_factory):
    """`fcast experiment run --output`: 12 configurations, the 4 of unknown ZZZZ failing (exit
    1), with the pages of the 2 best configurations built beside the experiment's."""
    root = tmp_path_factory.mktemp("experiment_output")
    spec = root / "spec.toml"
    spec.write_text(REPORT_EXPERIMENT_SPEC)
    code = _cli_run(root, "experiment", "run", spec, "--source", "bundled", "--output", root / "out",
                    "--run-pages", "2")
    assert code == 1  # the failed rows
    return root / "out"


@pytest.fixture(scope="session")
def portfolio_output(tmp_path_factory):
    """`fcast portfolio --output` on five bundled tickers, long-short k=1, a year of tests."""
    root = tmp_path_factory.mktemp("portfolio_output")
    code = _cli_run(root, "portfolio", *REPORT_PORTFOLIO_TICKERS, "--source", "bundled",
                    "--start", "2013-01-01", "--model", "logreg", "--strategy", "long-short",
                    "--param", "k=1", "--test-days", "252", "--output", root / "out")
    assert code == 0
    return root / "out"


@pytest.fixture(scope="session")
def tune_output(tmp_path_factory):
    """`fcast tune AAPL --model logreg --trials 5 --output` on bundled data: 2 folds of 63
    test days; returns (the output folder, the home the run was recorded in)."""
    root = tmp_path_factory.mktemp("tune_output")
    code = _cli_run(root, "tune", "AAPL", "--model", "logreg", "--trials", "5", "--source", "bundled",
                    "--start", "2014-01-01", "--window", "5", "--test-days", "126", "--retrain-every", "63",
                    "--output", root / "out")
    assert code == 0
    return root / "out", root / "home"


@pytest.fixture(scope="session")
def backtest_output(tmp_path_factory):
    """`fcast backtest AAPL --model logreg --output` from 2012 on bundled data."""
    root = tmp_path_factory.mktemp("backtest_output")
    code = _cli_run(root, "backtest", "AAPL", "--source", "bundled", "--model", "logreg",
                    "--start", "2012-01-01", "--output", root / "out")
    assert code == 0
    return root / "out"
