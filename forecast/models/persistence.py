"""Save and load fitted models: one folder per model, a manifest and one model file.

`<folder>/manifest.json` holds the model name (for a user's class its reference,
`/absolute/file.py:Class` or `module:Class`, imported again on load so the class
resolves) and params, the feature spec, the window, the training span, library
versions, metrics, and the SHA-256 of the model file. Keras models go to the native
`.keras` format and load in Keras safe mode; the scikit-learn baselines and a user's
classifier go to `.skops` and load with an explicit list of trusted types
(`forecast.models.safety`). Nothing is ever pickled.
Loading refuses a folder whose files differ from their recorded hashes or that holds a
pickle, and an artifact whose feature spec differs from the one the caller expects,
since its predictions would be computed on different inputs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
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
from forecast.models.safety import CHECKED_TYPES, check_folder, load_skops, sha256, type_name
from forecast.user_code import is_reference, one_line

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
# Suffixes a model path may carry: `--save m.keras` or `--model-path m/manifest.json`
# name the folder `m` (and the files of a format-1 model, saved beside its sidecar).
_SUFFIXES = (".json", ".keras", ".joblib", ".skops")
_RESERVED = {"format_version", "model", "kind", "params", "artifact", "files", "versions",
             "saved_at", "fitted"}
_KERAS_STATE = ("input_shape_", "n_features_in_", "n_epochs_", "best_epoch_", "n_train_")


def model_dir(path) -> Path:
    """The folder a model path names (`m`, `m/`, `m/manifest.json`, `m.json`, `m.keras`)."""
    path = Path(path)
    if path.name == MANIFEST:
        return path.parent
    return path.with_suffix("") if path.suffix in _SUFFIXES else path


def _legacy_sidecar(folder: Path) -> Path:
    """Where fcast before format 2 wrote the sidecar of the model now at `folder`."""
    return folder.parent / f"{folder.name}.json"


def model_exists(path) -> bool:
    """Whether a model (this format or an older one) is saved at `path`."""
    folder = model_dir(path)
    return (folder / MANIFEST).exists() or _legacy_sidecar(folder).exists()


def check_writable(path) -> None:
    """StoreError (one line) unless a model can be written at `path`: run before training,
    so a read-only target fails at once instead of after the work."""
    folder = model_dir(path)
    parent = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise StoreError(f"cannot save the model to {folder}: {parent} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".fcast-write-check-", dir=parent)
    except OSError as exc:
        raise StoreError(f"cannot save the model to {folder}: {parent} is not writable "
                         f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


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
    names = ["fcast", "numpy", "pandas", "scikit-learn", "skops"]
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
    """Save a fitted model into the folder `path`: `model-<id>.keras` or `model-<id>.skops`
    plus `manifest.json` recording its SHA-256.

    `metadata` must hold `feature_spec` (a dict or an object with `to_dict()`) and
    `window`; `train_start`, `train_end` and `metrics` are stored when given, other keys
    as they are. A model already in the folder is replaced. Returns the manifest path.
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
    folder = model_dir(path)
    is_keras = isinstance(model, KerasForecaster)
    # Each save writes a new, uniquely named model file; the manifest names it and is
    # replaced atomically last. A save that fails half-way therefore never pairs new
    # weights with an old manifest (whose train_end would then guard the wrong span).
    token = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    artifact = folder / f"model-{token}{'.keras' if is_keras else '.skops'}"
    manifest = {
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
        manifest["fitted"] = {k: getattr(model, k) for k in _KERAS_STATE}
    manifest = _normalise(manifest)

    json_path = folder / MANIFEST
    previous = _previous_files(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if is_keras:
            model.model_.save(artifact)
        else:
            _dump_skops(model, artifact)
        manifest["files"] = {artifact.name: sha256(artifact)}
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_atomic(json_path, text.encode())  # the one commit point
    except BaseException as exc:
        artifact.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"could not write model to {folder}: {exc.strerror or exc}") from None
        raise
    for old in previous:
        if old != artifact:
            old.unlink(missing_ok=True)
    return json_path


def _dump_skops(model, artifact: Path) -> None:
    """Write `model` as skops, refusing now what `load_model` would refuse to load."""
    import skops.io as sio

    try:
        data = sio.dumps(model)
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 - a user's model may hold anything
        raise ConfigError(
            f"cannot save {model_reference(model)} as a skops file: {one_line(exc)}"
        ) from None
    refused = sorted(set(untrusted) - {type_name(type(model)), *CHECKED_TYPES})
    if refused:
        raise ConfigError(
            f"cannot save {model_reference(model)}: it holds type(s) fcast does not load from a "
            f"model file: {', '.join(refused)} (keep scikit-learn estimators, arrays and plain values)"
        )
    write_atomic(artifact, data)


def _previous_files(folder: Path) -> list[Path]:
    """Files a new save replaces: the model file the current manifest names, and a
    format-1 model saved at the same path (its sidecar and pickle beside the folder)."""
    out = []
    for sidecar in (folder / MANIFEST, _legacy_sidecar(folder)):
        try:
            saved = json.loads(sidecar.read_text())
            name = saved["artifact"]
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if not isinstance(name, str) or "/" in name or "\\" in name:
            continue
        if sidecar.name == MANIFEST:
            out.append(folder / name)
        elif saved.get("format_version") == 1 and name.startswith(f"{folder.name}."):
            out += [sidecar.parent / name, sidecar]
    return out


def _restore_params(cls: type, params: Mapping) -> dict:
    """JSON turned tuple params (layer sizes) into lists; give them back their type."""
    defaults = cls().get_params()
    return {
        k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v
        for k, v in params.items()
    }


def read_sidecar(path) -> dict:
    """The manifest of a saved model (StoreError if missing, unreadable, or saved by an
    older fcast: those may hold pickles and are never loaded)."""
    folder = model_dir(path)
    json_path = folder / MANIFEST
    if not json_path.exists() and _legacy_sidecar(folder).exists():
        raise StoreError(
            f"{_legacy_sidecar(folder)} is a model saved by an older fcast, possibly as a pickle "
            f"(which can run any code when loaded); fcast no longer loads it: retrain it with "
            f"`fcast train ... --save {folder} --force`"
        )
    if json_path.exists() and not json_path.is_file():  # a FIFO or device would never end
        raise StoreError(f"{json_path} is not a regular file; fcast reads no other kind")
    try:
        sidecar = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise StoreError(f"no saved model at {folder}") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"unreadable model manifest {json_path}: {exc}") from None
    model = sidecar.get("model") if isinstance(sidecar, dict) else None
    known = model in MODELS or (isinstance(model, str) and is_reference(model))
    if sidecar.get("format_version") != FORMAT_VERSION or not known:
        raise StoreError(f"{json_path} is not a model manifest this fcast version can read")
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


def _saved_class(sidecar: Mapping, folder: Path) -> type:
    """The saved model's class: a registered one, or the user's, imported again."""
    name = sidecar["model"]
    if name in MODELS:
        return MODELS[name]
    source = name.rpartition(":")[0]
    if source.endswith(".py") and (folder / source).resolve().is_relative_to(folder.resolve()):
        # code that travels with the model folder is code from whoever sent it: never run it
        raise StoreError(f"the model saved at {folder} names code inside its own folder ({name}); "
                         "fcast does not run code shipped with a model")
    try:
        return resolve_model(name)
    except ConfigError as exc:
        raise StoreError(f"the model saved at {folder} needs {name}, which no longer loads: {exc}") from None


def load_model(path, expected_spec=None, expected_window: int | None = None):
    """Load a model saved by `save_model`; return `(model, manifest_dict)`.

    Before anything is deserialized, the folder is refused (StoreError, one line) when it
    holds a pickle-format file or a file whose SHA-256 differs from the manifest's. With
    `expected_spec` (dict or object with `to_dict()`) or `expected_window`, an artifact
    trained on different features raises ConfigError. Keras models load in safe mode (no
    arbitrary code), others with skops and an allow-list of types (the saved class and
    index-checked trees). A user's class is imported again from the file or module its
    reference names (running that code), and a StoreError says so in one line when the
    file is gone or the class no longer matches.
    """
    folder = model_dir(path)
    sidecar = read_sidecar(folder)
    check_folder(folder, sidecar.get("files"))
    check_spec(sidecar, expected_spec, expected_window)
    artifact = folder / str(sidecar.get("artifact"))
    if artifact.name not in sidecar["files"] or artifact.suffix not in (".keras", ".skops"):
        raise StoreError(f"{folder / MANIFEST} names no .keras or .skops model file it records")
    cls = _saved_class(sidecar, folder)
    if issubclass(cls, KerasForecaster) != (artifact.suffix == ".keras"):
        raise StoreError(f"{artifact} is not the file format a {sidecar['model']} model is saved in")
    if artifact.suffix == ".keras":
        return _load_keras(cls, artifact, sidecar), sidecar
    model = load_skops(artifact, allowed=(type_name(cls), *CHECKED_TYPES))
    if type(model) is not cls:
        raise StoreError(f"{artifact} holds a {type(model).__name__}, expected {cls.__name__}")
    return model, sidecar


def _load_keras(cls: type, artifact: Path, sidecar: Mapping):
    from forecast.models.backend import keras as _keras_module

    keras = _keras_module()
    try:  # a hand-edited manifest is one line, not a traceback
        model = cls(**_restore_params(cls, sidecar["params"]))
        fitted = {key: sidecar["fitted"][key] for key in _KERAS_STATE}
        fitted["input_shape_"] = tuple(fitted["input_shape_"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{artifact.parent / MANIFEST} is malformed: {one_line(exc)}") from None
    try:
        model.model_ = keras.saving.load_model(artifact, safe_mode=True, compile=False,
                                               custom_objects=cls._keras_custom_objects(keras))
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(f"could not load Keras model {artifact}: {one_line(exc)}") from None
    for key, value in fitted.items():
        setattr(model, key, value)
    model.classes_ = np.array([0, 1])
    return model
