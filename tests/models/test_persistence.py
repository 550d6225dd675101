"""Saving and loading models: same probabilities back, wrong feature spec refused.

(Tampered, pickled and untrusted model files: tests/models/test_model_safety.py.)"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from test_model_safety import rehash

from forecast.errors import ConfigError, StoreError
from forecast.models.persistence import load_model, model_dir, read_sidecar, save_model
from forecast.models.registry import make_model

SPEC = {"features": ["ret_1", "vol_20", "rsi_14"], "lags": (1, 2), "scale": "robust"}


class SpecObject:
    """Stands in for forecast.features.FeatureSpec: anything with to_dict()."""

    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return dict(self._d)


def data(n=160, window=4, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, n_features))
    return X, (X[:, -1, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)


def metadata(**extra):
    return {
        "feature_spec": SpecObject(SPEC),
        "window": 4,
        "train_start": pd.Timestamp("2001-01-02"),
        "train_end": pd.Timestamp("2010-12-31"),
        "metrics": {"accuracy": np.float64(0.61), "log_loss": 0.66},
        **extra,
    }


FAST = {
    "mlp": dict(hidden_units=(8,), epochs=3, batch_size=32),
    "lstm": dict(units=(4,), epochs=2, batch_size=32),
    "logreg": dict(input_mode="flatten"),
    "gbm": dict(max_iter=10),
    "rf": dict(n_estimators=6, max_depth=4),
    "lgbm": dict(n_estimators=8, num_leaves=5),
    "majority": {},
    "momentum": {},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAST))
def test_round_trip_predicts_the_same_probabilities(tmp_path, name):
    X, y = data()
    model = make_model(name, **FAST[name]).fit(X[:120], y[:120])
    manifest = save_model(model, tmp_path / "runs" / f"syn_{name}", metadata())
    suffix = ".keras" if name in ("mlp", "lstm") else ".skops"
    assert manifest == tmp_path / "runs" / f"syn_{name}" / "manifest.json"
    assert [p.suffix for p in manifest.parent.iterdir() if p != manifest] == [suffix]

    loaded, sidecar = load_model(manifest, expected_spec=SPEC)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    # Bit-identical: the same weights, not merely close ones.
    np.testing.assert_array_equal(loaded.predict_proba(X[120:]), model.predict_proba(X[120:]))
    np.testing.assert_array_equal(loaded.predict(X[120:]), model.predict(X[120:]))
    assert sidecar["model"] == name and sidecar["window"] == 4


def _artifact(stem):
    """The model file a saved manifest names."""
    return model_dir(stem) / read_sidecar(stem)["artifact"]


def test_resave_replaces_the_model_file_and_keeps_one(tmp_path):
    X, y = data()
    save_model(make_model("logreg").fit(X[:60], y[:60]), tmp_path / "m", metadata(note="a"))
    first = _artifact(tmp_path / "m")
    save_model(make_model("logreg").fit(X, y), tmp_path / "m", metadata(note="b"))
    assert not first.exists() and _artifact(tmp_path / "m").exists()
    assert [p.name for p in (tmp_path / "m").glob("model-*")] == [_artifact(tmp_path / "m").name]


def test_failed_save_leaves_the_previous_model_whole(tmp_path, monkeypatch):
    """New weights must never sit beside an old sidecar (its train_end would lie)."""
    X, y = data()
    old = make_model("logreg").fit(X[:60], y[:60])
    save_model(old, tmp_path / "m", metadata(train_end="2003-01-24"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("forecast.atomic.os.replace", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        save_model(make_model("logreg").fit(X, y), tmp_path / "m", metadata(train_end="2006-11-24"))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    loaded, side = load_model(tmp_path / "m")
    assert side["train_end"].startswith("2003-01-24")
    np.testing.assert_allclose(loaded.predict_proba(X), old.predict_proba(X))


@pytest.mark.slow
def test_sidecar_contents(tmp_path):
    X, y = data()
    model = make_model("mlp", **FAST["mlp"]).fit(X, y)
    path = save_model(model, tmp_path / "m.keras", metadata(note="first run"))
    side = json.loads(path.read_text())
    assert side["model"] == "mlp" and side["kind"] == "model"
    baseline = save_model(make_model("majority").fit(X, y), tmp_path / "b", metadata())
    assert read_sidecar(baseline)["kind"] == "baseline"
    assert side["params"]["hidden_units"] == [8]
    assert side["feature_spec"] == {**SPEC, "lags": [1, 2]}
    assert side["train_start"] == "2001-01-02T00:00:00"
    assert side["train_end"] == "2010-12-31T00:00:00"
    assert side["metrics"] == {"accuracy": 0.61, "log_loss": 0.66}
    assert side["note"] == "first run"
    assert {"python", "numpy", "keras", "tensorflow", "scikit-learn"} <= set(side["versions"])
    artifact_hash = hashlib.sha256(_artifact(tmp_path / "m").read_bytes()).hexdigest()
    assert side["files"] == {side["artifact"]: artifact_hash}
    assert side["fitted"]["input_shape_"] == [4, 3]
    assert read_sidecar(tmp_path / "m") == side


def test_feature_spec_mismatch_is_refused(tmp_path):
    X, y = data()
    save_model(make_model("logreg").fit(X, y), tmp_path / "lr", metadata())
    load_model(tmp_path / "lr", expected_spec=SpecObject(SPEC), expected_window=4)  # matches
    other = {**SPEC, "scale": "zscore"}
    with pytest.raises(ConfigError, match=r"different feature spec \(differs in: scale\)"):
        load_model(tmp_path / "lr", expected_spec=other)
    with pytest.raises(ConfigError, match="differs in: lags"):
        load_model(tmp_path / "lr", expected_spec={**SPEC, "lags": [1, 2, 3]})
    with pytest.raises(ConfigError, match="uses window 4, expected 20"):
        load_model(tmp_path / "lr", expected_window=20)


@pytest.mark.slow
def test_keras_spec_mismatch_is_refused_before_loading(tmp_path):
    X, y = data()
    save_model(make_model("mlp", **FAST["mlp"]).fit(X, y), tmp_path / "mlp", metadata())
    _artifact(tmp_path / "mlp").write_bytes(b"not a zip")  # would fail if it were read
    rehash(tmp_path / "mlp")
    with pytest.raises(ConfigError, match="different feature spec"):
        load_model(tmp_path / "mlp", expected_spec={"features": ["ret_1"]})


@pytest.mark.slow
def test_keras_loads_in_safe_mode(tmp_path):
    """A .keras file holding a Lambda layer (arbitrary code) is refused."""
    import keras

    X, y = data()
    save_model(make_model("mlp", **FAST["mlp"]).fit(X, y), tmp_path / "mlp", metadata())
    inputs = keras.Input(shape=(12,))
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    keras.Model(inputs, out).save(_artifact(tmp_path / "mlp"))
    rehash(tmp_path / "mlp")  # whoever swaps the file can rewrite the manifest too
    with pytest.raises(StoreError, match="could not load Keras model"):
        load_model(tmp_path / "mlp")


def test_save_and_load_errors(tmp_path):
    X, y = data()
    with pytest.raises(ConfigError, match="not fitted"):
        save_model(make_model("logreg"), tmp_path / "x", metadata())
    fitted = make_model("majority").fit(X, y)
    with pytest.raises(ConfigError, match="lacks window"):
        save_model(fitted, tmp_path / "x", {"feature_spec": SPEC})
    with pytest.raises(ConfigError, match="may not set model"):
        save_model(fitted, tmp_path / "x", metadata(model="other"))
    with pytest.raises(StoreError, match="no saved model"):
        load_model(tmp_path / "nothing")
    save_model(fitted, tmp_path / "maj", metadata())
    _artifact(tmp_path / "maj").unlink()
    with pytest.raises(StoreError, match="missing beside its manifest"):
        load_model(tmp_path / "maj")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="unreadable"):
        load_model(tmp_path / "bad")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["unknown-param", "no-fitted-state", "fitted-not-a-dict"])
def test_a_keras_manifest_with_bad_fields_is_one_store_error(tmp_path, damage):
    """Before: 'unexpected TypeError' / 'unexpected KeyError' from a hand-edited manifest."""
    X, y = data()
    save_model(make_model("mlp", **FAST["mlp"]).fit(X, y), tmp_path / "mlp", metadata())
    path = tmp_path / "mlp" / "manifest.json"
    manifest = json.loads(path.read_text())
    if damage == "unknown-param":
        manifest["params"]["evil"] = 1
    elif damage == "no-fitted-state":
        del manifest["fitted"]
    else:
        manifest["fitted"] = [1, 2]
    path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match=f"^{path} is malformed: "):
        load_model(tmp_path / "mlp")
