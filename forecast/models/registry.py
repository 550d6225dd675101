"""Model names -> classes. A new model is one class plus one line in MODELS.

Importing this module does not import TensorFlow: the Keras classes import it inside
fit/predict only.
"""

from __future__ import annotations

from forecast.errors import ConfigError
from forecast.models.baselines import GBMBaseline, LogRegBaseline, MajorityBaseline, MomentumBaseline
from forecast.models.lstm import LSTMForecaster
from forecast.models.mlp import MLPForecaster

MODELS: dict[str, type] = {
    "mlp": MLPForecaster,
    "lstm": LSTMForecaster,
    "logreg": LogRegBaseline,
    "gbm": GBMBaseline,
    "majority": MajorityBaseline,
    "momentum": MomentumBaseline,
}

BASELINES: tuple[str, ...] = tuple(n for n, cls in MODELS.items() if cls.kind == "baseline")


def _param_names(cls: type) -> list[str]:
    return list(cls().get_params())


def make_model(name: str, **params):
    """Build the model registered as `name` with `params`, checked up front.

    Unknown names, unknown parameters and bad values raise ConfigError naming the
    valid choices.
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    cls = MODELS[name]
    valid = _param_names(cls)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        listing = ", ".join(valid) if valid else "none"
        raise ConfigError(f"unknown parameter(s) for model {name!r}: {', '.join(unknown)}; valid: {listing}")
    model = cls(**params)
    model.validate_params()
    return model


def model_name(model) -> str:
    """The registry name of a model instance (ConfigError if its class is not registered)."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ConfigError(f"{type(model).__name__} is not a registered model")


def list_models() -> list[dict]:
    """One dict per model: name, description, kind ("model" or "baseline"), default params."""
    return [
        {
            "name": name,
            "description": cls.description,
            "kind": cls.kind,
            "params": cls().get_params(),
        }
        for name, cls in MODELS.items()
    ]
