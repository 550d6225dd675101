"""Counts agree with their nouns: "1 entry", "1 worker", "2 runs", never "1 entries"."""

from __future__ import annotations

from forecast.formatting import count
from forecast.report.experiment_page import _executor_text


def test_count_agrees_with_its_noun():
    assert count(1, "entry", "entries") == "1 entry"
    assert count(0, "entry", "entries") == "0 entries"
    assert count(2, "run") == "2 runs" and count(1, "run") == "1 run"
    assert count(1234, "bar") == "1,234 bars"


def test_the_experiment_page_counts_workers():
    assert _executor_text({"name": "serial", "workers": 1}) == "serial, in this process"
    assert _executor_text({"name": "ray", "workers": 1}) == "ray (1 worker)"
    assert _executor_text({"name": "ray", "workers": 4}) == "ray (4 workers)"
