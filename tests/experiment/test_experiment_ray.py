"""Experiments on a real local Ray cluster (2 CPUs): the same rows as a serial run, and a
worker that dies is retried once, then reported as a failed row while the rest finish."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap

import pytest

from forecast.experiment import ExperimentSpec, RayExecutor, SerialExecutor, run_experiment

pytestmark = [pytest.mark.ray, pytest.mark.slow]

# Ray is a runtime dependency, in the lock. Not imported here: RayExecutor must be the one
# to import it, after it has set up Ray's environment (importorskip would import it first).
assert importlib.util.find_spec("ray") is not None, "ray is a dependency of fcast: reinstall"

COMPARED = ("ticker", "model", "seed", "strategy", "params", "commission", "slippage", "start", "end",
            "total_return", "sharpe", "sharpe_se", "psr", "psr_vs_benchmark", "max_drawdown", "n_trades",
            "benchmark_sharpe", "accuracy", "status")


@pytest.fixture(scope="module")
def ray_cluster():
    """One 2-CPU local cluster for the module (starting Ray takes seconds)."""
    import os

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    assert "ray" not in sys.modules or "RAY_AUTH_TOKEN" in os.environ, "something imported ray too early"
    with RayExecutor(workers=2) as executor:
        yield executor


def _spec(models, **extra) -> ExperimentSpec:
    return ExperimentSpec.from_dict({
        "name": "ray-test", "tickers": ["KO", "MSFT"], "start": "2014-01-01", "end": "2017-11-10",
        "walk_forward": {"test_days": 252}, "models": models,
        "strategies": [{"name": "long-only"}, {"name": "long-short", "params": {"upper": [0.52, 0.55]}}],
        "costs": {"commission": [0.0, 0.001]}, **extra,
    })


def _rows(result):
    return [{k: row[k] for k in COMPARED} for row in result.rows]


def test_ray_gives_the_rows_of_a_serial_run(ray_cluster, tmp_path):
    # mlp on TensorFlow too: same seed, same numbers, whether it trains here or in a worker.
    spec = _spec([{"name": "logreg"}, {"name": "mlp", "params": {"epochs": 1}}])
    serial = run_experiment(spec, source="bundled", cache=False, executor=SerialExecutor())
    on_ray = run_experiment(spec, source="bundled", cache=False, executor=ray_cluster)
    assert on_ray.executor == {"name": "ray", "workers": 2}
    assert all(row["status"] == "ok" for row in serial.rows)
    assert json.dumps(_rows(on_ray)) == json.dumps(_rows(serial))
    assert on_ray.tests["verdict"] == serial.tests["verdict"]
    assert on_ray.tests["spa"] == serial.tests["spa"] and on_ray.tests["pbo"] == serial.tests["pbo"]


def test_ray_results_fill_the_cache_a_serial_rerun_reads(ray_cluster):
    spec = _spec([{"name": "logreg"}])
    first = run_experiment(spec, source="bundled", executor=ray_cluster)
    again = run_experiment(spec, source="bundled", executor=SerialExecutor())
    assert first.cache["trained"] == 2 and first.cache["hits"] == 0
    assert again.cache["trained"] == 0 and again.cache["hits"] == 2
    assert _rows(again) == _rows(first)


KILLER = """
    import os
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression


    class {name}(LogisticRegression):
        '''Logistic regression whose worker dies {when}.'''

        def fit(self, X, y, **kwargs):
            marker = Path({marker!r})
            if {condition}:
                marker.touch()
                os.kill(os.getpid(), 9)
            return super().fit(X.reshape(len(X), -1), y)

        def predict_proba(self, X):
            return super().predict_proba(X.reshape(len(X), -1))
"""


def _killer(tmp_path, name: str, when: str, condition: str) -> str:
    path = tmp_path / f"{name.lower()}.py"
    marker = tmp_path / f"{name}.died"
    path.write_text(textwrap.dedent(KILLER.format(name=name, when=when, marker=str(marker),
                                                  condition=condition)))
    return f"{path}:{name}"


def test_a_worker_that_dies_once_is_retried(ray_cluster, tmp_path):
    model = _killer(tmp_path, "DiesOnce", "on its first fit only", "not marker.exists()")
    result = run_experiment(_spec([{"name": model}]), source="bundled", cache=False, executor=ray_cluster)
    assert [row["status"] for row in result.rows] == ["ok"] * len(result.rows)


def test_a_worker_that_keeps_dying_is_a_failed_row_and_the_rest_finish(ray_cluster, tmp_path):
    model = _killer(tmp_path, "AlwaysDies", "on every fit", "True")
    result = run_experiment(_spec([{"name": model}, {"name": "logreg"}]), source="bundled", cache=False,
                            executor=ray_cluster)
    dead = [row for row in result.rows if row["model"] == model]
    alive = [row for row in result.rows if row["model"] == "logreg"]
    assert dead and all("the worker died (retried once)" in row["status"] for row in dead)
    assert alive and all(row["status"] == "ok" for row in alive)
    assert result.tests["n_trials"] == len(alive)
