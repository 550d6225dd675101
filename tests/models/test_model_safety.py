"""A saved model folder loads without running anyone's code: pickles are refused before
anything is read, file hashes are checked, skops files may hold only allow-listed types,
and decision trees are bounds-checked (issue 20, item 5)."""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import StoreError
from forecast.models.persistence import load_model, model_dir, save_model
from forecast.models.registry import make_model
from forecast.models.safety import sha256


def rehash(path) -> None:
    """Rewrite the manifest's hashes to the files' current ones, as an attacker who swaps a
    model file can: the hash check then passes and the file format must hold."""
    folder = model_dir(path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {name: sha256(folder / name) for name in manifest["files"]}
    (folder / "manifest.json").write_text(json.dumps(manifest))


class Payload:
    """Unpickling this creates `marker`: stands for any code a pickle can run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)




@pytest.fixture
def trained(capsys, tmp_path):
    """A logreg saved by `fcast train` at tmp_path/models/syn-lr; returns its path."""
    Store().write(random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")
    path = tmp_path / "models" / "syn-lr"
    code, _, err = run(capsys, "train", "SYN", "--model", "logreg", "--end", "2014-06-30", "--save", path)
    assert code == 0, err
    return path


def _model_files(path):
    """Every file `fcast train` wrote for the model at `path` except its JSON (any layout)."""
    return [p for p in path.parent.rglob("*") if p.is_file() and p.suffix != ".json"
            and (p.parent == path or p.name.startswith(f"{path.name}."))]


def _backtest(capsys, path):
    return run(capsys, "backtest", "SYN", "--model-path", path, "--start", "2014-07-01", "--no-plot")


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["swap", "swap-and-rehash", "extra-pickle"])
def test_a_pickle_put_into_a_saved_model_runs_no_code(capsys, tmp_path, trained, attack):
    marker = tmp_path / "pwned"
    crafted = pickle.dumps(Payload(marker))
    files = _model_files(trained)
    assert files
    if attack == "extra-pickle":
        (files[0].parent / "model.joblib").write_bytes(crafted)
    else:
        for path in files:
            path.write_bytes(crafted)
        if attack == "swap-and-rehash":
            rehash(trained)
    code, _, err = _backtest(capsys, trained)
    assert not marker.exists(), "the crafted pickle ran"
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err, err
    expected = {"swap": "does not match the SHA-256", "swap-and-rehash": "not a readable skops model file",
                "extra-pickle": "model.joblib: pickle files can run any code"}[attack]
    assert expected in err


def test_a_model_saved_by_an_older_fcast_as_a_pickle_is_refused_unread(capsys, tmp_path):
    """Format 1: `<stem>.json` beside `<stem>.<id>.joblib`."""
    Store().write(random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")
    marker = tmp_path / "pwned"
    stem = tmp_path / "models" / "SYN-logreg"
    stem.parent.mkdir()
    pickled = "SYN-logreg.20250101T000000-abcdef12.joblib"
    (stem.parent / pickled).write_bytes(pickle.dumps(Payload(marker)))
    sidecar = {"format_version": 1, "model": "logreg", "artifact": pickled, "feature_spec": {},
               "window": 20, "pipeline_state": {}, "params": {},
               "train_start": "2012-01-02", "train_end": "2014-06-30"}
    stem.with_suffix(".json").write_text(json.dumps(sidecar))
    code, _, err = _backtest(capsys, stem)
    assert not marker.exists()
    assert code == 1 and err.count("\n") == 1
    assert "saved by an older fcast" in err and "retrain it" in err and "--force" in err


def test_a_modified_model_file_fails_the_hash_check_in_one_line(capsys, trained):
    (artifact,) = _model_files(trained)
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    code, _, err = _backtest(capsys, trained)
    assert code == 1 and err.count("\n") == 1
    assert f"model file {artifact} does not match the SHA-256 recorded when it was saved" in err


EVIL_MODULE = """
import pathlib
pathlib.Path({marker!r}).touch()  # importing this module is already running its code


class Evil:
    def __setstate__(self, state):
        pathlib.Path({marker!r}).touch()
"""


def _fitted(name, **params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4, 3))
    y = (X[:, -1, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    return make_model(name, **params).fit(X, y), X


def _resave(folder, obj) -> None:
    """Replace the folder's skops file by `obj` and rewrite the manifest's hash."""
    import skops.io as sio

    manifest = json.loads((folder / "manifest.json").read_text())
    sio.dump(obj, folder / manifest["artifact"])
    rehash(folder)


def test_a_skops_file_with_an_untrusted_type_is_refused_without_importing_it(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    (tmp_path / "evil_mod.py").write_text(EVIL_MODULE.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    import evil_mod

    model, _ = _fitted("logreg")
    save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    model.extra_ = evil_mod.Evil()
    _resave(tmp_path / "m", model)
    marker.unlink()
    monkeypatch.delitem(sys.modules, "evil_mod")
    with pytest.raises(StoreError) as err:
        load_model(tmp_path / "m")
    assert "needs type(s) fcast does not load from a model file: evil_mod.Evil" in str(err.value)
    assert "\n" not in str(err.value)
    assert not marker.exists() and "evil_mod" not in sys.modules


def test_a_gradient_boosting_tree_pointing_outside_itself_is_refused(tmp_path):
    model, X = _fitted("gbm", max_iter=5)
    save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    loaded, _ = load_model(tmp_path / "m")  # the real trees pass the check
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    nodes = model.estimator_._predictors[0][0].nodes
    assert nodes["is_leaf"][0] == 0
    nodes["left"][0] = 10**6  # scikit-learn would read far past the node array
    _resave(tmp_path / "m", model)
    with pytest.raises(StoreError, match="malformed decision tree"):
        load_model(tmp_path / "m")


TREE_MODEL = """
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier


class LastRowTree(ClassifierMixin, BaseEstimator):
    def __init__(self, max_depth=3):
        self.max_depth = max_depth

    def fit(self, X, y):
        self.tree_model_ = DecisionTreeClassifier(max_depth=self.max_depth, random_state=0)
        self.tree_model_.fit(np.asarray(X)[:, -1, :], y)
        self.classes_ = self.tree_model_.classes_
        return self

    def predict_proba(self, X):
        return self.tree_model_.predict_proba(np.asarray(X)[:, -1, :])
"""


def test_a_user_tree_model_round_trips_and_a_crafted_tree_is_refused(tmp_path):
    (tmp_path / "tree_model.py").write_text(TREE_MODEL)
    model, X = _fitted(f"{tmp_path / 'tree_model.py'}:LastRowTree")
    save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    loaded, _ = load_model(tmp_path / "m")
    assert type(loaded).__name__ == "LastRowTree"  # the user's file is imported again
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    tree = model.tree_model_.tree_
    state = tree.__getstate__()
    state["nodes"]["feature"][0] = 99  # the model has 3 features
    tree.__setstate__(state)
    _resave(tmp_path / "m", model)
    with pytest.raises(StoreError, match="malformed decision tree"):
        load_model(tmp_path / "m")


def test_a_model_holding_a_type_fcast_would_not_load_is_refused_when_saving(tmp_path):
    from fractions import Fraction

    from forecast.errors import ConfigError

    model, _ = _fitted("logreg")
    model.extra_ = Fraction(1, 3)  # not on skops's safe list
    with pytest.raises(ConfigError, match="holds type\\(s\\) fcast does not load from a model file: "
                                          "fractions.Fraction"):
        save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    assert not (tmp_path / "m" / "manifest.json").exists()


def _crafted_tree_inside_logreg(tmp_path, holder):
    """A saved logreg whose inner estimator is a tree model with a crafted Tree: the root
    splits on feature 10**8 of a model that has 3 (as a file from someone else can)."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.tree._tree import Tree

    model, X = _fitted("logreg")
    save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    rows, y = X[:, -1, :], model.estimator_.predict(X[:, -1, :])
    if holder == "tree-claiming-more-features":
        inner = DecisionTreeClassifier(max_depth=2, random_state=0).fit(rows, y)
        state = inner.tree_.__getstate__()
        state["nodes"]["feature"][0] = 10**8
        tree = Tree(2**31 - 1, np.array([2], dtype=np.intp), 1)  # "n_features" covers 10**8
        tree.__setstate__(state)
        inner.tree_ = tree
    else:  # gradient boosting keeps its trees in an object array
        inner = GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0).fit(rows, y)
        tree = inner.estimators_[0, 0].tree_
        state = tree.__getstate__()
        state["nodes"]["left_child"][0] = 10**9
        tree.__setstate__(state)
    model.estimator_ = inner
    _resave(tmp_path / "m", model)


@pytest.mark.parametrize("holder", ["tree-claiming-more-features", "trees-in-an-object-array"])
def test_a_crafted_tree_cannot_slip_past_the_bounds_check(tmp_path, holder):
    """Before: both loaded, and predicting crashed the process (segfault, exit 139)."""
    _crafted_tree_inside_logreg(tmp_path, holder)
    with pytest.raises(StoreError, match="malformed decision tree"):
        load_model(tmp_path / "m")


def test_a_manifest_that_is_no_regular_file_is_refused_without_reading_it(tmp_path):
    """A folder from someone else (a tar can carry it) whose manifest.json is a FIFO:
    before, loading blocked for ever on the read; a link to /dev/zero read without end."""
    import os
    import threading

    folder = tmp_path / "m"
    folder.mkdir()
    os.mkfifo(folder / "manifest.json")
    outcome = []

    def load():
        try:
            load_model(folder)
        except StoreError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():  # unblock the read so the thread can end, then fail
        os.close(os.open(folder / "manifest.json", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
        pytest.fail("loading a model whose manifest is a FIFO blocked")
    assert outcome == [f"{folder / 'manifest.json'} is not a regular file; fcast reads no other kind"]


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_skops_unpacks_it(tmp_path, monkeypatch):
    """A .skops file is a zip: one that declares 300 MiB from a few hundred KB is refused from
    its directory alone (skops is never asked to read it)."""
    import zipfile

    import skops.io as sio

    from forecast.errors import StoreError
    from forecast.models import safety

    bomb = tmp_path / "model-bomb.skops"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("schema.json", "w") as member:
            zeros = bytes(2**20)
            for _ in range(300):
                member.write(zeros)
    assert bomb.stat().st_size < 2 * 2**20
    monkeypatch.setattr(sio, "get_untrusted_types", lambda **_: pytest.fail("skops read the bomb"))
    with pytest.raises(StoreError, match="would unpack to 300 MiB"):
        safety.load_skops(bomb, [])


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_a_model_naming_code_inside_its_own_folder_is_refused_unrun(tmp_path, where):
    """Whoever sends a model folder can ship a .py beside it and name it in the manifest:
    that file is never imported (its import would touch a marker)."""
    import json

    from forecast.errors import StoreError
    from forecast.models.persistence import MANIFEST
    from forecast.models.safety import sha256

    (tmp_path / "tree_model.py").write_text(TREE_MODEL)
    model, _ = _fitted(f"{tmp_path / 'tree_model.py'}:LastRowTree")
    folder = tmp_path / "m"
    save_model(model, folder, {"feature_spec": {}, "window": 4})
    marker = tmp_path / "ran"
    (folder / "evil.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n" + TREE_MODEL)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["model"] = ("evil.py" if where == "relative" else str(folder / "evil.py")) + ":LastRowTree"
    manifest["files"]["evil.py"] = sha256(folder / "evil.py")  # the sender rehashes, as an attacker would
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="names code inside its own folder"):
        load_model(folder)
    assert not marker.exists()
