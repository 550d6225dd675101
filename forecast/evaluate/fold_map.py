"""Where a walk-forward's fold tasks run, and how its folds and members are cut into tasks.

The walk-forward (`forecast.evaluate.walkforward.run_folds`) plans tasks (folds x members),
hands them to an executor's ``map_tasks(fn, arg_lists, on_result)``, and collects the
forecasts in the serial order whatever order they finish in. The default runs them here,
in order (`InProcess`); a parallel executor is injected from above
(`forecast.experiment.executors.RayExecutor`), so this layer never imports Ray.

An executor has `parallel` (False: tasks may share state in this process, in order),
`workers`, ``put(obj)`` (an object every task reads, shipped once) and
``map_tasks(fn, arg_lists, on_result)``: runs ``fn(*args)`` for each, calls
``on_result(i, value)`` in the driver as task i finishes, and raises (an `FcastError` with
one line) when a task fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("fcast")

OnResult = Callable[[int, Any], None]


class InProcess:
    """Fold tasks one after another in this process, oldest first: the serial walk-forward."""

    parallel = False
    workers = 1

    def put(self, obj: Any) -> Any:
        return obj

    def map_tasks(self, fn: Callable, arg_lists: Sequence[tuple], on_result: OnResult) -> None:
        for i, args in enumerate(arg_lists):
            on_result(i, fn(*args))


def is_parallel(executor: Any) -> bool:
    return executor is not None and bool(getattr(executor, "parallel", False))


def plan_tasks(folds: list, n_members: int, *, pooled: bool, warm: bool, workers: int,
               parallel: bool) -> list[tuple[list, list[int]]]:
    """The tasks of a walk-forward, each (folds it runs oldest first, member indices).

    In process, and for a pooled model: one task per fold, every member (the serial loop).
    Cold per-ticker models on a parallel executor: a fold's members in groups, one task per
    fold and group. Warm per-ticker models (each ticker's model continues its previous
    fold's): one task per group of members, running every fold in order, so no model
    travels between tasks. A warm pooled model chains every fold: the caller runs it in
    process.
    """
    everyone = list(range(n_members))
    if not parallel or pooled:
        return [([fold], everyone) for fold in folds]
    groups = member_groups(n_members, 2 * max(1, int(workers)))
    if warm:
        return [(list(folds), group) for group in groups]
    return [([fold], group) for fold in folds for group in groups]


def member_groups(n_members: int, n_groups: int) -> list[list[int]]:
    """0..n_members-1 in at most `n_groups` contiguous groups of near-equal size."""
    n_groups = max(1, min(n_groups, n_members))
    size, extra = divmod(n_members, n_groups)
    out, start = [], 0
    for g in range(n_groups):
        stop = start + size + (g < extra)
        out.append(list(range(start, stop)))
        start = stop
    return [g for g in out if g]


def warm_note(pooled: bool) -> str:
    """The line said once when warm refits limit what runs in parallel."""
    if pooled:
        return ("warm refits chain the folds (each starts from the previous fold's model): the pooled "
                "walk-forward runs its folds one after another in this process; warm_start=false makes "
                "them independent")
    return ("warm refits chain each ticker's folds: tickers run in parallel, each one's folds in order; "
            "warm_start=false makes the folds independent")
