"""Model names -> classes, and a user's classifier named `module:Class` or `file.py:Class`.

Adding a model is one module defining the class and one line in MODELS. Everything else
is read from the class: its parameters from `get_params()`, its one-line description from
the first line of its docstring, its kind from its base class (`Baseline` subclasses are
"baseline", everything else "model"), and whether it trains with Keras (device line and
epoch progress) from `KerasForecaster` or a `fit` taking `callbacks=`.

Importing this module does not import TensorFlow: the Keras classes import it inside
fit/predict only.
"""

from __future__ import annotations

from sklearn.utils._param_validation import HasMethods

from forecast.errors import ConfigError
from forecast.models.baselines import (
    Baseline,
    GBMBaseline,
    LogRegBaseline,
    MajorityBaseline,
    MomentumBaseline,
)
from forecast.models.forest import RandomForestModel
from forecast.models.gru import GRUForecaster
from forecast.models.keras_base import KerasForecaster, fit_takes_callbacks
from forecast.models.lstm import LSTMForecaster
from forecast.models.mlp import MLPForecaster
from forecast.models.params import check_params
from forecast.models.tcn import TCNForecaster
from forecast.models.transformer import TransformerForecaster
from forecast.plugins import PluginKind, resolve
from forecast.user_code import one_line, reference_of

MODELS: dict[str, type] = {
    "mlp": MLPForecaster,
    "lstm": LSTMForecaster,
    "gru": GRUForecaster,
    "tcn": TCNForecaster,
    "transformer": TransformerForecaster,
    "rf": RandomForestModel,
    "logreg": LogRegBaseline,
    "gbm": GBMBaseline,
    "majority": MajorityBaseline,
    "momentum": MomentumBaseline,
}

# What `fcast` calls on a model (README, "Adding a model").
CLASSIFIER_CONTRACT = HasMethods(["fit", "predict_proba", "get_params"])


def model_kind(cls: type) -> str:
    """The kind `fcast models list` shows: "baseline" for `Baseline` subclasses, else "model"."""
    return "baseline" if issubclass(cls, Baseline) else "model"


def model_description(cls: type) -> str:
    """The first line of the class docstring ("" without one)."""
    lines = (cls.__doc__ or "").strip().splitlines()
    return lines[0].strip() if lines else ""


BASELINES: tuple[str, ...] = tuple(n for n, cls in MODELS.items() if model_kind(cls) == "baseline")


def _label(name_or_ref) -> str:
    return name_or_ref.__name__ if isinstance(name_or_ref, type) else str(name_or_ref)


def _unknown_model(kind: PluginKind, name: str) -> str:
    return (
        f"unknown model {name!r}; choose one of: {', '.join(kind.builtins())} "
        "(or give module:Class or path/to/file.py:Class)"
    )


MODEL = PluginKind(
    "model",
    lambda: MODELS,
    check=lambda obj: isinstance(obj, type) and CLASSIFIER_CONTRACT.is_satisfied_by(obj),
    contract="a scikit-learn classifier: it needs fit, predict_proba and get_params",
    unknown=_unknown_model,
)


def resolve_model(name_or_ref) -> type:
    """The model class for a registry name, `package.module:Class`,
    `path/to/file.py:Class`, or a class itself.

    ConfigError (one line) for an unknown name, a file or module that does not import,
    or a class without `fit`, `predict_proba` and `get_params`.
    """
    return resolve(MODEL, name_or_ref)


def default_params(name_or_ref) -> dict:
    """The model's parameters and their defaults (`cls().get_params()`)."""
    return _defaults(resolve_model(name_or_ref), _label(name_or_ref))


def _defaults(cls: type, label: str) -> dict:
    try:
        return cls().get_params()
    except Exception as exc:  # noqa: BLE001 - user code: any failure is a config error
        raise ConfigError(f"cannot build model {label} with its defaults: {one_line(exc)}") from None


def is_keras_model(name_or_ref) -> bool:
    """Whether the model trains with Keras: a `KerasForecaster`, or a `fit` taking callbacks."""
    cls = resolve_model(name_or_ref)
    return issubclass(cls, KerasForecaster) or fit_takes_callbacks(cls)


def make_model(name_or_ref, **params):
    """Build the model `name_or_ref` (see `resolve_model`) with `params`, checked up front.

    Unknown names, unknown parameters and bad values raise ConfigError naming the
    valid choices.
    """
    cls, label = resolve_model(name_or_ref), _label(name_or_ref)
    valid = list(_defaults(cls, label))
    unknown = sorted(set(params) - set(valid))
    if unknown:
        listing = ", ".join(valid) if valid else "none"
        raise ConfigError(f"unknown parameter(s) for model {label!r}: {', '.join(unknown)}; valid: {listing}")
    try:
        model = cls(**params)
    except Exception as exc:  # noqa: BLE001 - user code: any failure is a config error
        raise ConfigError(f"cannot build model {label}: {one_line(exc)}") from None
    check_params(model, label)
    return model


def model_name(model) -> str:
    """The registry name of a model instance (ConfigError if its class is not registered)."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ConfigError(
        f"{type(model).__name__} is not a registered model (MODELS in forecast/models/registry.py)"
    )


def model_reference(model) -> str:
    """What names a model instance's class for `resolve_model`: its registry name, or the
    reference to a user's class (`/absolute/file.py:Class` or `module:Class`)."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    return reference_of(type(model), "model")


def list_models() -> list[dict]:
    """One dict per registered model: name, description, kind ("model" or "baseline"),
    default params."""
    return [
        {
            "name": name,
            "description": model_description(cls),
            "kind": model_kind(cls),
            "params": _defaults(cls, name),
        }
        for name, cls in MODELS.items()
    ]
