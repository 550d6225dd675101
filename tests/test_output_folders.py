"""`--output DIR` is complete or absent: a full disk (simulated, and a real 256 KB tmpfs
when mounting is possible), a failing page or Ctrl-C leave DIR as it was, with nothing
beside it, and exit non-zero in one line; `--force` replaces fcast's own files as a whole
and keeps the user's; run.json records the absolute output path."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from cli_run import run

import forecast.atomic
from forecast.output_dir import MANIFEST, output_folder
from forecast.runs import list_runs

BACKTEST = ["backtest", "KO", "--model", "logreg", "--source", "bundled", "--start", "2015-01-01"]
EXPERIMENT = """\
name = "disk"
tickers = ["AAPL"]
start = "2014-01-01"

[[models]]
name = "logreg"

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"
"""




def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    """Anything fcast left beside `name` in `parent` (temporary or set-aside folders)."""
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


@pytest.fixture
def full_disk(monkeypatch):
    """`full_disk("predictions.csv")`: writing a file of that name writes half of it, then
    fails as a full disk does (ENOSPC), whichever writer it goes through."""

    def arm(name: str):
        def fail(path, text: bytes):
            with open(path, "wb") as f:
                f.write(text[: len(text) // 2])  # cut mid-file, as a full disk leaves it
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        real_csv, real_atomic, real_text = pd.DataFrame.to_csv, forecast.atomic.write_atomic, Path.write_text

        def to_csv(self, path=None, *args, **kwargs):
            if path is not None and Path(path).name == name:
                fail(path, real_csv(self, None, *args, **kwargs).encode())
            return real_csv(self, path, *args, **kwargs)

        def write_atomic(path, content, **kwargs):
            if Path(path).name == name:
                fail(path, content if isinstance(content, bytes) else b"x" * 100)
            return real_atomic(path, content, **kwargs)

        def write_text(self, data, *args, **kwargs):
            if self.name == name:
                fail(self, data.encode())
            return real_text(self, data, *args, **kwargs)

        monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
        monkeypatch.setattr(forecast.atomic, "write_atomic", write_atomic)
        monkeypatch.setattr(Path, "write_text", write_text)

    return arm


# --- a full disk ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["metrics.json", "predictions.csv", "report.html"])
def test_a_full_disk_during_a_backtest_leaves_no_output(name, tmp_path, capsys, full_disk):
    full_disk(name)
    target = tmp_path / "out"
    code, _, err = run(capsys, *BACKTEST, "--output", target)
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"error: --output {target} not written") and name in line
    assert "No space left on device" in line and "Traceback" not in err
    assert not target.exists() and leftovers(tmp_path, "out") == []
    assert list_runs() == []  # nothing recorded points at an output that is not there


@pytest.mark.slow
def test_a_full_disk_under_force_leaves_the_old_output_as_it_was(tmp_path, capsys, full_disk):
    target = tmp_path / "out"
    assert run(capsys, *BACKTEST, "--no-plot", "--output", target)[0] == 0
    (target / "notes.txt").write_text("mine")
    before = tree(target)
    full_disk("trades.csv")
    code, _, err = run(capsys, "backtest", "MSFT", *BACKTEST[2:], "--output", target, "--force")
    assert code == 1 and "trades.csv" in err and "No space left on device" in err
    assert tree(target) == before and leftovers(tmp_path, "out") == []


@pytest.mark.slow
def test_a_full_disk_during_a_portfolio_leaves_no_output(tmp_path, capsys, full_disk):
    full_disk("predictions.csv")
    target = tmp_path / "out"
    code, _, err = run(capsys, "portfolio", "KO", "MSFT", "IBM", "--source", "bundled",
                       "--start", "2013-01-01", "--model", "logreg", "--param", "k=1",
                       "--test-days", "252", "--output", target)
    assert code == 1 and "predictions.csv" in err and "No space left on device" in err
    assert not target.exists() and leftovers(tmp_path, "out") == [] and list_runs() == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["trials.csv", "report.html"])
def test_a_full_disk_during_a_tuning_run_leaves_no_output(name, tmp_path, capsys, full_disk):
    full_disk(name)
    target = tmp_path / "out"
    code, _, err = run(capsys, "tune", "KO", "--model", "logreg", "--trials", "2", "--source", "bundled",
                       "--start", "2015-01-01", "--window", "5", "--test-days", "63", "--output", target)
    assert code == 1 and name in err and "No space left on device" in err and "Traceback" not in err
    assert not target.exists() and leftovers(tmp_path, "out") == [] and list_runs() == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report.html", "results.csv"])
def test_a_full_disk_during_an_experiment_fails_it(name, tmp_path, capsys, full_disk):
    """Before: the page failures were warnings, then "wrote DIR" and exit 0."""
    spec = tmp_path / "disk.toml"
    spec.write_text(EXPERIMENT)
    full_disk(name)
    target = tmp_path / "out"
    code, out, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target)
    assert code == 1 and "wrote" not in out
    assert err.strip().splitlines()[-1].startswith(f"error: --output {target} not written")
    assert name in err and "No space left on device" in err
    assert not target.exists() and leftovers(tmp_path, "out") == [] and list_runs() == []


def test_a_page_that_cannot_be_built_fails_the_output(tmp_path, capsys, monkeypatch):
    import forecast.report as report

    def broken(folder, **options):
        raise ValueError("no page today")

    monkeypatch.setattr(report, "build_report", broken)
    target = tmp_path / "out"
    code, _, err = run(capsys, *BACKTEST, "--output", target)
    assert code == 1 and "report.html" in err and "ValueError: no page today" in err
    assert not target.exists() and leftovers(tmp_path, "out") == []


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 256 KB tmpfs (needs root and a kernel that lets this process mount)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.slow
def test_a_real_full_filesystem_leaves_no_output(tiny_filesystem, capsys):
    target = tiny_filesystem / "out"
    code, _, err = run(capsys, *BACKTEST, "--output", target)  # report.html alone is ~300 KB
    assert code == 1 and "No space left on device" in err and err.strip().count("\n") == 0
    assert list(tiny_filesystem.iterdir()) == []


# --- --force ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_force_replaces_fcasts_files_and_keeps_the_users(tmp_path, capsys):
    target = tmp_path / "out"
    assert run(capsys, *BACKTEST, "--output", target)[0] == 0
    assert (target / "equity.png").is_file()
    (target / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "backtest", "MSFT", *BACKTEST[2:], "--no-plot", "--output", target, "--force")
    assert code == 0, err
    assert not (target / "equity.png").exists()  # KO's plot went with KO's results
    assert json.loads((target / "metrics.json").read_text())["ticker"] == "MSFT"
    assert (target / "notes.txt").read_text() == "mine"
    listed = json.loads((target / MANIFEST).read_text())["files"]
    assert sorted(listed) == sorted(p.name for p in target.iterdir() if p.name not in ("notes.txt", MANIFEST))
    assert leftovers(tmp_path, "out") == []


@pytest.mark.slow
def test_force_on_an_experiment_drops_the_old_run_folders(tmp_path, capsys):
    spec = tmp_path / "disk.toml"
    spec.write_text(EXPERIMENT)
    target = tmp_path / "out"
    assert run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target)[0] == 0
    old_runs = {p.name for p in (target / "runs").iterdir()}
    assert len(old_runs) == 2
    (target / "notes.txt").write_text("mine")
    (target / "runs" / "README.txt").write_text("my notes on the runs")
    spec.write_text(EXPERIMENT.replace('name = "long-only"', 'name = "buy-and-hold"'))
    code, _, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target,
                       "--force")
    assert code == 0, err
    doc = json.loads((target / "experiment.json").read_text())
    new_runs = {Path(r["run"]).name for r in doc["rows"]}
    assert {p.name for p in (target / "runs").iterdir()} == new_runs | {"README.txt"}
    assert "001-AAPL-logreg-long-short" in new_runs and not any("long-only" in r for r in new_runs)
    assert (target / "notes.txt").read_text() == "mine"


def test_force_on_a_folder_without_a_manifest_replaces_files_named_as_fcasts(tmp_path):
    """A folder written before manifests: the files named as fcast's outputs are its."""
    target = tmp_path / "out"
    (target / "KO").mkdir(parents=True)
    for name in ("metrics.json", "equity.png", "notes.txt", "KO/metrics.json", "KO/mine.csv"):
        (target / name).write_text("old")
    with output_folder(target, force=True) as tmp:
        (tmp / "metrics.json").write_text("new")
    assert tree(target) == {MANIFEST: (target / MANIFEST).read_bytes(), "metrics.json": b"new",
                            "notes.txt": b"old", "KO/mine.csv": b"old"}


def test_a_manifest_never_reaches_outside_its_folder(tmp_path):
    target, outside = tmp_path / "out", tmp_path / "precious.txt"
    target.mkdir()
    outside.write_text("keep")
    (target / MANIFEST).write_text(json.dumps({"files": ["../precious.txt", str(outside)]}))
    with output_folder(target, force=True) as tmp:
        (tmp / "metrics.json").write_text("new")
    assert outside.read_text() == "keep"


def test_a_replace_that_fails_halfway_is_undone(tmp_path, monkeypatch):
    """--force: a rename failing after some old files went out and new ones came in puts
    every old file back; the target is byte for byte what it was."""
    import forecast.output_dir as output_dir

    target = tmp_path / "out"
    with output_folder(target) as tmp:
        for name in ("metrics.json", "equity.png", "runs/000-a/metrics.json"):
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text("old " + name)
    (target / "notes.txt").write_text("mine")
    before = tree(target)
    real = os.rename

    def failing(src, dst):
        if Path(src).parent.name == "000-b":  # the last new file: the others, and its folder, are in
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)

    monkeypatch.setattr(output_dir.os, "rename", failing)
    with pytest.raises(Exception, match="Input/output error"):
        with output_folder(target, force=True) as tmp:
            for name in ("metrics.json", "runs/000-b/metrics.json", "results.csv"):
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_text("new")
    assert tree(target) == before and leftovers(tmp_path, "out") == []
    assert sorted(p.name for p in (target / "runs").iterdir()) == ["000-a"]


# --- failures, interruptions, leftovers -------------------------------------------------------


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failure_inside_leaves_the_target_as_it_was(exc, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "metrics.json").write_text("old")
    with pytest.raises(type(exc)):
        with output_folder(target, force=True) as tmp:
            (tmp / "metrics.json").write_text("new")
            raise exc
    assert tree(target) == {"metrics.json": b"old"} and leftovers(tmp_path, "out") == []


def test_a_killed_runs_temporary_folder_is_removed_by_the_next(tmp_path):
    stale = tmp_path / ".out.fcast-tmp-4194305-abc123"  # above any pid_max (2**22): no such process
    (stale / "out").mkdir(parents=True)
    mine = tmp_path / f".out.fcast-tmp-{os.getpid()}-live"  # a running process's: kept
    mine.mkdir()
    with output_folder(tmp_path / "out") as tmp:
        (tmp / "metrics.json").write_text("new")
    assert not stale.exists() and mine.exists()


@pytest.mark.slow
def test_run_json_records_the_absolute_output_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "disk.toml").write_text(EXPERIMENT)
    code, _, err = run(capsys, *BACKTEST, "--no-plot", "--output", "out")
    assert code == 0, err
    code, _, err = run(capsys, "experiment", "run", "disk.toml", "--source", "bundled", "--output", "exp")
    assert code == 0, err
    expected = [str((tmp_path / name).resolve()) for name in ("out", "exp")]
    assert [doc["output"] for doc in list_runs()] == expected
