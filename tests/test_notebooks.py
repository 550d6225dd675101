"""Execute every notebook in notebooks/ and check that they are committed without outputs.

Each notebook runs in a fresh IPython kernel started from *this* interpreter (a kernelspec
written to a temporary directory points at `sys.executable`), so a fresh clone needs no
`ipykernel install` step and a user-level `python3` kernelspec pointing at another Python
cannot be picked up by mistake. The kernel runs with cwd = notebooks/, MPLBACKEND=Agg,
TF_CPP_MIN_LOG_LEVEL=3, the per-test FCAST_HOME of conftest.py, and with outgoing socket
connections refused (a hidden first cell, not stored in the notebook), so a notebook that
tries to reach the network fails here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# No importorskip: `make test` installs the dev extras, so a missing notebook dependency
# is a broken install and must fail, not skip.
import ipykernel  # noqa: F401
import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellExecutionError

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # per cell; each notebook takes well under 3 minutes on a 2-core CPU
KERNEL_NAME = "python3"

# Runs first in the kernel, before the notebook's own cells; never written to the file.
NO_NETWORK_CELL = """\
import socket as _socket

def _refuse(*args, **kwargs):
    raise OSError("network access is disabled while the test suite runs notebooks")

_socket.create_connection = _refuse
_socket.socket.connect = _refuse
_socket.socket.connect_ex = _refuse
del _socket, _refuse

# yfinance downloads through curl_cffi, past the socket patch: stop it at fcast's boundary.
import forecast.data.yahoo as _yahoo

class _YahooReached(BaseException):  # not an Exception: fetch_yahoo cannot swallow it
    pass

def _no_yahoo(*args, **kwargs):
    raise _YahooReached("a notebook reached Yahoo Finance while the test suite ran it")

_yahoo._download = _no_yahoo
del _yahoo, _no_yahoo
"""


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A KernelSpecManager that knows only `python3` = this interpreter + ipykernel."""
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (fcast test)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    manager = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    assert manager.get_kernel_spec(KERNEL_NAME).argv[0] == sys.executable
    return manager


def _without_outputs_problems(nb) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count {cell.execution_count}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    problems = _without_outputs_problems(nb)
    assert not problems, f"{path.name} must be committed without outputs: " + "; ".join(problems)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, kernel_spec_manager, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(NO_NETWORK_CELL))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("PYTHONWARNINGS", "ignore::DeprecationWarning")

    class KernelManager(AsyncKernelManager):
        """nbclient's default manager, resolving kernels with our spec manager only."""

        def __init__(self, **kwargs):
            super().__init__(kernel_spec_manager=kernel_spec_manager, **kwargs)

    client = nbclient.NotebookClient(
        nb,
        kernel_manager_class=KernelManager,  # nbclient owns it, so shuts the kernel down
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=dict(os.environ))
    except CellExecutionError as exc:  # the message holds the cell source and the traceback
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    elapsed = time.perf_counter() - start
    print(f"{path.name}: executed in {elapsed:.0f} s")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: cell errors: {errors}"
