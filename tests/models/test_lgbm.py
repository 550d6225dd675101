"""LightGBM (`lgbm`): LightGBM's own classifier on the tabular view, seeded and deterministic,
saved as its trees' text and loaded only after every index in that text is bounded.

(Round trip with the other models: test_persistence.py; leakage: tests/evaluate/test_leakage.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_model_safety import rehash

from forecast.errors import ConfigError, StoreError
from forecast.models.persistence import load_model, model_dir, save_model
from forecast.models.registry import BASELINES, make_model

FAST = dict(n_estimators=15, num_leaves=7)


def _data(n=300, window=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, 3))
    y = ((X[:, -1, 0] + 0.5 * X[:, -2, 1] + 0.5 * rng.normal(size=n)) > 0).astype(int)
    return X, y


def test_lgbm_equals_lightgbms_classifier_on_the_same_rows():
    import lightgbm

    X, y = _data()
    mine = make_model("lgbm", **FAST, seed=4, input_mode="flatten").fit(X, y)
    ref = lightgbm.LGBMClassifier(n_estimators=15, num_leaves=7, learning_rate=0.05, subsample=0.8,
                                  subsample_freq=1, colsample_bytree=0.8, random_state=4, n_jobs=1,
                                  deterministic=True, force_row_wise=True, verbose=-1)
    flat = X.reshape(len(X), -1)
    ref.fit(flat, y)
    np.testing.assert_allclose(mine.predict_proba(X), ref.predict_proba(flat), rtol=0, atol=1e-12)
    assert mine.n_trees_ == 15 and "lgbm" not in BASELINES


def test_lgbm_is_seeded_and_the_same_on_any_thread_count():
    X, y = _data()
    a = make_model("lgbm", **FAST, seed=1).fit(X, y).predict_proba(X)
    b = make_model("lgbm", **FAST, seed=1, n_jobs=2).fit(X, y).predict_proba(X)
    c = make_model("lgbm", **FAST, seed=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)  # the seed draws the row and column subsamples


def test_lgbm_bad_params_are_one_line():
    with pytest.raises(ConfigError, match="^model lgbm: num_leaves must be"):
        make_model("lgbm", num_leaves=1)
    with pytest.raises(ConfigError, match="^model lgbm: subsample must be"):
        make_model("lgbm", subsample=0)


def _saved(tmp_path):
    X, y = _data()
    model = make_model("lgbm", **FAST).fit(X, y)
    save_model(model, tmp_path / "m", {"feature_spec": {}, "window": 4})
    return model, X


def _artifact(folder):
    return folder / json.loads((folder / "manifest.json").read_text())["artifact"]


def test_a_saved_lgbm_holds_no_lightgbm_object(tmp_path):
    import skops.io as sio

    model, X = _saved(tmp_path)
    # skops needs to trust the model's class only: the trees travel as text.
    assert sio.get_untrusted_types(file=_artifact(tmp_path / "m")) == ["forecast.models.lgbm.LightGBMModel"]
    loaded, _ = load_model(tmp_path / "m")
    assert getattr(loaded, "_booster", None) is None  # built from the checked text on first use
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def _resave_text(folder, model, text):
    import skops.io as sio

    model.booster_text_ = text
    model._booster = None
    sio.dump(model, _artifact(folder))
    rehash(folder)


def _first_tree_line(text, key, edit):
    """`text` with the first tree's line `key=...` replaced by edit(values)."""
    lines = text.split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(f"{key}=") and i > lines.index("Tree=0"))
    lines[i] = f"{key}=" + " ".join(edit(lines[i].split("=", 1)[1].split()))
    return "\n".join(lines)


CRAFTED = {
    "feature past the inputs": ("split_feature", lambda v: ["3", *v[1:]]),
    "negative feature": ("split_feature", lambda v: ["-1", *v[1:]]),
    "child past the tree": ("right_child", lambda v: ["99", *v[1:]]),
    "child pointing back (a loop)": ("left_child", lambda v: [*v[:-1], "0"]),
    "leaf past the leaves": ("left_child", lambda v: ["-99", *v[1:]]),
    "categorical split": ("decision_type", lambda v: ["1", *v[1:]]),
    "short array": ("threshold", lambda v: v[:-1]),
}


@pytest.mark.parametrize("crafted", list(CRAFTED))
def test_a_crafted_lightgbm_tree_is_refused_before_lightgbm_reads_it(tmp_path, monkeypatch, crafted):
    import lightgbm

    model, _ = _saved(tmp_path)
    key, edit = CRAFTED[crafted]
    _resave_text(tmp_path / "m", model, _first_tree_line(model.booster_text_, key, edit))
    monkeypatch.setattr(lightgbm, "Booster", lambda **_: pytest.fail("LightGBM parsed it"))
    with pytest.raises(StoreError, match="malformed LightGBM model") as err:
        load_model(tmp_path / "m")
    assert "\n" not in str(err.value)


def test_a_model_text_for_other_inputs_is_refused(tmp_path):
    model, _ = _saved(tmp_path)
    text = model.booster_text_.replace("max_feature_idx=2", "max_feature_idx=40", 1)
    _resave_text(tmp_path / "m", model, text)
    with pytest.raises(StoreError, match=r"not a binary model on 3 input columns"):
        load_model(tmp_path / "m")


def test_crafted_tree_offsets_are_ignored(tmp_path):
    # LightGBM would jump to each tree by the byte offsets in `tree_sizes=`: fcast drops the
    # line, so offsets pointing anywhere change nothing.
    model, X = _saved(tmp_path)
    expected = model.predict_proba(X)
    lines = model.booster_text_.split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith("tree_sizes="))
    lines[i] = "tree_sizes=" + " ".join(["999999999"] * model.n_trees_)
    _resave_text(model_dir(tmp_path / "m"), model, "\n".join(lines))
    loaded, _ = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
