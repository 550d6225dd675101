"""`fcast data ...` as a user runs it: tables on success, one line and exit 1 on failure."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars


@pytest.fixture
def csv_file(tmp_path):
    frame = random_walk_bars(50, seed=7).rename(columns=str.title)
    frame.index.name = "Date"
    path = tmp_path / "bars.csv"
    frame.to_csv(path)
    return path


def test_import_then_show_and_list(capsys, csv_file):
    code, out, _ = run(capsys, "data", "import", "aapl", str(csv_file))
    assert code == 0 and "AAPL" in out and "50" in out
    code, out, _ = run(capsys, "data", "show", "AAPL", "--tail", "3")
    assert code == 0 and out.count("\n│ 20") == 3
    code, out, _ = run(capsys, "data", "list")
    assert code == 0 and "AAPL" in out


def test_import_bad_file_one_line_and_store_untouched(capsys, csv_file, tmp_path):
    assert run(capsys, "data", "import", "AAPL", str(csv_file))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary")
    code, out, err = run(capsys, "data", "import", "AAPL", str(bad))
    assert code == 1
    assert err.startswith("error: AAPL") and err.count("\n") == 1
    assert "Traceback" not in err
    assert len(Store().read("AAPL")) == 50


def test_fetch_without_network_is_one_line(capsys):
    code, _, err = run(capsys, "data", "fetch", "AAPL")
    assert code == 1
    assert "cannot reach Yahoo Finance" in err and err.count("\n") == 1


def test_traversal_ticker_refused(capsys, csv_file, isolated_home):
    code, _, err = run(capsys, "data", "import", "../evil", str(csv_file))
    assert code == 1 and "invalid ticker" in err
    assert not (isolated_home.parent / "evil.parquet").exists()


def test_show_unknown_ticker_names_ways_out(capsys):
    code, _, err = run(capsys, "data", "show", "ZZZZ")
    assert code == 1 and "fcast data import ZZZZ" in err


def test_sample_lists_offline_series(capsys):
    code, out, _ = run(capsys, "data", "sample")
    assert code == 0 and "^GSPC" in out and "^IXIC" in out


def test_show_sample_ticker(capsys):
    code, out, _ = run(capsys, "data", "show", "^GSPC", "--source", "sample", "--tail", "2")
    assert code == 0 and "2018-12-31" in out


@pytest.mark.slow
def test_debug_shows_traceback(csv_file, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "forecast", "--debug", "data", "import", "X", str(bad)],
        capture_output=True, text=True,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_unknown_command_is_usage_error(capsys):
    code, _, _ = run(capsys, "data", "frobnicate")
    assert code == 2


def test_store_content_after_import_matches_file(capsys, csv_file):
    run(capsys, "data", "import", "X", str(csv_file))
    stored = Store().read("X")
    original = pd.read_csv(csv_file, index_col=0, parse_dates=True)
    assert (stored["close"].to_numpy() == original["Close"].to_numpy()).all()
