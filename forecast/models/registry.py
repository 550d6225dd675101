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

from sklearn.base import RegressorMixin
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
from forecast.models.gru import GRUForecaster, GRUScore
from forecast.models.keras_base import KerasForecaster, fit_takes_callbacks
from forecast.models.lgbm import LightGBMModel
from forecast.models.lstm import LSTMForecaster, LSTMScore
from forecast.models.mlp import MLPForecaster, MLPScore
from forecast.models.params import check_params
from forecast.models.regressors import (
    ForestScore,
    GBMScore,
    LightGBMScore,
    MeanScore,
    MomentumScore,
    RidgeScore,
)
from forecast.models.tcn import TCNForecaster, TCNScore
from forecast.models.transformer import TransformerForecaster, TransformerScore
from forecast.plugins import PluginKind, resolve
from forecast.user_code import one_line, reference_of

MODELS: dict[str, type] = {
    "mlp": MLPForecaster,
    "lstm": LSTMForecaster,
    "gru": GRUForecaster,
    "tcn": TCNForecaster,
    "transformer": TransformerForecaster,
    "rf": RandomForestModel,
    "lgbm": LightGBMModel,
    "logreg": LogRegBaseline,
    "gbm": GBMBaseline,
    "majority": MajorityBaseline,
    "momentum": MomentumBaseline,
}

# What a model name fits for a return or rank target (README, "Regression targets").
REGRESSORS: dict[str, type] = {
    "mlp": MLPScore,
    "lstm": LSTMScore,
    "gru": GRUScore,
    "tcn": TCNScore,
    "transformer": TransformerScore,
    "rf": ForestScore,
    "lgbm": LightGBMScore,
    "logreg": RidgeScore,
    "gbm": GBMScore,
    "majority": MeanScore,
    "momentum": MomentumScore,
}

# `ens:a,b,c` names an ensemble of models (forecast/models/ensemble_name.py), not one model.
ENSEMBLE_PREFIX = "ens:"


def is_ensemble(model) -> bool:
    """Whether `model` is an `ens:...` name."""
    return isinstance(model, str) and model.strip().startswith(ENSEMBLE_PREFIX)


# What `fcast` calls on a model (README, "Adding a model").
CLASSIFIER_CONTRACT = HasMethods(["fit", "predict_proba", "get_params"])
REGRESSOR_CONTRACT = HasMethods(["fit", "predict", "get_params"])


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


def _twin_of(cls) -> type | None:
    """A class's regression twin: itself for a scikit-learn regressor, else its `regressor`."""
    if not isinstance(cls, type):
        return None
    twin = cls if issubclass(cls, RegressorMixin) else getattr(cls, "regressor", None)
    return twin if isinstance(twin, type) and REGRESSOR_CONTRACT.is_satisfied_by(twin) else None


REGRESSOR = PluginKind(
    "model",
    lambda: REGRESSORS,
    check=lambda obj: _twin_of(obj) is not None,
    contract=("a model for a return or rank target: a scikit-learn regressor (fit, predict), "
              "or a classifier naming one in its `regressor` attribute"),
    unknown=lambda kind, name: (
        f"model {name!r} cannot fit a return or rank target; choose one of: {', '.join(REGRESSORS)} "
        "(or give module:Class of a scikit-learn regressor)"
    ),
)


def regressor_class(name_or_ref) -> type:
    """The class a model name or reference fits for a return or rank target: the built-in
    twin (`REGRESSORS`), a user's regressor, or the twin a user's classifier names in
    `regressor`. ConfigError (one line) for a model that has none."""
    return _twin_of(resolve(REGRESSOR, name_or_ref))


def resolve_model(name_or_ref) -> type:
    """The model class for a registry name, `package.module:Class`,
    `path/to/file.py:Class`, or a class itself.

    ConfigError (one line) for an unknown name, a file or module that does not import,
    or a class without `fit`, `predict_proba` and `get_params`.
    """
    if is_ensemble(name_or_ref):
        raise ConfigError(f"{name_or_ref} is an ensemble of walk-forward forecasts, not one model: it can be "
                          "evaluated and backtested, not trained or saved on its own (train each member)")
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
    if is_ensemble(name_or_ref):  # members checked in full by forecast.models.ensemble_name
        parts = name_or_ref.strip()[len(ENSEMBLE_PREFIX):].split(",")
        return any(is_keras_model(m.strip()) for m in parts if m.strip())
    cls = resolve_model(name_or_ref)
    return issubclass(cls, KerasForecaster) or fit_takes_callbacks(cls)


def make_model(name_or_ref, regression: bool = False, **params):
    """Build the model `name_or_ref` (see `resolve_model`; with `regression`, its twin for
    a return or rank target, see `regressor_class`) with `params`, checked up front.

    Unknown names, unknown parameters and bad values raise ConfigError naming the
    valid choices.
    """
    cls = regressor_class(name_or_ref) if regression else resolve_model(name_or_ref)
    label = _label(name_or_ref)
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
