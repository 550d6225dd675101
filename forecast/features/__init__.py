"""Leak-free features: every value at bar t uses bars up to t only.

`FeatureSpec` declares the features, `FeaturePipeline` computes and scales them
(scaler learnt on the span given to `fit`), `make_target` builds direction labels and
`make_windows` stacks rows into `(samples, window, features)` arrays. A `Feature` is one
feature's declaration; `register` makes one available to specs by name (see
`forecast.features.registry`).
"""

from forecast.features.feature import Feature
from forecast.features.indicators import check_bars
from forecast.features.pipeline import FeaturePipeline, raw_features
from forecast.features.registry import register
from forecast.features.spec import FeatureSpec, as_spec
from forecast.features.target import (
    DEFAULT_LABEL,
    LABELS,
    describe_label,
    forward_return,
    label_lookahead,
    make_target,
)
from forecast.features.windows import make_windows

__all__ = [
    "DEFAULT_LABEL",
    "LABELS",
    "Feature",
    "FeaturePipeline",
    "FeatureSpec",
    "as_spec",
    "check_bars",
    "describe_label",
    "forward_return",
    "label_lookahead",
    "make_target",
    "make_windows",
    "raw_features",
    "register",
]
