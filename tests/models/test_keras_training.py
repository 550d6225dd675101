"""How the Keras forecasters train across walk-forward folds: warm starts, whole batches,
and the backend module (selection, determinism switches, compile policy)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.errors import ConfigError
from forecast.models import backend
from forecast.models.keras_base import whole_batches
from forecast.models.registry import make_model

pytestmark = [pytest.mark.keras, pytest.mark.slow]

TINY = dict(hidden_units=(8,), epochs=3, learning_rate=1e-2, batch_size=16, dropout=0.0)


def data(n, seed=0, window=4, n_features=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, n_features))
    return X, (X[:, -1, 0] > 0).astype(int)


def test_whole_batches_drops_the_oldest_remainder():
    assert whole_batches(slice(0, 80), 32) == slice(16, 80)
    assert whole_batches(slice(100, 164), 32) == slice(100, 164)
    assert whole_batches(slice(80, 100), 32) == slice(80, 100)  # shorter than a batch: kept
    assert whole_batches(slice(5, 5), 32) == slice(5, 5)


def test_fit_trains_on_whole_batches_of_the_newest_samples(monkeypatch):
    import keras

    seen = {}
    real_fit = keras.Model.fit

    def spy(self, x=None, y=None, **kwargs):
        seen.update(x=np.array(x), val=kwargs["validation_data"][0])
        return real_fit(self, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    X, y = data(150)
    model = make_model("mlp", **dict(TINY, epochs=1, input_mode="latest")).fit(X, y)
    # 150 -> head 120, tail 30; whole batches of 16: head 8..120 (112), tail 136..150 (16).
    np.testing.assert_array_equal(seen["x"], X[8:120, -1].astype(np.float32))
    np.testing.assert_array_equal(seen["val"], X[134:150, -1].astype(np.float32))
    assert model.n_train_ == 120


def test_warm_start_continues_the_fitted_network():
    X, y = data(200)
    model = make_model("mlp", **dict(TINY, warm_epochs=2))
    model.fit(X[:150], y[:150])
    first = model.model_
    weights = [w.copy() for w in first.get_weights()]
    assert model.warm_started_ is False
    model.fit(X, y)
    assert model.warm_started_ is True and model.model_ is first
    assert model.n_epochs_ <= 2
    # It trained on: the weights moved from where the first fit left them.
    assert any(not np.array_equal(a, b) for a, b in zip(weights, first.get_weights(), strict=True))


def test_warm_start_off_or_new_shape_builds_a_fresh_network():
    X, y = data(200)
    cold = make_model("mlp", **dict(TINY, warm_start=False)).fit(X, y)
    net = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not net and cold.warm_started_ is False
    warm = make_model("mlp", **TINY).fit(X, y)
    X5, y5 = data(200, window=5)
    warm.fit(X5, y5)  # another window: nothing to continue
    assert warm.warm_started_ is False and warm.input_shape_ == (5, 2)


def test_warm_refit_equals_a_second_fit_from_the_first_weights():
    """Same seed, same data: a warm walk-forward is reproducible step by step."""
    X, y = data(200)
    a = make_model("mlp", **TINY)
    a.fit(X[:150], y[:150]).fit(X, y)
    b = make_model("mlp", **TINY)
    b.fit(X[:150], y[:150]).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_walk_forward_refits_warm_only_estimators_that_declare_it():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from forecast.models.resolve import warm_refits

    assert warm_refits(make_model("lstm"))
    assert not warm_refits(make_model("lstm", warm_start=False))
    # scikit-learn's warm_start means "add trees", not "continue on new data": cloned cold.
    assert not warm_refits(HistGradientBoostingClassifier(warm_start=True))


def test_unknown_or_missing_backend_is_one_clear_error(monkeypatch):
    with pytest.raises(ConfigError, match="backend must be one of tensorflow, jax, torch"):
        backend.select_backend("theano")
    monkeypatch.setattr(backend.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'fcast\[jax\]'"):
        backend.check_backend("jax")


def test_switching_backend_after_keras_loaded_is_refused():
    k = backend.keras()
    other = next(b for b in ("jax", "tensorflow") if b != k.backend.backend())
    with pytest.raises(ConfigError, match="already running on"):
        backend.select_backend(other)
    assert backend.select_backend(None) == k.backend.backend()


def test_compile_policy_per_backend(monkeypatch):
    monkeypatch.setattr(backend, "backend_name", lambda: "tensorflow")
    assert backend.jit_compile("cpu") is False and backend.jit_compile("gpu") == "auto"
    monkeypatch.setattr(backend, "backend_name", lambda: "jax")
    assert backend.jit_compile("cpu") == "auto"


def test_lstm_unrolls_on_cpu_only(request):
    X, y = data(64)
    model = make_model("lstm", units=(4,), epochs=1, batch_size=16).fit(X, y)
    assert model.model_.layers[1].unroll is True
    request.getfixturevalue("pretend_gpu")
    gpu = make_model("lstm", units=(4,), epochs=1, batch_size=16, device="gpu").fit(X, y)
    assert gpu.model_.layers[1].unroll is False  # rolled: the cuDNN path stays open


@pytest.mark.parametrize("name", ["mlp", "lstm", "transformer"])
def test_saved_keras_model_loads_and_predicts_the_same_under_the_other_backend(tmp_path, name):
    """`.keras` artifacts are backend-neutral: TensorFlow <-> JAX give the same probabilities.
    The Transformer's position layer (fcast's own) loads in safe mode in a fresh process."""
    import json
    import os
    import subprocess
    import sys

    from forecast.models.persistence import save_model

    here = backend.keras().backend.backend()
    other = "jax" if here != "jax" else "tensorflow"
    X, y = data(120)
    params = {"mlp": TINY, "lstm": dict(units=(4,), epochs=2, batch_size=16),
              "transformer": dict(d_model=8, heads=2, layers=1, ff_units=8, epochs=2, batch_size=16)}[name]
    model = make_model(name, **params).fit(X, y)
    save_model(model, tmp_path / "m", {"window": 4, "feature_spec": {}})
    np.save(tmp_path / "X.npy", X)
    script = (
        "import json, sys, numpy as np\n"
        "from forecast.models.persistence import load_model\n"
        "import keras\n"
        f"m, _ = load_model({str(tmp_path / 'm')!r})\n"
        f"p = m.predict_proba(np.load({str(tmp_path / 'X.npy')!r}))[:, 1]\n"
        "print(json.dumps({'backend': keras.backend.backend(), 'p': p.tolist()}))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": other}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded["backend"] == other
    np.testing.assert_allclose(loaded["p"], model.predict_proba(X)[:, 1], rtol=0, atol=1e-5)


def test_training_on_jax_never_imports_tensorflow():
    """Keras would import TensorFlow just to seed it (seconds, and its CUDA probe's noise)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from forecast.models.registry import make_model\n"
        "X = np.random.default_rng(0).normal(size=(64, 4, 2)); y = (X[:, -1, 0] > 0).astype(int)\n"
        "make_model('lstm', units=(4,), epochs=1, batch_size=16).fit(X, y).predict_proba(X)\n"
        "import keras\n"
        "print(keras.backend.backend(), 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "KERAS_BACKEND": "jax"},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["jax", "False"]
