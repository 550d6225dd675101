"""Run records: every `fcast backtest` is kept under <home>/runs/<id>/, listed, shown and
compared; `--output` refuses a non-empty folder unless --force."""

from __future__ import annotations

import json

import pytest
from cli_run import run

from forecast.cli.app import main
from forecast.runs import list_runs, load_run, new_run_id, runs_dir

ARGS = ["backtest", "^GSPC", "--model", "logreg", "--source", "bundled", "--start", "2012-01-01"]






@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two identical backtests recorded in one home (the second served by the cache)."""
    home = tmp_path_factory.mktemp("runs_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("FCAST_HOME", str(home))
    mp.setenv("FCAST_OFFLINE", "1")
    try:
        for _ in range(2):
            assert main([*ARGS, "--no-plot"]) == 0
    finally:
        mp.undo()
    return home


@pytest.mark.slow
def test_every_backtest_is_recorded(two_runs, monkeypatch, capsys):
    monkeypatch.setenv("FCAST_HOME", str(two_runs))
    runs = list_runs()
    assert len(runs) == 2 and runs[0]["id"] < runs[1]["id"]
    first, second = runs
    for doc in runs:
        folder = runs_dir() / doc["id"]
        assert {"run.json", "metrics.json", "equity.csv", "trades.csv", "predictions.csv"} <= {
            p.name for p in folder.iterdir()}
        assert not (folder / "equity.png").exists()
        assert doc["ticker"] == "^GSPC" and doc["model"] == "logreg" and doc["strategy"] == "long-only"
        assert doc["seed"] == 0 and doc["command"]
        assert doc["versions"]["fcast"] and doc["versions"]["numpy"] and doc["versions"]["pandas"]
        assert len(doc["data"]["fingerprint"]) == 64
        assert doc["metrics"] == json.loads((folder / "metrics.json").read_text())
    assert first["cache"] == "miss" and second["cache"] == "hit"
    assert first["metrics"] == second["metrics"]
    assert first["data"]["fingerprint"] == second["data"]["fingerprint"]

    code, out, err = run(capsys, "runs", "list")
    assert code == 0, err
    assert first["id"] in out and second["id"] in out and "logreg" in out and "long-only" in out

    code, out, err = run(capsys, "runs", "show", first["id"])
    assert code == 0, err
    assert "total return" in out and "Sharpe" in out and first["id"] in out

    code, out, err = run(capsys, "runs", "show", first["id"][:-3])  # a unique prefix
    assert code == 0, err
    code, out, err = run(capsys, "runs", "compare", first["id"], second["id"])
    assert code == 0, err
    assert first["id"] in out and second["id"] in out and "total return" in out

    code, _, err = run(capsys, "runs", "show", "nope")
    assert code == 1 and err.startswith("error: no run 'nope'") and err.count("\n") == 1


def test_no_runs_yet(capsys):
    code, out, _ = run(capsys, "runs", "list")
    assert code == 0 and "no recorded runs" in out
    with pytest.raises(Exception, match="no run"):
        load_run("x")


def test_run_ids_sort_by_time_and_differ():
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50 and ids == sorted(ids, key=lambda i: i.split("-")[0])


@pytest.mark.slow
def test_non_empty_output_is_refused_before_any_training(capsys, tmp_path, folds):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    code, out, err = run(capsys, *ARGS, "--no-plot", "--output", out_dir)
    assert code == 1 and out == ""
    assert err.startswith("error: --output") and "not empty" in err and "--force" in err
    assert err.count("\n") == 1 and folds == []
    assert (out_dir / "notes.txt").read_text() == "mine" and list_runs() == []

    code, out, err = run(capsys, *ARGS, "--no-plot", "--output", out_dir, "--force")
    assert code == 0, err
    assert (out_dir / "metrics.json").is_file() and (out_dir / "notes.txt").is_file()
    (doc,) = list_runs()
    assert doc["output"] == str(out_dir)


@pytest.mark.slow
def test_empty_or_new_output_is_accepted(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "new"):
        code, _, err = run(capsys, *ARGS, "--no-plot", "--output", target)
        assert code == 0, err
        assert (target / "metrics.json").is_file()
    assert len(list_runs()) == 2
