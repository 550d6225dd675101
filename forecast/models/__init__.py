"""Forecasters: scikit-learn classifiers on 3-D windows `(samples, window, features)`.

Importing this package does not import TensorFlow; use `forecast.models.registry`
(`make_model`, `list_models`) to build models by name.
"""

from forecast.models.registry import BASELINES, MODELS, list_models, make_model

__all__ = ["BASELINES", "MODELS", "list_models", "make_model"]
