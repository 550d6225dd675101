"""Review of `fcast tune --workers` (issue 23): other models than logreg searched on Ray
give the serial run's forecasts and record bit for bit; a user's model file travels; a
model that fails inside a search is the serial run's one line in both modes; a --workers
run fills the prediction cache a serial run then hits; each fold's record is that fold's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecast.cache import PredictionCache
from forecast.data.synthetic import random_walk_bars
from forecast.evaluate.walkforward import walk_forward
from forecast.tune import TuneSettings

pytestmark = [pytest.mark.ray, pytest.mark.slow]

SCHEDULE = dict(window=5, test_days=120, retrain_every=40)


def _tuned(walk, model, executor=None, model_params=None, space=None, trials=3, **kw):
    settings = TuneSettings(trials=trials, inner_block=40, executor=executor, space=space)
    return walk_forward(walk, model, model_params=model_params, tune=settings, **{**SCHEDULE, **kw})


def _same(parallel, serial):
    pd.testing.assert_frame_equal(parallel, serial, check_exact=True)
    assert json.dumps(parallel.attrs, sort_keys=True, default=str) == json.dumps(
        serial.attrs, sort_keys=True, default=str)


@pytest.mark.parametrize("model, params, space", [
    ("gbm", None, {"max_iter": {"low": 5, "high": 20}, "max_depth": {"low": 1, "high": 3}}),
    # rf with n_jobs > 1 is not reproducible even serially (tests/models/test_review_forest_threads.py)
    ("rf", None, {"n_estimators": {"low": 5, "high": 20}, "max_depth": {"low": 2, "high": 6}}),
    ("lgbm", {"n_jobs": 2}, {"n_estimators": {"low": 5, "high": 20}, "num_leaves": {"low": 4, "high": 16}}),
])
def test_other_models_searched_on_ray_equal_the_serial_run(walk, cluster, model, params, space):
    serial = _tuned(walk, model, model_params=params, space=space)
    assert serial.attrs["tune"]["trials"] == 9
    _same(_tuned(walk, model, cluster, model_params=params, space=space), serial)


def test_a_fold_skipped_for_short_history_keeps_the_records_aligned(walk, cluster):
    # more folds than tasks' workers, a record per fold, each fold's own (keyed by its index)
    serial = _tuned(walk, "logreg", trials=2, test_days=200, retrain_every=25)
    parallel = _tuned(walk, "logreg", cluster, trials=2, test_days=200, retrain_every=25)
    folds = serial.attrs["tune"]["folds"]
    assert [f["fold"] for f in folds] == sorted(set(serial["fold"]))
    _same(parallel, serial)
    # every fold's inner validation ends before that fold's first test date
    for f in folds:
        first_test = serial.index[serial["fold"] == f["fold"]].min()
        assert pd.Timestamp(f["inner"][-1]["validate_end"]) < first_test


USER_FILE = '''
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class Picky(ClassifierMixin, BaseEstimator):
    search_space = {"C": {"low": 0.01, "high": 10.0, "log": True}}

    def __init__(self, C=1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        if self.C > 0.05:
            raise ValueError(f"C {self.C:.3f} is too large for me")
        self.model_ = LogisticRegression(C=self.C).fit(np.asarray(X)[:, -1, :], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X)[:, -1, :])
'''


def _fcast(*args, home: Path) -> subprocess.CompletedProcess:
    env = {"FCAST_HOME": str(home), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "forecast", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


CLI = ["--source", "bundled", "--start", "2015-01-01", "--window", "5", "--test-days", "126",
       "--retrain-every", "63", "--json", "--no-cache"]


@pytest.mark.parametrize("how", ["serial", "workers"])
def test_a_model_failing_inside_a_search_is_one_line_without_a_traceback(tmp_path, how):
    """Optuna logs a failed trial as a WARNING with the traceback; fcast must not let it out."""
    user = tmp_path / "picky.py"
    user.write_text(USER_FILE)
    extra = ["--workers", "2"] if how == "workers" else []
    done = _fcast("tune", "KO", "--model", f"{user}:Picky", "--trials", "3", *CLI, *extra, home=tmp_path)
    assert done.returncode == 1
    assert "too large for me" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_workers_run_fills_the_cache_a_serial_run_hits(walk, cluster, tmp_path):
    cache = PredictionCache(tmp_path)
    settings = TuneSettings(trials=2, inner_block=40, executor=cluster)
    first = cache.walk_forward(walk, "logreg", tune=settings, **SCHEDULE)
    assert cache.last == "miss"
    again = cache.walk_forward(walk, "logreg", tune=TuneSettings(trials=2, inner_block=40), **SCHEDULE)
    assert cache.last == "hit"
    _same(again, first)
    assert again.attrs["tune"]["trials"] == 6


@pytest.mark.keras
def test_a_tiny_mlp_searched_on_ray_equals_the_serial_run(cluster):
    bars = random_walk_bars(400, seed=5)
    bars.attrs["ticker"] = "RW"
    space = {"hidden_units": {"choices": [4, 8]}, "learning_rate": {"low": 1e-3, "high": 1e-2, "log": True}}

    def tuned(executor=None):
        settings = TuneSettings(trials=2, inner_folds=2, inner_block=40, space=space, executor=executor)
        return walk_forward(bars, "mlp", model_params={"epochs": 1}, tune=settings, window=5, test_days=80,
                            retrain_every=40)

    serial = tuned()
    assert serial.attrs["tune"]["trials"] == 4
    _same(tuned(cluster), serial)


SLOW_FIRST_FOLD = '''
import time
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Refuses(ClassifierMixin, BaseEstimator):
    search_space = {"C": {"low": 0.01, "high": 10.0, "log": True}}

    def __init__(self, C=1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        if len(y) < 400:  # fold 1's first inner training set (fold 2's holds 63 rows more)
            time.sleep(3)
        raise ValueError(f"fit on {len(y)} rows refused")

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)
'''


def test_a_failing_search_on_ray_reports_the_serial_runs_line(tmp_path):
    """Every fold fails, fold 1 slowest. The serial run stops at fold 1's error; the
    workers run must print that same line (not whichever fold failed first, and naming
    the model as the serial run does: by its file reference)."""
    user = tmp_path / "refuses.py"
    user.write_text(SLOW_FIRST_FOLD)
    args = ["tune", "KO", "--model", f"{user}:Refuses", "--trials", "2", *CLI]
    serial = _fcast(*args, home=tmp_path)
    parallel = _fcast(*args, "--workers", "2", home=tmp_path)
    assert serial.returncode == parallel.returncode == 1
    line = serial.stderr.strip().splitlines()[-1]
    assert "fit on 366 rows refused" in line and f"{user}:Refuses" in line  # fold 1's, as serial
    assert parallel.stderr.strip() == line
