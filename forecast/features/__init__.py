"""Leak-free features: every value at bar t uses bars up to t only.

`FeatureSpec` declares the features, `FeaturePipeline` computes and scales them
(scaler learnt on the span given to `fit`), `make_target` builds direction labels and
`make_windows` stacks rows into `(samples, window, features)` arrays.
"""

from forecast.features.pipeline import FeaturePipeline
from forecast.features.spec import FeatureSpec
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
    "FeaturePipeline",
    "FeatureSpec",
    "describe_label",
    "forward_return",
    "label_lookahead",
    "make_target",
    "make_windows",
]
