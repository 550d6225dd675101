"""Run records appear whole or not at all: a run killed while recording leaves no run in
`fcast runs list`, `fcast runs prune` removes what killed runs left, `fcast runs rm` deletes
runs by id (readable or not)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys

import pytest
from cli_run import run

from forecast import runs
from forecast.run_result import RunRecord
from forecast.runs import list_runs, record, runs_dir

FORK = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


class FakeResult:
    """A `RunResult` like a backtest's; `die` kills the process after metrics.json."""

    kind, title = "backtest", "KO: the run"

    def __init__(self, die: bool = False):
        self.die = die

    def to_dict(self) -> dict:
        return {"start": "2020-01-02", "end": "2020-12-31", "strategy": {"total_return": 0.1}}

    def run_record(self) -> RunRecord:
        summary = {"ticker": "KO", "model": "logreg", "strategy": "long-only", "seed": 0}
        return RunRecord(summary=summary, metrics=self.to_dict())

    def write(self, folder, plot=False):
        (folder / "metrics.json").write_text(json.dumps(self.to_dict()))
        if self.die:  # kill -9 mid-record: nothing after this line runs
            os.kill(os.getpid(), signal.SIGKILL)
        (folder / "equity.csv").write_text("date,strategy\n")


def _killed_mid_record(home: str) -> None:
    record(FakeResult(die=True), home=home)




def test_a_run_killed_while_recording_is_never_listed_and_prune_removes_it(isolated_home, capsys):
    kept = record(FakeResult(), home=isolated_home)
    child = FORK.Process(target=_killed_mid_record, args=(str(isolated_home),))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    left = [p for p in runs_dir(isolated_home).iterdir() if p != kept]
    assert len(left) == 1 and (left[0] / "metrics.json").is_file()  # the half record is on disk

    assert [r["id"] for r in list_runs()] == [kept.name] and "error" not in list_runs()[0]
    code, out, err = run(capsys, "runs", "list")
    assert code == 0 and kept.name in out and "unreadable" not in out + err

    code, out, _ = run(capsys, "runs", "prune", "--dry-run")
    assert code == 0 and "would remove" in out and "interrupted" in out and left[0].is_dir()
    code, out, _ = run(capsys, "runs", "prune")
    assert code == 0 and out.startswith("removed ") and "interrupted" in out
    assert sorted(runs_dir(isolated_home).iterdir()) == [kept]
    assert run(capsys, "runs", "prune")[1].startswith("nothing to prune")


def test_a_live_recording_is_left_alone(isolated_home, capsys):
    live = runs_dir(isolated_home) / f".20260101T000000000000Z-abcdef.{os.getpid()}.tmp"
    live.mkdir(parents=True)
    code, out, _ = run(capsys, "runs", "prune")
    assert code == 0 and out.startswith("nothing to prune") and live.is_dir()
    assert list_runs() == []


@pytest.fixture
def broken(isolated_home):
    """A readable run, one without run.json (killed by an older fcast), one missing a file."""
    good = record(FakeResult(), home=isolated_home)
    unreadable = runs_dir(isolated_home) / "20200101T000000000000Z-aaaaaa"
    unreadable.mkdir()
    (unreadable / "metrics.json").write_text("{}")
    incomplete = record(FakeResult(), home=isolated_home)
    (incomplete / "equity.csv").unlink()
    return good, unreadable, incomplete


def test_prune_removes_unreadable_and_incomplete_runs(broken, capsys):
    good, unreadable, incomplete = broken
    code, out, err = run(capsys, "runs", "list")
    assert code == 0 and "unreadable run.json" in out and "incomplete: equity.csv missing" in out
    assert "2 runs unreadable or incomplete" in err and "fcast runs prune" in err
    code, _, err = run(capsys, "runs", "show", unreadable.name)
    assert code == 1 and err.count("\n") == 1 and f"fcast runs rm {unreadable.name}" in err

    code, out, _ = run(capsys, "runs", "prune", "--dry-run")
    assert code == 0 and out.count("would remove") == 2 and "2 folders to remove" in out
    assert unreadable.is_dir() and incomplete.is_dir()
    code, out, _ = run(capsys, "runs", "prune")
    assert code == 0 and f"removed {unreadable.name}: unreadable" in out
    assert f"removed {incomplete.name}: incomplete" in out
    assert [r["id"] for r in list_runs()] == [good.name]
    assert sorted(runs_dir().iterdir()) == [good]


def test_rm_deletes_runs_by_id_or_prefix_readable_or_not(broken, capsys):
    good, unreadable, incomplete = broken
    code, _, err = run(capsys, "runs", "rm", good.name, "nope")
    assert code == 1 and err.startswith("error: no run 'nope'") and err.count("\n") == 1
    assert good.is_dir()  # nothing removed when any id is unknown
    code, out, err = run(capsys, "runs", "rm", good.name[:-2], unreadable.name)
    assert code == 0, err
    assert out.splitlines() == [f"removed run {good.name}", f"removed run {unreadable.name}"]
    assert [r["id"] for r in list_runs()] == [incomplete.name]
    assert sorted(runs_dir().iterdir()) == [incomplete]


def test_rm_on_a_read_only_home_is_one_line(broken, capsys, monkeypatch):
    good = broken[0]
    root = runs_dir()
    os.chmod(root, 0o555)
    try:
        if os.access(root, os.W_OK):  # root ignores the mode: fail as others would
            def denied(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(runs.os, "rename", denied)
        code, out, err = run(capsys, "runs", "rm", good.name)
        prune = run(capsys, "runs", "prune")
    finally:
        os.chmod(root, 0o755)
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err
    assert err.startswith(f"error: cannot remove run {good.name}") and "Permission denied" in err
    assert prune[0] == 1 and prune[2].count("\n") == 1 and "unexpected" not in prune[2]
    assert good.is_dir()


def test_a_recording_that_fails_leaves_nothing(isolated_home):
    class Failing(FakeResult):
        def write(self, folder, plot=False):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        record(Failing(), home=isolated_home)
    assert list(runs_dir(isolated_home).iterdir()) == []
