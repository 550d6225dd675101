"""How a walk-forward's folds and members are cut into tasks, and that any completion order
collects the serial forecasts (an executor finishing tasks backwards, no Ray)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from leakage_shapes import universe
from threadpoolctl import threadpool_limits
from warm_models import WarmMean

from forecast.data.synthetic import ar1_bars
from forecast.evaluate import fold_map
from forecast.evaluate.pooled import portfolio_walk_forward

WF = {"window": 5, "min_train": 60, "test_days": 90, "retrain_every": 30}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Many tiny logistic regressions: BLAS threads only contend."""
    with threadpool_limits(1):
        yield


def test_member_groups_cover_every_member_once_in_order():
    for n in (1, 2, 5, 7, 12):
        for k in (1, 2, 3, 4, 20):
            groups = fold_map.member_groups(n, k)
            assert [i for g in groups for i in g] == list(range(n))
            assert len(groups) == min(n, k) and max(map(len, groups)) - min(map(len, groups)) <= 1


def test_the_plan_is_the_serial_loop_unless_folds_or_tickers_are_independent():
    folds = ["f0", "f1", "f2"]
    serial = [([f], [0, 1, 2, 3, 4]) for f in folds]
    assert fold_map.plan_tasks(folds, 5, pooled=False, warm=False, workers=2, parallel=False) == serial
    assert fold_map.plan_tasks(folds, 5, pooled=True, warm=False, workers=2, parallel=True) == serial
    cold = fold_map.plan_tasks(folds, 5, pooled=False, warm=False, workers=1, parallel=True)
    assert cold == [([f], g) for f in folds for g in ([0, 1, 2], [3, 4])]
    warm = fold_map.plan_tasks(folds, 5, pooled=False, warm=True, workers=1, parallel=True)
    assert warm == [(folds, [0, 1, 2]), (folds, [3, 4])]  # each ticker's folds chain in one task


class Backwards:
    """A parallel executor that finishes its tasks last first (what a cluster may do), and
    ships every member through `put` (counted)."""

    parallel = True
    workers = 2

    def __init__(self):
        self.puts = 0
        self.tasks = 0

    def put(self, obj):
        self.puts += 1
        return obj

    def map_tasks(self, fn, arg_lists, on_result):
        self.tasks = len(arg_lists)
        results = [fn(*args) for args in arg_lists]
        for i in reversed(range(len(arg_lists))):
            on_result(i, results[i])


@pytest.mark.slow
@pytest.mark.parametrize(("model", "pooled"), [("logreg", True), ("logreg", False),
                                               (WarmMean(), False), (WarmMean(warm_start=False), False)])
def test_any_completion_order_gives_the_serial_frame(model, pooled):
    u = universe(ar1_bars, n=330, k=5)
    serial = portfolio_walk_forward(u, model, pooled=pooled, **WF)
    executor = Backwards()
    done = []
    out = portfolio_walk_forward(u, model, pooled=pooled, executor=executor,
                                 progress=lambda k, n: done.append((k, n)), **WF)
    assert out.to_csv() == serial.to_csv() and out.attrs == serial.attrs
    n_folds = serial.attrs["n_folds"]
    assert executor.puts == 5  # each member once, whatever the number of tasks
    assert done == [(k, n_folds) for k in range(n_folds)]
    assert executor.tasks == (n_folds if pooled else 4 if WarmMean is type(model) and model.warm_start
                              else 4 * n_folds)


@pytest.mark.slow
def test_the_warm_chain_matters_so_the_check_above_can_fail():
    """Were a warm model's folds run cold (or out of order) the frame would differ."""
    u = universe(ar1_bars, n=330, k=5)
    warm = portfolio_walk_forward(u, WarmMean(), pooled=False, **WF)
    cold = portfolio_walk_forward(u, WarmMean(warm_start=False), pooled=False, **WF)
    first = warm["fold"] == warm["fold"].min()
    assert warm[first].to_csv() == cold[first].to_csv()
    assert not np.allclose(warm.loc[~first, "prob_up"], cold.loc[~first, "prob_up"])


@pytest.mark.slow
def test_a_warm_pooled_model_runs_its_folds_here_and_says_so(caplog):
    u = universe(ar1_bars, n=330, k=4)
    executor = Backwards()
    with caplog.at_level(logging.WARNING, logger="fcast"):
        out = portfolio_walk_forward(u, WarmMean(), pooled=True, executor=executor, **WF)
    assert executor.tasks == 0  # nothing went to the executor
    assert out.to_csv() == portfolio_walk_forward(u, WarmMean(), pooled=True, **WF).to_csv()
    notes = [r.getMessage() for r in caplog.records if "warm refits" in r.getMessage()]
    assert len(notes) == 1 and "one after another" in notes[0]
