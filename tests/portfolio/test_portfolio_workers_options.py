"""`fcast portfolio --workers/--ray-address` refused in one line before anything trains, and
never reaching Ray at all for that (no cluster is started here)."""

from __future__ import annotations

import pytest

from forecast.cli.app import main

ARGS = ["portfolio", "KO", "MSFT", "AAPL", "--source", "bundled", "--param", "k=1"]


@pytest.mark.parametrize(("extra", "code", "message"), [
    (["--workers", "0"], 2, "Invalid value for '--workers'"),
    (["--workers", "-1"], 2, "Invalid value for '--workers'"),
    (["--workers", "2", "--ray-address", "auto"], 2, "give --workers or --ray-address, not both"),
    # a port nothing listens on: refused at once, not after Ray's minutes of retries
    (["--ray-address", "127.0.0.1:1"], 1, "cannot reach the Ray cluster at 127.0.0.1:1"),
])
def test_bad_worker_options_are_one_line_and_a_non_zero_exit(capsys, extra, code, message):
    assert main([*ARGS, *extra]) == code
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.startswith("error")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
