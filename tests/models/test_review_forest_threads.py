"""Review (issue 23): `rf` with n_jobs > 1 must give the same numbers run after run (the
house rule: same seed, same data, same numbers on CPU), as `--workers` equality needs.
scikit-learn's forest sums its trees' probabilities from threads in the order they finish,
so the last bit of P(up) can move from one predict to the next."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.models.registry import resolve_model


@pytest.mark.slow
def test_rf_with_two_threads_predicts_the_same_numbers_every_time():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 5, 3)), (rng.normal(size=300) > 0).astype(int)
    one = resolve_model("rf")(n_estimators=30, n_jobs=1, seed=0).fit(X, y).predict_proba(X)[:, 1]
    for _ in range(5):
        two = resolve_model("rf")(n_estimators=30, n_jobs=2, seed=0).fit(X, y).predict_proba(X)[:, 1]
        np.testing.assert_array_equal(two, one)  # the same trees: the same sums, bit for bit
