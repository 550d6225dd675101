"""Forecasters: scikit-learn classifiers on 3-D windows `(samples, window, features)`.

Importing this package does not import TensorFlow; use `forecast.models.registry`
(`make_model`, `list_models`, `resolve_model`) to build models by name or by
`module:Class` / `path/to/file.py:Class`.
"""

from forecast.models.registry import BASELINES, MODELS, list_models, make_model, resolve_model

__all__ = ["BASELINES", "MODELS", "list_models", "make_model", "resolve_model"]
