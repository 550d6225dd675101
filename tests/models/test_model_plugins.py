"""Models as plug-ins: a user's classifier by `file.py:Class` / `module:Class`, and a new
Keras model that is one class, with everything else derived from that class."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval
from user_model_source import USER_MODEL  # shared with tests/cli

from forecast.cli.progress import training_progress
from forecast.data.synthetic import ar1_bars
from forecast.errors import ConfigError, StoreError
from forecast.evaluate import walk_forward
from forecast.models.keras_base import KerasForecaster
from forecast.models.persistence import read_sidecar
from forecast.models.registry import (
    is_keras_model,
    make_model,
    model_kind,
    model_name,
    model_reference,
    resolve_model,
)
from forecast.training import load_trained, predict, save_trained, train_model

SMALL = dict(window=5, test_days=150, retrain_every=50, min_train=200)


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(USER_MODEL)
    return path


def test_user_file_model_runs_walk_forward_like_an_instance(user_file):
    bars = ar1_bars(700, phi=0.8, seed=2)
    ref = f"{user_file}:LastRow"
    by_ref = walk_forward(bars, ref, model_params={"C": 0.5}, **SMALL)
    by_instance = walk_forward(bars, resolve_model(ref)(C=0.5), **SMALL)
    assert by_ref.attrs["model"] == ref
    assert len(by_ref) > 100 and by_ref["prob_up"].between(0, 1).all()
    np.testing.assert_array_equal(by_ref["prob_up"], by_instance["prob_up"])
    # An AR(1) with phi 0.8 has direction skill; the last-row model finds it.
    scored = by_ref.dropna(subset=["actual_up"])
    assert ((scored["prob_up"] > 0.5) == (scored["actual_up"] == 1)).mean() > 0.6


def test_user_module_model(tmp_path, monkeypatch):
    (tmp_path / "my_pkg_models.py").write_text(USER_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    model = make_model("my_pkg_models:LastRow", C=0.25)
    assert type(model).__name__ == "LastRow" and model.C == 0.25
    assert model_kind(type(model)) == "model" and not is_keras_model("my_pkg_models:LastRow")
    assert clone(model).get_params() == {"C": 0.25, "random_state": None}


@pytest.mark.parametrize(
    "ref, message",
    [
        ("missing_dir/nowhere.py:LastRow", "model file not found: missing_dir/nowhere.py"),
        ("no_such_module_xyz:LastRow", "cannot import model module 'no_such_module_xyz': ModuleNotFound"),
        ("{file}:Missing", "has no class 'Missing'"),
        ("{file}:NoProba", "NoProba is not a scikit-learn classifier: it needs fit, predict_proba"),
        ("{file}:NOT_A_CLASS", "is not a scikit-learn classifier"),
        ("{file}:NeedsArgs", "cannot build model {file}:NeedsArgs with its defaults: TypeError"),
        ("{bad}:LastRow", "cannot import model file {bad}: ZeroDivisionError: division by zero"),
        ("prophet", "unknown model 'prophet'; choose one of: mlp, lstm"),
        ("", "model must be a name"),
    ],
)
def test_bad_model_references_are_one_config_error_line(tmp_path, user_file, ref, message):
    bad = tmp_path / "broken.py"
    bad.write_text("1 / 0\n")
    ref, message = (s.format(file=user_file, bad=bad) for s in (ref, message))
    with pytest.raises(ConfigError) as err:
        make_model(ref)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_user_model_is_named_by_a_reference_that_imports_it_again(user_file, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="LastRow is not a registered model"):
        model_name(make_model(f"{user_file}:LastRow"))
    monkeypatch.chdir(tmp_path)
    relative = make_model(f"{user_file.name}:LastRow")  # the file named from its folder
    assert model_reference(relative) == f"{user_file.resolve()}:LastRow"
    (tmp_path / "my_pkg_models2.py").write_text(USER_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert model_reference(make_model("my_pkg_models2:LastRow")) == "my_pkg_models2:LastRow"
    assert model_reference(make_model("logreg")) == "logreg"

    class Local(LogisticRegression):
        pass

    with pytest.raises(ConfigError, match="cannot be imported again"):
        model_reference(Local())


def _trained_user_model(ref):
    return train_model(ar1_bars(400, phi=0.8, seed=2), ref, model_params={"C": 0.5}, window=5)


def test_a_trained_user_model_saves_and_loads(user_file, tmp_path):
    ref = f"{user_file}:LastRow"
    trained = _trained_user_model(ref)
    sidecar = save_trained(trained, tmp_path / "saved" / "last-row")
    side = read_sidecar(sidecar)
    assert side["model"] == f"{user_file.resolve()}:LastRow" and side["params"]["C"] == 0.5
    loaded = load_trained(tmp_path / "saved" / "last-row")
    assert type(loaded.model).__name__ == "LastRow" and loaded.name == side["model"]
    later = ar1_bars(500, phi=0.8, seed=2)
    np.testing.assert_array_equal(predict(trained, later)["prob_up"], predict(loaded, later)["prob_up"])


def test_a_saved_user_model_whose_class_is_gone_fails_in_one_line(user_file, tmp_path):
    save_trained(_trained_user_model(f"{user_file}:LastRow"), tmp_path / "m")
    user_file.write_text(USER_MODEL.replace("LastRow", "Renamed"))
    gone = "needs .*LastRow, which no longer loads: .* has no class 'LastRow'"
    with pytest.raises(StoreError, match=gone) as err:
        load_trained(tmp_path / "m")
    assert "\n" not in str(err.value)
    user_file.unlink()
    with pytest.raises(StoreError, match="which no longer loads: model file not found") as err:
        load_trained(tmp_path / "m")
    assert "\n" not in str(err.value)


def test_unknown_parameter_of_a_user_model_lists_its_parameters(user_file):
    expected = r"unknown parameter\(s\) for model '.*:LastRow': epochs; valid: C, random_state"
    with pytest.raises(ConfigError, match=expected):
        make_model(f"{user_file}:LastRow", epochs=3)


@pytest.mark.slow
def test_progress_follows_the_class_not_a_list_of_names(user_file):
    assert is_keras_model("mlp") and is_keras_model("lstm") and not is_keras_model("gbm")
    assert is_keras_model(f"{user_file}:KerasLike")  # fit takes callbacks
    with training_progress("t", enabled=True) as progress:
        assert progress.keras_callbacks("logreg") is None
        assert len(progress.keras_callbacks(f"{user_file}:KerasLike")) == 1
    with training_progress("t", enabled=False) as progress:
        assert progress.keras_callbacks("not-even-a-model") is None  # never resolved


@dataclass(eq=False, repr=False, kw_only=True)
class TinyDense(KerasForecaster):
    """One dense layer on the latest row."""

    width: int = 4

    _parameter_constraints = {
        **KerasForecaster._parameter_constraints,
        "width": [Interval(Integral, 1, None, closed="left")],
    }

    def _prepare(self, X):
        return X[:, -1, :]

    def _build_network(self, keras, input_shape, dtype):
        inputs = keras.Input(shape=input_shape)
        hidden = keras.layers.Dense(self.width, activation="relu", dtype=dtype)(inputs)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", dtype="float32")(hidden))


@pytest.mark.slow
def test_a_new_keras_model_is_one_class():
    assert is_keras_model(TinyDense) and model_kind(TinyDense) == "model"
    model = make_model(TinyDense, width=3, epochs=2, seed=1)
    assert clone(model).get_params() == model.get_params()
    assert {"width", "epochs", "dropout", "validation_gap"} <= set(model.get_params())
    with pytest.raises(ConfigError, match="model TinyDense: width must be"):
        make_model(TinyDense, width=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3, 2))
    proba = model.fit(X, (X[:, -1, 0] > 0).astype(int)).predict_proba(X)
    assert proba.shape == (80, 2) and model.n_epochs_ == 2
