"""Nested tuning with the folds' searches on a real local Ray cluster (2 CPUs): the same
trials, choices, forecasts and JSON as the serial run, bit for bit; the searches' records
come back from the tasks (without bringing them back the run would count no trials)."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest
from cli_run import run

from forecast.evaluate.walkforward import walk_forward
from forecast.tune import TuneSettings, fold_models

pytestmark = [pytest.mark.ray, pytest.mark.slow]
assert importlib.util.find_spec("ray") is not None, "ray is a dependency of fcast: reinstall"

SCHEDULE = dict(window=5, test_days=120, retrain_every=40)


def _tuned(walk, executor=None):
    settings = TuneSettings(trials=5, inner_block=40, executor=executor)
    return walk_forward(walk, "logreg", tune=settings, **SCHEDULE)


def test_searches_on_ray_equal_the_serial_run(walk, cluster):
    serial, parallel = _tuned(walk), _tuned(walk, cluster)
    assert len(serial.attrs["tune"]["folds"]) == 3 and serial.attrs["tune"]["trials"] == 15
    pd.testing.assert_frame_equal(parallel, serial, check_exact=True)
    assert json.dumps(parallel.attrs, sort_keys=True, default=str) == json.dumps(serial.attrs, sort_keys=True,
                                                                                  default=str)


def test_without_bringing_the_records_back_the_trials_would_be_lost(walk, cluster, monkeypatch):
    monkeypatch.setattr(fold_models.TunedFoldModels, "keep_record", lambda self, i, record: None)
    lost = _tuned(walk, cluster)
    assert lost.attrs["tune"]["trials"] == 0  # the check above can fail
    assert _tuned(walk).attrs["tune"]["trials"] == 15  # in process, prepare keeps them itself


def test_fcast_tune_with_workers_prints_the_serial_json(cluster, capsys):
    args = ["tune", "KO", "--model", "logreg", "--trials", "3", "--source", "bundled",
            "--start", "2015-01-01", "--window", "5", "--test-days", "126", "--retrain-every", "42",
            "--json", "--no-cache"]
    code, serial, _ = run(capsys, *args)
    assert code == 0
    code, parallel, err = run(capsys, *args, "--workers", "2")
    assert code == 0 and "Traceback" not in err
    assert json.loads(parallel) == json.loads(serial)
    assert json.loads(serial)["trials"] == 9
