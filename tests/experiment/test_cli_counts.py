"""Counts in the experiment's progress lines agree with their nouns: "1 CPU", not "1 CPUs"."""

from __future__ import annotations

from forecast.cli.options import where as _where
from forecast.experiment import RayExecutor, SerialExecutor


def test_the_executor_line_counts_cpus_in_words():
    assert _where(RayExecutor(workers=1)) == "on a local Ray cluster of 1 CPU"
    assert _where(RayExecutor(workers=4)) == "on a local Ray cluster of 4 CPUs"
    assert _where(SerialExecutor()) == "serial, in this process"
