"""Save and load fitted models: the model file plus a JSON sidecar describing it.

Keras models go to the native `.keras` format and load in Keras safe mode; the
scikit-learn baselines and a user's classifier go to joblib. All get `<stem>.json` holding
the model name (for a user's class its reference, `/absolute/file.py:Class` or
`module:Class`, imported again on load so the class resolves) and params, the feature
spec, the window, the training span, library versions and metrics.
Loading refuses an artifact whose feature spec differs from the one the caller expects,
since its predictions would be computed on different inputs.

joblib files are pickles: load only artifacts you made yourself.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import uuid
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from forecast.atomic import write_atomic
from forecast.errors import ConfigError, StoreError
from forecast.models.keras_base import KerasForecaster
from forecast.models.registry import MODELS, model_kind, model_reference, resolve_model
from forecast.user_code import is_reference, one_line

FORMAT_VERSION = 1
_SUFFIXES = (".json", ".keras", ".joblib")
_RESERVED = {"format_version", "model", "kind", "params", "artifact", "versions", "saved_at", "fitted"}
_KERAS_STATE = ("input_shape_", "n_features_in_", "n_epochs_", "best_epoch_", "n_train_")


def _stem(path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in _SUFFIXES else path


def _jsonable(obj: Any):
    """json.dumps default: numpy scalars/arrays, timestamps and spec objects."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, (dt.date, dt.datetime)):  # pandas.Timestamp is a datetime
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in a model sidecar")


def _normalise(obj: Any):
    """JSON round trip, so tuples/lists, numpy and spec objects compare equal to their stored form."""
    try:
        return json.loads(json.dumps(obj, default=_jsonable, sort_keys=True))
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def _versions(is_keras: bool) -> dict[str, str]:
    # importlib.metadata reads versions without importing the packages (no TF import).
    names = ["fcast", "numpy", "pandas", "scikit-learn", "joblib"]
    out = {"python": platform.python_version()}
    if is_keras:
        from forecast.models.backend import backend_name

        backend = backend_name()
        names += ["keras", {"jax": "jaxlib"}.get(backend, backend)]
        out["keras_backend"] = backend
    for name in names:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def save_model(model, path, metadata: Mapping[str, Any]) -> Path:
    """Save a fitted model to `<stem>.<id>.keras` or `<stem>.<id>.joblib` plus `<stem>.json`.

    `metadata` must hold `feature_spec` (a dict or an object with `to_dict()`) and
    `window`; `train_start`, `train_end` and `metrics` are stored when given, other keys
    as they are. Returns the sidecar path.
    """
    name = model_reference(model)
    if not hasattr(model, "classes_"):
        raise ConfigError(f"model {name!r} is not fitted; fit it before saving")
    missing = [k for k in ("feature_spec", "window") if k not in metadata]
    if missing:
        raise ConfigError(f"model metadata lacks {', '.join(missing)}")
    reserved = sorted(set(metadata) & _RESERVED)
    if reserved:
        raise ConfigError(f"model metadata may not set {', '.join(reserved)}; fcast writes them")
    stem = _stem(path)
    is_keras = isinstance(model, KerasForecaster)
    # Each save writes a new, uniquely named model file; the sidecar names it and is
    # replaced atomically last. A save that fails half-way therefore never pairs new
    # weights with an old sidecar (whose train_end would then guard the wrong span).
    token = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    artifact = stem.parent / f"{stem.name}.{token}{'.keras' if is_keras else '.joblib'}"
    sidecar = {
        "format_version": FORMAT_VERSION,
        "model": name,
        "kind": model_kind(type(model)),
        "params": model.get_params(),
        "artifact": artifact.name,
        "versions": _versions(is_keras),
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **dict(metadata),
    }
    if is_keras:
        sidecar["fitted"] = {k: getattr(model, k) for k in _KERAS_STATE}
    sidecar = _normalise(sidecar)

    json_path = stem.with_suffix(".json")
    previous = _previous_artifact(json_path)
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        if is_keras:
            model.model_.save(artifact)
        else:
            import joblib

            joblib.dump(model, artifact)
        text = json.dumps(sidecar, indent=2, sort_keys=True) + "\n"
        write_atomic(json_path, text.encode())  # the one commit point
    except BaseException as exc:
        artifact.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"could not write model to {stem}: {exc.strerror or exc}") from None
        raise
    if previous is not None and previous != artifact:
        previous.unlink(missing_ok=True)
    return json_path


def _previous_artifact(json_path: Path) -> Path | None:
    """The model file the current sidecar names, if any (removed after a new save)."""
    try:
        name = json.loads(json_path.read_text()).get("artifact")
    except (OSError, ValueError, AttributeError):
        return None
    return json_path.parent / name if isinstance(name, str) and "/" not in name else None


def _restore_params(cls: type, params: Mapping) -> dict:
    """JSON turned tuple params (layer sizes) into lists; give them back their type."""
    defaults = cls().get_params()
    return {
        k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v
        for k, v in params.items()
    }


def read_sidecar(path) -> dict:
    """The JSON sidecar of a saved model (StoreError if missing or unreadable)."""
    json_path = _stem(path).with_suffix(".json")
    try:
        sidecar = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise StoreError(f"no saved model at {json_path}") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"unreadable model sidecar {json_path}: {exc}") from None
    model = sidecar.get("model")
    known = model in MODELS or (isinstance(model, str) and is_reference(model))
    if sidecar.get("format_version") != FORMAT_VERSION or not known:
        raise StoreError(f"{json_path} is not a model sidecar this fcast version can read")
    return sidecar


def check_spec(sidecar: Mapping, expected_spec, expected_window: int | None = None) -> None:
    """Raise ConfigError when the saved feature spec or window differs from the expected one."""
    if expected_spec is not None:
        saved, wanted = _normalise(sidecar.get("feature_spec")), _normalise(expected_spec)
        if saved != wanted:
            if isinstance(saved, dict) and isinstance(wanted, dict):
                keys = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
                where = f" (differs in: {', '.join(keys)})"
            else:
                where = ""
            raise ConfigError(
                f"saved {sidecar['model']} model was trained on a different feature spec{where}; retrain it"
            )
    if expected_window is not None and sidecar.get("window") != expected_window:
        raise ConfigError(
            f"saved {sidecar['model']} model uses window {sidecar.get('window')}, expected {expected_window}"
        )


def _saved_class(sidecar: Mapping, stem: Path) -> type:
    """The saved model's class: a registered one, or the user's, imported again."""
    name = sidecar["model"]
    if name in MODELS:
        return MODELS[name]
    try:
        return resolve_model(name)
    except ConfigError as exc:
        raise StoreError(f"the model saved at {stem} needs {name}, which no longer loads: {exc}") from None


def load_model(path, expected_spec=None, expected_window: int | None = None):
    """Load a model saved by `save_model`; return `(model, sidecar_dict)`.

    With `expected_spec` (dict or object with `to_dict()`) or `expected_window`, an
    artifact trained on different features raises ConfigError. Keras models load in
    safe mode (no arbitrary code); a user's class is imported again from the file or
    module its reference names (running that code), and a StoreError says so in one line
    when the file is gone or the class no longer matches.
    """
    stem = _stem(path)
    sidecar = read_sidecar(stem)
    check_spec(sidecar, expected_spec, expected_window)
    cls = _saved_class(sidecar, stem)
    artifact = stem.parent / sidecar["artifact"]
    if not artifact.exists():
        raise StoreError(f"model file {artifact} is missing beside its sidecar")
    if issubclass(cls, KerasForecaster):
        from forecast.models.backend import keras as _keras_module

        keras = _keras_module()

        model = cls(**_restore_params(cls, sidecar["params"]))
        try:
            model.model_ = keras.saving.load_model(artifact, safe_mode=True, compile=False)
        except (OSError, ValueError) as exc:
            raise StoreError(f"could not load Keras model {artifact}: {exc}") from None
        fitted = sidecar["fitted"]
        for key in _KERAS_STATE:
            setattr(model, key, fitted[key])
        model.input_shape_ = tuple(model.input_shape_)
        model.classes_ = np.array([0, 1])
    else:
        import joblib

        try:
            model = joblib.load(artifact)
        except Exception as exc:  # noqa: BLE001 - a user's class may have changed in any way
            if sidecar["model"] in MODELS:
                raise
            raise StoreError(
                f"could not load {artifact} with {sidecar['model']} (changed since saving?): "
                f"{one_line(exc)}"
            ) from None
        if type(model) is not cls:
            raise StoreError(f"{artifact} holds a {type(model).__name__}, expected {cls.__name__}")
    return model, sidecar
