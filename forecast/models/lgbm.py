"""LightGBM: the fast tree model beside `gbm` (scikit-learn's histogram gradient boosting).

Fitted through LightGBM's scikit-learn API (`LGBMClassifier`), seeded and deterministic:
`deterministic=True` with row-wise histograms gives the same trees for the same seed and
data on any thread count. Row and column subsampling draw from that seed.

A fitted model keeps its trees as LightGBM's own text (`booster_text_`, a plain string) and
nothing else of LightGBM's: a saved model then holds only this class, strings and arrays,
and `check_lightgbm_text` bounds every index in the text before LightGBM parses it (see
forecast/models/safety.py). `lightgbm` is imported inside fit/predict only, so naming or
listing the model stays light.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from forecast.models.baselines import WindowClassifier
from forecast.models.inputs import INPUT_MODES, check_both_classes, to_tabular


class LightGBMModel(WindowClassifier):
    """LightGBM gradient boosting on the latest row or flattened window (seeded, deterministic)."""

    _parameter_constraints = {
        "input_mode": [StrOptions(set(INPUT_MODES))],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, -1, None, closed="left")],
        "min_child_samples": [Interval(Integral, 1, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Interval(Integral, 1, None, closed="left")],
        "seed": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        input_mode: str = "latest",
        n_estimators: int = 200,
        num_leaves: int = 31,
        learning_rate: float = 0.05,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 0.0,
        n_jobs: int = 1,
        seed: int = 0,
    ):
        self.input_mode = input_mode
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs  # one thread by default, like `rf`: parallelism comes from workers
        self.seed = seed

    def _make_estimator(self):
        import lightgbm

        return lightgbm.LGBMClassifier(**self._booster_params())

    def _booster_params(self) -> dict:
        """LightGBM's settings from this model's parameters (shared with `LightGBMScore`)."""
        return dict(
            n_estimators=self.n_estimators,
            num_leaves=self.num_leaves,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,  # bagging only runs with a frequency
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            n_jobs=self.n_jobs,
            random_state=self.seed,
            deterministic=True,
            force_row_wise=True,  # with deterministic: same trees whatever the thread count
            verbose=-1,
        )

    def fit(self, X, y):
        """Fit LightGBM on the tabular view of the training windows; keep its trees as text."""
        X, y = self._start_fit(X, y)
        check_both_classes(y, type(self).__name__)
        estimator = self._make_estimator().fit(to_tabular(X, self.input_mode), y)
        self.booster_text_ = estimator.booster_.model_to_string()
        self.n_trees_ = int(estimator.booster_.num_trees())
        self._booster = estimator.booster_
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities `(n, 2)`: columns are P(down), P(up)."""
        X = self._check_predict(X)
        p = np.asarray(self._get_booster().predict(to_tabular(X, self.input_mode)), dtype=np.float64)
        return np.column_stack([1.0 - p, p])

    def _get_booster(self):
        booster = getattr(self, "_booster", None)
        if booster is None:  # loaded from a file: rebuild from the (checked) text
            import lightgbm

            # (the text's own parameters, num_threads among them, are the ones fitted with)
            booster = lightgbm.Booster(model_str=without_tree_sizes(self.booster_text_))
            self._booster = booster
        return booster

    def n_tabular_features(self) -> int:
        """Columns of the tabular view the trees read."""
        window, n_features = self.input_shape_
        return n_features if self.input_mode == "latest" else window * n_features

    def __getstate__(self):
        # The live Booster is LightGBM's C++ object: never saved (the text rebuilds it).
        state = super().__getstate__()
        state.pop("_booster", None)
        return state


def without_tree_sizes(text: str) -> str:
    """The model text without its `tree_sizes=` line: LightGBM then finds each tree by its
    `Tree=` line instead of trusting byte offsets a crafted file could point anywhere."""
    return "\n".join(line for line in text.split("\n") if not line.startswith("tree_sizes="))
