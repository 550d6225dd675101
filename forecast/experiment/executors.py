"""Where an experiment's walk-forward runs execute: in this process, or on Ray.

An executor takes `Job`s (one walk-forward each: the expensive unit) and calls
``on_done(job, frame, error)`` in the driver as each finishes, in completion order.
`error` is one line (the task's FcastError, or what killed it); the driver caches frames
and scores them, so workers need no shared disk. Ray is imported only by `RayExecutor`.

Both are also fold executors for a universe walk-forward (``map_tasks``, see
`forecast.evaluate.fold_map`): the serial one runs its folds here, in order; the Ray one
runs independent folds (and per-ticker models within a fold) as tasks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from forecast.evaluate.fold_map import InProcess, OnResult

log = logging.getLogger("fcast")


@dataclass
class Job:
    """What a worker needs for one walk-forward run (bars travel once per ticker)."""

    key: str  # the task's `key`: unique in the experiment (the spec drops repeated settings)
    bars: Any  # a DataFrame, or a Ray ObjectRef to one
    model: str
    model_params: dict
    walk_forward: dict
    backend: str | None  # the Keras backend the driver selected (None: not a Keras model)


OnDone = Callable[[Job, pd.DataFrame | None, str | None], None]


def compute_predictions(bars: pd.DataFrame, model: str, model_params: dict, walk_forward: dict,
                        backend: str | None) -> pd.DataFrame:
    """One walk-forward run, as a worker makes it (the same call in-process or on Ray)."""
    if backend is not None:
        from forecast.models.backend import select_backend

        select_backend(backend)
    from forecast.evaluate import walk_forward as run

    return run(bars, model, model_params=model_params, **walk_forward)


def error_line(exc: BaseException) -> str:
    """The one line a failed row shows: an FcastError's message, else the exception's type and text."""
    from forecast.errors import FcastError

    if isinstance(exc, FcastError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


class SerialExecutor:
    """Run jobs one after another in this process: no Ray, no extra memory."""

    name = "serial"
    workers = 1
    parallel = False  # a walk-forward given this runs its folds in process, in order

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def put(self, bars: pd.DataFrame):
        return bars

    def run(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        for job in jobs:
            try:
                frame = compute_predictions(job.bars, job.model, job.model_params, job.walk_forward,
                                            job.backend)
            except Exception as exc:  # noqa: BLE001 - one failed task is one failed row, not a failed grid
                on_done(job, None, error_line(exc))
                continue
            on_done(job, frame, None)

    map_tasks = InProcess.map_tasks  # a universe walk-forward's folds, here and in order


LOCAL_OBJECT_STORE = 512 * 2**20


def _quiet_ray_environment(local: bool) -> None:
    """Settings Ray reads when it is imported, so they are set before `import ray`.

    Never a usage-stats upload; never re-launch workers through `uv run` (Ray's hook does
    that under `uv run` and the first task then hangs). A cluster this process starts
    listens on the loopback only, with a fresh token (no warning, nothing in ~/.ray);
    an existing cluster keeps its own settings.
    """
    import secrets
    import sys

    if "ray" in sys.modules:
        # Ray read its settings when it was imported: a token set now would reach the
        # cluster's processes but not this one, which then cannot authenticate.
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # A failed fold task stops the walk-forward with its one line; the tasks cancelled then
    # (or failed too) would each print a traceback as their results are dropped.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    if local:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        if "RAY_AUTH_MODE" not in os.environ:
            os.environ["RAY_AUTH_MODE"] = "token"
            os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)


def _check_reachable(address: str) -> None:
    """An explicit host:port that takes no connection fails here in seconds (Ray itself
    retries for minutes); "auto" and anything else are Ray's to judge."""
    import socket

    from forecast.errors import ConfigError

    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None


class RayExecutor:
    """Run jobs as Ray tasks: on a local cluster of `workers` CPUs that this starts, or on
    the cluster at `address`.

    A task whose worker dies is retried once (`max_retries=1`), then reported as a failed
    row; an exception raised by the task itself is not retried (it would fail again).
    Ctrl-C cancels the pending tasks, and a cluster this started is shut down on exit.
    """

    name = "ray"
    parallel = True

    def __init__(self, workers: int | None = None, address: str | None = None):
        if workers is None and address is None:
            raise ValueError("give workers or address")
        self.workers = workers
        self.address = address
        self._started = False
        self._ray = None

    def __enter__(self) -> RayExecutor:
        from forecast.errors import ConfigError

        if self.address is not None:
            _check_reachable(self.address)
        _quiet_ray_environment(local=self.address is None)
        import ray

        self._ray = ray
        kwargs = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
                      configure_logging=True)
        env = {"env_vars": {k: v for k, v in os.environ.items()
                            if k in ("KERAS_BACKEND", "FCAST_HOME", "CUDA_VISIBLE_DEVICES", "FCAST_OFFLINE")}}
        try:
            if ray.is_initialized():
                pass
            elif self.address is not None:
                ray.init(address=self.address, runtime_env=env, **kwargs)
                self._started = True
            else:
                # Bars are the only objects shipped: a small store fits any /dev/shm.
                ray.init(num_cpus=self.workers, runtime_env=env, object_store_memory=LOCAL_OBJECT_STORE,
                         **kwargs)
                self._started = True
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise ConfigError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
        if self.workers is None:
            self.workers = int(ray.cluster_resources().get("CPU", 1))
        return self

    def __exit__(self, *exc) -> None:
        if self._started and self._ray is not None:
            self._ray.shutdown()
            self._started = False

    def put(self, bars: pd.DataFrame):
        """Bars go to the object store once per ticker, not once per task."""
        return self._ray.put(bars)

    def run(self, jobs: Sequence[Job], on_done: OnDone) -> None:
        from forecast.errors import FcastError

        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=1, retry_exceptions=False)(compute_predictions)
        pending = {}
        for job in jobs:
            ref = remote.remote(job.bars, job.model, job.model_params, job.walk_forward, job.backend)
            pending[ref] = job
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        frame = _outcome(ray, ref)
                    except FcastError as exc:
                        on_done(job, None, str(exc))
                        continue
                    on_done(job, frame, None)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise

    def map_tasks(self, fn: Callable, arg_lists: Sequence[tuple], on_result: OnResult) -> None:
        """Run ``fn(*args)`` for each as a Ray task (ObjectRefs among the args are resolved
        in the worker) and call ``on_result(i, value)`` here as task i finishes. A failure
        raises the failure of the earliest task that fails, as the serial loop would (the
        tasks before it are waited for, those after it cancelled): the task's own FcastError
        as it was, anything else as one FcastError line (a worker that died is retried once
        first)."""
        from threadpoolctl import threadpool_info

        from forecast.errors import FcastError

        ray = self._ray
        files = _ship_user_files(ray)
        # The driver's BLAS and OpenMP thread counts (Ray gives a 1-CPU task one thread): a
        # large product summed in other chunks differs in its last digits, and the forecasts
        # must be the serial run's to the digit.
        threads = {lib["prefix"]: lib["num_threads"] for lib in threadpool_info()}
        remote = ray.remote(num_cpus=1, max_retries=1, retry_exceptions=False)(_with_threads)
        pending = {remote.remote(threads, files, fn, *args): i for i, args in enumerate(arg_lists)}
        failed: tuple[int, FcastError] | None = None  # the earliest task that failed so far
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in done:
                    i = pending.pop(ref)
                    try:
                        value = _outcome(ray, ref)
                    except FcastError as exc:
                        if failed is None or i < failed[0]:
                            failed = (i, exc)
                        for later in [r for r, j in pending.items() if j > failed[0]]:
                            ray.cancel(later, force=True)  # no result after a failure matters
                            pending.pop(later)
                        continue
                    if failed is None:
                        on_result(i, value)
        except BaseException:
            for ref in pending:  # Ctrl-C or a bug here: nothing left running on the cluster
                ray.cancel(ref, force=True)
            raise
        if failed is not None:
            raise failed[1]


def _with_threads(threads: dict, files: dict, fn: Callable, *args):
    """``fn(*args)`` with these thread counts per BLAS/OpenMP library (a task, on a worker).
    `files`: user-file module name -> its file, registered here as an empty module holding
    that path, so a shipped class is named by its file as in the driver (errors say it)."""
    import sys
    import types

    from threadpoolctl import threadpool_limits

    for name, path in files.items():
        if name not in sys.modules:
            stub = types.ModuleType(name)
            stub.__file__ = path
            sys.modules[name] = stub
    with threadpool_limits(limits=threads):
        return fn(*args)


def _ship_user_files(ray) -> dict[str, str]:
    """A task's arguments may hold a class from a user's file (``--model path/file.py:Class``):
    its module exists only in this process, so its code travels with the task (by value).
    Returns each such module's name and file."""
    import sys

    from forecast.user_code import FILE_MODULE_PREFIX

    files = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(FILE_MODULE_PREFIX):
            ray.cloudpickle.register_pickle_by_value(module)
            files[name] = str(getattr(module, "__file__", "") or "")
    return files


def _outcome(ray, ref):
    """A finished task's value; its failure as an FcastError: the task's own, or one line
    saying what failed it (a worker that died was retried once first)."""
    from forecast.errors import FcastError

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, FcastError):
            raise cause from None
        raise FcastError(error_line(cause) if cause is not None else str(exc).splitlines()[0]) from None
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
            ray.exceptions.TaskCancelledError) as exc:
        raise FcastError(f"the worker died (retried once): {type(exc).__name__}") from None
    except ray.exceptions.RayError as exc:
        raise FcastError(f"Ray failed the task: {type(exc).__name__}") from None
