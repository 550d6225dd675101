"""Universe walk-forwards on a real local Ray cluster (2 CPUs): the same frame, files, cache
entries and experiment rows as the serial run; failures are one line."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from leakage_shapes import universe

from forecast.cli.app import main
from forecast.data.synthetic import ar1_bars
from forecast.evaluate.pooled import portfolio_walk_forward
from forecast.experiment import ExperimentSpec, RayExecutor, SerialExecutor, run_experiment
from forecast.user_code import load_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from normalise_outputs import normalise  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]
assert importlib.util.find_spec("ray") is not None, "ray is a dependency of fcast: reinstall"

WF = {"window": 5, "min_train": 60, "test_days": 90, "retrain_every": 30}
TICKERS = ["KO", "MSFT", "AAPL", "IBM"]
BASE = ["portfolio", *TICKERS, "--source", "bundled", "--start", "2014-06-01", "--strategy", "top-k",
        "--param", "k=1", "--test-days", "126", "--retrain-every", "42"]
PORTFOLIO = [*BASE, "--model", "logreg"]

@pytest.fixture(scope="module")
def cluster():
    """One 2-CPU local cluster for the module; the CLI runs below find it already started."""
    with RayExecutor(workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def user_models() -> Path:
    """A file of models, loaded by path as a user's `--model path/file.py:Class`."""
    return Path(__file__).resolve().parents[1] / "warm_models.py"


@pytest.mark.parametrize(("model", "pooled"), [("logreg", True), ("logreg", False), ("gbm", False),
                                               ("WarmMean", False), ("WarmMean", True)])
def test_workers_give_the_serial_frame(cluster, user_models, model, pooled):
    if model == "WarmMean":  # a class from a user's file: its code travels to the workers
        model = load_reference(f"{user_models}:WarmMean", "model")()
    u = universe(ar1_bars, n=330, k=5)
    serial = portfolio_walk_forward(u, model, pooled=pooled, **WF)
    done = []
    parallel = portfolio_walk_forward(u, model, pooled=pooled, executor=cluster,
                                      progress=lambda k, n: done.append((k, n)), **WF)
    assert parallel.to_csv() == serial.to_csv()  # every digit of every float
    assert parallel.attrs == serial.attrs
    assert done == [(k, serial.attrs["n_folds"]) for k in range(serial.attrs["n_folds"])]


def _run(*args) -> int:
    return main(["--home", str(Path.cwd() / "home"), *args])


def _files(folder: Path) -> dict:
    for path in folder.iterdir():
        normalise(path)
    return {p.name: p.read_text().replace(folder.name, "DIR") for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("mode", ["--pooled", "--per-ticker"])
def test_the_cli_with_workers_writes_the_serial_files(cluster, tmp_path, monkeypatch, mode):
    monkeypatch.chdir(tmp_path)
    assert _run(*PORTFOLIO, mode, "--no-cache", "--output", "serial") == 0
    assert _run(*PORTFOLIO, mode, "--no-cache", "--output", "workers", "--workers", "2") == 0
    serial, workers = _files(tmp_path / "serial"), _files(tmp_path / "workers")
    assert {"predictions.csv", "metrics.json", "weights.csv"} <= set(serial)
    assert workers == serial


def test_a_run_with_workers_fills_the_cache_every_later_run_reads(cluster, tmp_path, monkeypatch, capsys):
    from forecast.evaluate import walkforward

    monkeypatch.chdir(tmp_path)
    assert _run(*PORTFOLIO, "--workers", "2") == 0
    # Anything trained from here on would run a fold task in this process (serial) or be
    # sent to the cluster (workers): count both.
    calls = []
    monkeypatch.setattr(walkforward, "fold_task", lambda *a: calls.append(a) or None)
    capsys.readouterr()
    assert _run(*PORTFOLIO, "--workers", "2") == 0
    assert _run(*PORTFOLIO) == 0  # the key does not hold the workers
    assert calls == []
    assert capsys.readouterr().err.count("from the portfolio prediction cache") == 2


def test_a_failing_task_is_the_serial_runs_one_line_and_exit_1(cluster, user_models, tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.chdir(tmp_path)
    errors = []
    for extra in ((), ("--workers", "2")):
        code = _run(*BASE, "--per-ticker", "--model", f"{user_models}:Broken", *extra)
        err = capsys.readouterr().err
        assert code == 1 and "Traceback" not in err
        errors.append(err.strip().splitlines()[-1])
    # The same line: the workers name a user's model by its file too.
    assert errors[0] == f"error: model {user_models}:Broken: fit failed: RuntimeError: boom in fit"
    assert errors[1] == errors[0]


def test_an_experiments_portfolios_on_workers_equal_the_serial_rows(cluster):
    spec = ExperimentSpec.from_dict({
        "name": "pf-ray", "tickers": TICKERS, "start": "2014-06-01",
        "walk_forward": {"test_days": 126, "retrain_every": 42}, "models": [{"name": "logreg"}],
        "portfolios": [{"name": "long-short", "params": {"k": [1]}},
                       {"name": "top-k", "params": {"k": 1}, "target": "beats-median", "pooled": False}],
    })
    serial = run_experiment(spec, source="bundled", cache=False, executor=SerialExecutor(), spa_reps=50)
    on_ray = run_experiment(spec, source="bundled", cache=False, executor=cluster, spa_reps=50)
    assert [r["status"] for r in serial.rows] == ["ok", "ok"]
    drop = ("seconds",)
    rows = [[{k: v for k, v in r.items() if k not in drop} for r in res.rows] for res in (serial, on_ray)]
    assert json.dumps(rows[1], default=repr) == json.dumps(rows[0], default=repr)



def test_tasks_run_with_the_drivers_thread_counts(cluster):
    """Ray gives a 1-CPU task one BLAS thread; a large product summed in other chunks differs
    in its last digits (logreg on 100 tickers did), so tasks take the driver's counts."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def counts(info):
        return {lib["prefix"]: lib["num_threads"] for lib in info}

    for limit in (1, 2):
        with threadpool_limits(limit):
            seen = {}
            cluster.map_tasks(threadpool_info, [(), ()], seen.__setitem__)
            assert [counts(info) for info in seen.values()] == [counts(threadpool_info())] * 2


@pytest.mark.parametrize("pooled", [True, False])
def test_workers_give_the_serial_frame_when_training_follows_membership(cluster, pooled):
    """A point-in-time universe: each fold trains on its members at the training end only,
    the same members on the cluster as in this process."""
    import pandas as pd

    from forecast.data import membership as ms

    u = universe(ar1_bars, n=330, k=5)
    day = u.calendar
    intervals = pd.DataFrame({"ticker": u.tickers, "start": [day[0]] * len(u.tickers),
                              "end": [ms.OPEN_END] * len(u.tickers)})
    intervals.loc[1, "end"] = day[270]  # leaves before the last folds' training ends
    intervals.loc[2, "start"] = day[290]  # joins late: trains in the last fold only

    class Membership:
        def mask(self, dates, tickers=None):
            return ms.member_mask(intervals, dates, tickers)

    u.membership = Membership()
    serial = portfolio_walk_forward(u, "logreg", pooled=pooled, **WF)
    parallel = portfolio_walk_forward(u, "logreg", pooled=pooled, executor=cluster, **WF)
    assert parallel.to_csv() == serial.to_csv()
    assert parallel.attrs == serial.attrs
    everyone = portfolio_walk_forward(u, "logreg", pooled=pooled, train_on="all", **WF)
    assert everyone.to_csv() != serial.to_csv()  # the membership did change who trained
