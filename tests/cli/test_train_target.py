"""`fcast train` checks where it will save before it trains: an existing model is replaced
only with --force, and a target it cannot write fails at once (issue 20, items 14, 15)."""

from __future__ import annotations

import json
import os
import tempfile

from cli_run import run

import forecast.api
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars

TRAIN = ["train", "SYN", "--model", "logreg", "--end", "2014-06-30"]


def _store():
    Store().write(random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")
    return Store().home / "models" / "SYN-logreg"


def test_train_refuses_to_replace_a_saved_model_without_force(capsys, count_calls):
    folder = _store()
    code, _, err = run(capsys, *TRAIN)
    assert code == 0, err
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    trained = count_calls(forecast.api, "train")
    code, _, err = run(capsys, *TRAIN, "--start", "2013-01-02")
    assert code == 1 and err.strip().count("\n") == 0
    assert f"a model is already saved at {folder}; use --force to replace it" in err
    assert trained == [] and {p.name: p.read_bytes() for p in folder.iterdir()} == saved
    code, out, err = run(capsys, *TRAIN, "--start", "2013-01-02", "--force")
    assert code == 0, err
    assert len(trained) == 1 and str(folder) in out
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 and "manifest.json" in files and not set(files) & set(saved) - {"manifest.json"}


def test_train_refuses_a_folder_of_other_files(capsys, tmp_path):
    _store()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    code, _, err = run(capsys, *TRAIN, "--save", tmp_path / "docs")
    assert code == 1 and f"{tmp_path / 'docs'} holds other files" in err


def test_train_into_a_read_only_home_fails_before_training(capsys, monkeypatch, count_calls):
    folder = _store()
    models = folder.parent
    models.mkdir()
    trained = count_calls(forecast.api, "train")
    os.chmod(models, 0o555)
    try:
        if os.access(models, os.W_OK):  # root ignores the mode: fail as others would
            def denied(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", denied)
        code, _, err = run(capsys, *TRAIN)
    finally:
        os.chmod(models, 0o755)
    assert code == 1 and err.strip().count("\n") == 0 and "unexpected" not in err, err
    assert f"cannot save the model to {folder}: {models} is not writable (Permission denied)" in err
    assert trained == []


def test_force_replaces_a_model_saved_by_an_older_fcast(capsys):
    """A format-1 model (`<stem>.json` beside a joblib pickle) counts as saved there; --force
    replaces it with a model folder and removes the pickle."""
    folder = _store()
    folder.parent.mkdir()
    legacy = [folder.parent / "SYN-logreg.json", folder.parent / "SYN-logreg.20250101T000000-abcdef12.joblib"]
    legacy[0].write_text(json.dumps({"format_version": 1, "model": "logreg", "artifact": legacy[1].name}))
    legacy[1].write_bytes(b"pickle")
    code, _, err = run(capsys, *TRAIN)
    assert code == 1 and "a model is already saved at" in err
    code, _, err = run(capsys, *TRAIN, "--force")
    assert code == 0, err
    assert not any(p.exists() for p in legacy) and (folder / "manifest.json").is_file()
