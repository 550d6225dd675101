"""An experiment interrupted (Ctrl-C) while writing --output DIR leaves DIR as it was; the
same command run again resumes from the prediction cache and writes what an uninterrupted
run writes; a different spec into the finished DIR is still refused without --force."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cli_run import run

import forecast.experiment.executors as executors

SPEC = """\
name = "resume"
tickers = ["AAPL", "KO"]
start = "2014-01-01"

[[models]]
name = "logreg"

[[strategies]]
name = "long-only"

[[strategies]]
name = "long-short"
"""




def written(folder) -> dict[str, bytes]:
    """The run folders' data files (pages and manifests aside: they name ids and times)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "runs").rglob("*"))
            if p.is_file() and p.suffix in (".csv", ".json")}


@pytest.mark.slow
def test_an_interrupted_experiment_resumes_into_the_same_folder(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "resume.toml"
    spec.write_text(SPEC)
    target = tmp_path / "out"
    real = executors.compute_predictions
    started = []

    def second_is_interrupted(*args, **kwargs):
        started.append(1)
        if len(started) == 2:  # KO's walk-forward: AAPL's is done, cached and written
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(executors, "compute_predictions", second_is_interrupted)
    code, _, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target)
    assert code == 130  # interrupted
    assert not target.exists()  # no partial run folders
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    monkeypatch.setattr(executors, "compute_predictions", real)

    code, _, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target)
    assert code == 0, err
    assert "1 from the prediction cache, 1 to train" in err  # AAPL's run was not trained again

    reference = tmp_path / "reference"
    code, _, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", reference)
    assert code == 0, err
    assert written(target) == written(reference) and len(written(target)) >= 4 * 4
    resumed, whole = (pd.read_csv(f / "results.csv").drop(columns="cache") for f in (target, reference))
    pd.testing.assert_frame_equal(resumed, whole)
    rows = [json.loads((f / "experiment.json").read_text())["rows"] for f in (target, reference)]
    assert [{k: v for k, v in r.items() if k != "cache"} for r in rows[0]] == [
        {k: v for k, v in r.items() if k != "cache"} for r in rows[1]]

    spec.write_text(SPEC.replace('"AAPL", "KO"', '"AAPL"'))
    code, out, err = run(capsys, "experiment", "run", spec, "--source", "bundled", "--output", target)
    assert code == 1 and out == "" and "not empty" in err and "--force" in err
