"""Forecasters and baselines: sklearn contract, leak-free training split, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.class_weight import compute_class_weight

from forecast.errors import ConfigError, DataError
from forecast.models import device as devmod
from forecast.models.baselines import Baseline
from forecast.models.gru import GRUForecaster
from forecast.models.keras_base import KerasForecaster, balanced_class_weight, chronological_split
from forecast.models.lstm import LSTMForecaster
from forecast.models.mlp import MLPForecaster
from forecast.models.params import check_fraction, check_int
from forecast.models.registry import BASELINES, MODELS, list_models, make_model
from forecast.models.tcn import TCNForecaster
from forecast.models.transformer import TransformerForecaster

# Tiny settings so each Keras fit takes a second or two on 2 CPU cores.
FAST = {
    "mlp": dict(hidden_units=(16,), epochs=15, learning_rate=1e-2, batch_size=32, dropout=0.0),
    "lstm": dict(units=(8,), epochs=15, learning_rate=1e-2, batch_size=32, dropout=0.0),
    "gru": dict(units=(8,), epochs=15, learning_rate=1e-2, batch_size=32, dropout=0.0),
    "tcn": dict(filters=8, dilations=(1, 2), epochs=15, learning_rate=1e-2, batch_size=32, dropout=0.0),
    "transformer": dict(d_model=16, heads=2, layers=1, ff_units=16, epochs=15, learning_rate=1e-2,
                        batch_size=32, dropout=0.0),
    "logreg": {},
    "gbm": dict(max_iter=30),
    "rf": dict(n_estimators=20, max_depth=6),
    "lgbm": dict(n_estimators=30, num_leaves=7),
    "majority": {},
    "momentum": {},
}


def sign_data(n=300, window=5, n_features=3, seed=0):
    """Windows whose label is the sign of the latest one-day return X[:, -1, 0]."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, n_features))
    y = (X[:, -1, 0] > 0).astype(int)
    return X, y


def noise_data(n=200, window=4, n_features=2, p_up=0.5, seed=1):
    """Windows unrelated to the labels."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, window, n_features)), (rng.random(n) < p_up).astype(int)


# --- registry ----------------------------------------------------------------------------


def test_registry_names_kinds_and_defaults():
    listed = list_models()
    names = ["mlp", "lstm", "gru", "tcn", "transformer", "rf", "lgbm", "logreg", "gbm", "majority",
             "momentum"]
    assert [m["name"] for m in listed] == names
    assert set(BASELINES) == {"logreg", "gbm", "majority", "momentum"}
    for entry in listed:
        cls = MODELS[entry["name"]]
        # Kind comes from the base class, the description from the docstring's first line.
        assert entry["kind"] == ("baseline" if issubclass(cls, Baseline) else "model")
        assert entry["kind"] == ("baseline" if entry["name"] in BASELINES else "model")
        assert entry["description"] and entry["description"] == cls.__doc__.strip().splitlines()[0]
        assert entry["params"] == cls().get_params()
        assert not hasattr(cls, "kind") and not hasattr(cls, "description")


def test_unknown_model_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown model 'prophet'.*lstm, gru, tcn, transformer, rf, lgbm"):
        make_model("prophet")


def test_unknown_param_lists_valid_params():
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) for model 'mlp': widht;.*hidden_units"):
        make_model("mlp", widht=3)
    with pytest.raises(ConfigError, match="valid: none"):
        make_model("majority", C=1.0)


@pytest.mark.parametrize(
    "name, params, what",
    [
        ("mlp", dict(dropout=1.5), "dropout"),
        ("mlp", dict(hidden_units=()), "hidden_units"),
        ("mlp", dict(input_mode="middle"), "input_mode"),
        ("lstm", dict(units=[8, 0]), "units"),
        ("lstm", dict(epochs=0), "epochs"),
        ("lstm", dict(class_weight="auto"), "class_weight"),
        ("mlp", dict(device="tpu"), "device"),
        ("mlp", dict(validation_fraction=1.0), "validation_fraction"),
        ("gru", dict(units=0), "units"),
        ("tcn", dict(dilations=[1, 0]), "dilations"),
        ("tcn", dict(kernel_size=0), "kernel_size"),
        ("transformer", dict(heads=5), "heads"),  # 5 does not divide d_model=32
        ("transformer", dict(pooling="max"), "pooling"),
        ("logreg", dict(C=0), "C"),
        ("gbm", dict(max_depth=0), "max_depth"),
    ],
)
def test_bad_param_values_raise_config_error(name, params, what):
    # Named by the model the user gave and the parameter, not by fcast's internal class.
    with pytest.raises(ConfigError, match=f"^model {name}: {what} must be .*, got ") as err:
        make_model(name, **params)
    assert "\n" not in str(err.value) and repr(next(iter(params.values()))) in str(err.value)
    assert MODELS[name].__name__ not in str(err.value)


def test_fit_checks_params_set_after_construction():
    X, y = sign_data(50)
    with pytest.raises(ConfigError, match="^C must be"):
        make_model("logreg").set_params(C=-1.0).fit(X, y)
    with pytest.raises(ConfigError, match="^units must be"):
        make_model("lstm").set_params(units=[4, 0]).fit(X, y)


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "5", None])
def test_check_int_refuses_non_counts(value):
    with pytest.raises(ConfigError, match=rf"folds must be an int in the range \[1, inf\), got {value!r}"):
        check_int("folds", value, 1)


def test_check_int_and_fraction_accept_good_values():
    check_int("folds", np.int64(3), 1)
    check_fraction("validation_fraction", 0.0)
    for bad in (1.0, -0.1, float("nan"), True):
        with pytest.raises(ConfigError, match=r"fraction must be a float in the range \[0.0, 1.0\)"):
            check_fraction("validation_fraction", bad)


def test_keras_models_share_the_training_parameters():
    shared = set(KerasForecaster().get_params())
    assert len(shared) == 14
    assert set(MLPForecaster().get_params()) == shared | {"hidden_units", "input_mode"}
    assert set(LSTMForecaster().get_params()) == shared | {"units"}
    assert set(GRUForecaster().get_params()) == shared | {"units"}
    assert set(TCNForecaster().get_params()) == shared | {"filters", "kernel_size", "dilations"}
    assert set(TransformerForecaster().get_params()) == shared | {"d_model", "heads", "layers",
                                                                   "ff_units", "pooling"}
    # Keyword-only: a positional layer size cannot land on a shared parameter.
    with pytest.raises(TypeError):
        MLPForecaster((16,))


def test_list_params_are_accepted_like_tuples():
    # Params read from TOML/JSON arrive as lists.
    assert make_model("mlp", hidden_units=[8, 4]).hidden_units == [8, 4]


# --- scikit-learn contract ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_clone_and_params_round_trip(name):
    model = make_model(name, **FAST[name])
    params = model.get_params()
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    assert not hasattr(twin, "classes_")
    if params:
        key = next(iter(params))
        assert model.set_params(**{key: params[key]}) is model
    with pytest.raises(NotFittedError):
        twin.predict_proba(sign_data(10)[0])


def test_set_params_changes_a_keras_param():
    model = make_model("lstm").set_params(units=(4, 4), dropout=0.3)
    assert model.get_params()["units"] == (4, 4) and clone(model).dropout == 0.3


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_fit_predict_shapes_and_learnability(name):
    """Label = sign of the latest 1-day return: every model but majority learns it."""
    X, y = sign_data(400)
    Xtr, ytr, Xte, yte = X[:300], y[:300], X[300:], y[300:]
    model = make_model(name, **FAST[name]).fit(Xtr, ytr)
    proba = model.predict_proba(Xte)
    pred = model.predict(Xte)

    assert proba.shape == (100, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    np.testing.assert_array_equal(pred, (proba[:, 1] > 0.5).astype(int))
    assert model.n_features_in_ == 3 and model.input_shape_ == (5, 3)
    # Row i's prediction uses row i only: no statistics shared across a predict batch.
    np.testing.assert_allclose(model.predict_proba(Xte[:7]), proba[:7], rtol=1e-5, atol=1e-7)

    accuracy = (pred == yte).mean()
    if name == "majority":
        np.testing.assert_allclose(proba[:, 1], ytr.mean())
        assert set(pred) == {int(ytr.mean() > 0.5)}
    else:
        assert accuracy >= 0.9, f"{name} accuracy {accuracy:.2f}"


def test_bad_inputs_raise_data_error():
    X, y = sign_data(50)
    model = make_model("logreg")
    with pytest.raises(DataError, match="3-D"):
        model.fit(X[:, -1, :], y)
    with pytest.raises(DataError, match="0/1"):
        model.fit(X, y * 2)
    with pytest.raises(DataError, match="match X"):
        model.fit(X, y[:-1])
    Xnan = X.copy()
    Xnan[3, 0, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        model.fit(Xnan, y)
    with pytest.raises(DataError, match="both up"):
        model.fit(X, np.ones(50, dtype=int))
    model.fit(X, y)
    with pytest.raises(DataError, match=r"fitted on \(5, 3\)"):
        model.predict_proba(X[:, 1:, :])


# --- baselines ---------------------------------------------------------------------------


def test_momentum_reads_sign_of_latest_return_only():
    X = np.zeros((4, 3, 2))
    X[:, -1, 0] = [0.5, -0.2, 0.0, 1e-9]
    X[:, 0, 0] = [-1.0, 1.0, 1.0, -1.0]  # earlier rows disagree: must be ignored
    X[:, -1, 1] = [-1.0, 1.0, 1.0, -1.0]  # other features too
    model = make_model("momentum").fit(X, [1, 0, 0, 0])  # the sign rule hits 3 of 4
    assert model.hit_rate_ == 0.75
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], [0.75, 0.25, 0.25, 0.75])
    np.testing.assert_array_equal(model.predict(X), [1, 0, 0, 1])


def test_momentum_confidence_stays_above_a_coin_flip():
    X = np.zeros((4, 3, 2))
    X[:, -1, 0] = [0.5, -0.2, 0.3, -1.0]
    # The rule misses every training day; its decisions stay the sign rule's.
    model = make_model("momentum").fit(X, [0, 1, 0, 1])
    assert 0.5 < model.hit_rate_ < 0.51
    np.testing.assert_array_equal(model.predict(X), [1, 0, 1, 0])


def test_logreg_scaler_is_learned_on_training_samples_only():
    X, y = sign_data(200)
    X[100:] += 5.0  # a later regime with a different mean
    model = make_model("logreg", input_mode="flatten").fit(X[:100], y[:100])
    scaler = model.estimator_[0]
    np.testing.assert_allclose(scaler.mean_, X[:100].reshape(100, -1).mean(axis=0))


def test_gbm_internal_early_stopping_is_off():
    # sklearn's early stopping holds out a *shuffled* split: later samples would steer it.
    X, y = sign_data(200)
    model = make_model("gbm", max_iter=7).fit(X, y)
    assert model.estimator_.early_stopping is False and model.estimator_.n_iter_ == 7


def test_gbm_is_seeded():
    X, y = noise_data(300)
    a = make_model("gbm", max_iter=20, seed=3).fit(X, y).predict_proba(X)
    b = make_model("gbm", max_iter=20, seed=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


# --- chronological validation split --------------------------------------------------------


def test_chronological_split_is_the_tail():
    assert chronological_split(10, 0.2) == (slice(0, 8), slice(8, 10))
    assert chronological_split(10, 0.01) == (slice(0, 9), slice(9, 10))  # at least one
    assert chronological_split(10, 0.0) == (slice(0, 10), slice(10, 10))
    with pytest.raises(DataError, match="nothing to train"):
        chronological_split(1, 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_keras_fit_validates_on_the_chronological_tail(monkeypatch, name):
    """Spy on keras.Model.fit: training = first 80 samples, validation = last 20, in order."""
    import keras

    seen = {}
    real_fit = keras.Model.fit

    def spy(self, x=None, y=None, **kwargs):
        seen.update(x=np.array(x), y=np.array(y), **kwargs)
        return real_fit(self, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    n = 100
    X = np.broadcast_to(np.arange(n, dtype=float)[:, None, None], (n, 4, 2)).copy()
    X += np.arange(4)[None, :, None] * 0.01  # distinct rows inside each window
    y = (np.arange(n) % 3 == 0).astype(int)
    # batch_size 20 divides both parts, so neither is trimmed to whole batches.
    params = dict(FAST[name], epochs=2, validation_fraction=0.2, batch_size=20)
    if name == "mlp":
        params["input_mode"] = "flatten"
    model = make_model(name, **params).fit(X, y)

    prepared = X.reshape(n, -1) if name == "mlp" else X
    np.testing.assert_array_equal(seen["x"], prepared[:80].astype(np.float32))
    np.testing.assert_array_equal(seen["y"], y[:80])
    val_x, val_y = seen["validation_data"]
    np.testing.assert_array_equal(val_x, prepared[80:].astype(np.float32))
    np.testing.assert_array_equal(val_y, y[80:])
    assert "validation_split" not in seen  # Keras' own split is never used
    assert model.n_train_ == 80


# --- training behaviour --------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_same_probabilities_and_seed_matters():
    X, y = noise_data(200)
    params = dict(FAST["mlp"], epochs=4, dropout=0.2)
    a = make_model("mlp", seed=7, **params).fit(X, y).predict_proba(X)
    b = make_model("mlp", seed=7, **params).fit(X, y).predict_proba(X)
    c = make_model("mlp", seed=8, **params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.parametrize("name", ["lstm", "gru", "tcn", "transformer"])
def test_network_same_seed_same_probabilities(name):
    X, y = noise_data(150)
    params = dict(FAST[name], epochs=3, dropout=0.2)
    a = make_model(name, seed=1, **params).fit(X, y).predict_proba(X)
    b = make_model(name, seed=1, **params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_early_stopping_stops_and_restores_best_weights():
    X, y = noise_data(200)  # nothing to learn: validation loss soon rises
    model = make_model("mlp", hidden_units=(32,), learning_rate=0.05, epochs=200, patience=2)
    model.fit(X, y)
    val_loss = model.history_["val_loss"]
    assert model.n_epochs_ < 200
    assert model.best_epoch_ == int(np.argmin(val_loss)) + 1
    # The kept weights are the best epoch's: re-evaluating the tail gives the best loss.
    tail = model._prepare(X[model.n_train_ :]).astype(np.float32)
    restored = model.model_.evaluate(tail, y[model.n_train_ :].astype(np.float32), verbose=0)[0]
    np.testing.assert_allclose(restored, min(val_loss), rtol=1e-4)


@pytest.mark.slow
def test_balanced_class_weight_uses_training_head_only():
    y = np.r_[np.zeros(10), np.ones(70), np.zeros(20)].astype(int)  # tail: all zeros
    head = y[:80]
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=head)
    got = balanced_class_weight(head)
    np.testing.assert_allclose([got[0], got[1]], expected)
    X = noise_data(100)[0]
    # batch_size 20 divides the head (80), so no oldest samples are trimmed from it.
    model = make_model("mlp", **dict(FAST["mlp"], epochs=2, class_weight="balanced", batch_size=20))
    model.fit(X, y)
    np.testing.assert_allclose([model.class_weight_[0], model.class_weight_[1]], expected)
    everything = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert not np.allclose(expected, everything)  # the tail would have changed them


@pytest.mark.slow
def test_balanced_class_weight_lifts_the_minority_class():
    X, y = noise_data(300, p_up=0.8, seed=4)
    params = dict(FAST["mlp"], epochs=10, validation_fraction=0.1, patience=10)
    plain = make_model("mlp", **params).fit(X, y).predict_proba(X)[:, 1].mean()
    weighted = make_model("mlp", class_weight="balanced", **params).fit(X, y).predict_proba(X)[:, 1]
    assert plain > 0.65 and weighted.mean() < plain - 0.1


@pytest.mark.slow
def test_extra_callbacks_see_every_epoch_and_auto_ignores_mixed_precision_on_cpu(monkeypatch):
    import keras

    monkeypatch.setattr(devmod, "visible_gpus", lambda: ())

    class Counter(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            Counter.epochs += 1
            assert "val_loss" in logs

    X, y = noise_data(120)
    model = make_model("mlp", **dict(FAST["mlp"], epochs=3, mixed_precision=True))
    model.fit(X, y, callbacks=[Counter()])
    assert Counter.epochs == model.n_epochs_ == 3
    assert model.device_ == "cpu" and model.mixed_precision_ is False


@pytest.mark.slow
def test_mixed_precision_path_on_a_pretend_gpu(pretend_gpu):
    """float16 layers, float32 output and a loss-scaled Adam (soft placement runs it on CPU)."""
    import keras

    X, y = noise_data(80)
    model = make_model("lstm", **dict(FAST["lstm"], epochs=1, device="gpu", mixed_precision=True))
    model.fit(X, y)
    assert model.device_ == "gpu" and model.mixed_precision_ is True
    assert isinstance(model.model_.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.model_.layers[1].dtype_policy.name == "mixed_float16"
    assert model.model_.layers[-1].dtype_policy.name == "float32"
    assert model.predict_proba(X).dtype == np.float64


@pytest.mark.slow
def test_zero_validation_fraction_early_stops_on_training_loss():
    X, y = noise_data(100)
    model = make_model("mlp", **dict(FAST["mlp"], epochs=3, validation_fraction=0.0)).fit(X, y)
    assert model.n_train_ == 100 and "val_loss" not in model.history_


# --- device --------------------------------------------------------------------------------


def test_device_resolution_without_gpu(monkeypatch):
    monkeypatch.setattr(devmod, "visible_gpus", lambda: ())
    assert devmod.resolve_device("auto") == "cpu"
    assert devmod.resolve_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match="no GPU"):
        devmod.resolve_device("gpu")
    with pytest.raises(ConfigError, match="device must be one of"):
        devmod.resolve_device("cuda")
    assert devmod.use_mixed_precision("auto", True) is False
    with pytest.raises(ConfigError, match="mixed_precision needs a GPU"):
        devmod.use_mixed_precision("cpu", True)
    line = devmod.describe_device("auto", mixed_precision=True)
    assert line.startswith("CPU") and "\n" not in line and "ignored" in line
    assert devmod.describe_device("cpu").startswith("CPU (requested)")


def test_device_line_names_a_backend_other_than_the_default(monkeypatch):
    from forecast.models import backend

    monkeypatch.setattr(devmod, "visible_gpus", lambda: ())
    monkeypatch.setattr(backend, "backend_name", lambda: "tensorflow")
    assert devmod.describe_device("cpu") == "CPU (requested)"
    assert devmod.describe_device("auto") == "CPU (no GPU visible to TensorFlow)"
    monkeypatch.setattr(backend, "backend_name", lambda: "jax")
    assert devmod.describe_device("cpu") == "CPU (requested), Keras on JAX"
    assert devmod.describe_device("auto") == "CPU (no GPU visible to JAX), Keras on JAX"


def test_device_resolution_with_a_gpu(monkeypatch):
    monkeypatch.setattr(devmod, "visible_gpus", lambda: ("/physical_device:GPU:0",))
    assert devmod.resolve_device("auto") == "gpu"
    assert devmod.resolve_device("gpu") == "gpu"
    assert devmod.resolve_device("cpu") == "cpu"
    assert devmod.use_mixed_precision("auto", True) is True
    assert devmod.use_mixed_precision("gpu", False) is False


def test_gpu_request_on_cpu_machine_fails_at_fit(monkeypatch):
    monkeypatch.setattr(devmod, "visible_gpus", lambda: ())
    X, y = noise_data(50)
    with pytest.raises(ConfigError, match="no GPU"):
        make_model("mlp", device="gpu", epochs=1).fit(X, y)


def test_validation_gap_purges_samples_between_head_and_tail():
    train, val = chronological_split(100, 0.2, gap=4)
    assert (train, val) == (slice(0, 76), slice(80, 100))
    assert chronological_split(100, 0.0, gap=4) == (slice(0, 100), slice(100, 100))


def test_walk_forward_sets_the_gap_from_the_horizon():
    from forecast.models.fitting import purge_validation_overlap

    assert purge_validation_overlap(make_model("mlp"), None, 5).validation_gap == 4
    assert purge_validation_overlap(make_model("mlp"), None, 1).validation_gap == 0
    kept = purge_validation_overlap(make_model("mlp", validation_gap=9), {"validation_gap": 9}, 5)
    assert kept.validation_gap == 9
    assert purge_validation_overlap(make_model("logreg"), None, 5).get_params()["C"] == 1.0
