"""Data sources as plug-ins: the registry, the generated --source help, a new source."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.data import sources
from forecast.data.loader import load_bars
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError


def test_registry_names_every_source_once_in_resolution_order():
    assert sources.source_names() == ("store", "yahoo", "file", "bundled")
    assert set(sources.RESOLUTION_ORDER) <= set(sources.source_names())
    assert all(cls.name == name and cls.describe for name, cls in sources.SOURCES.items())


def test_source_help_is_written_from_the_registry(monkeypatch):
    assert sources.source_help() == (
        "Force a source: store, yahoo, file or bundled (default: store, Yahoo, bundled)."
    )
    monkeypatch.setitem(sources.SOURCES, "stooq", sources.Source)
    assert "file, bundled or stooq (default" in sources.source_help()


def test_a_new_source_is_one_class_and_one_registry_entry(monkeypatch, tmp_path):
    asked = []

    class Synthetic(sources.Source):
        name = "synthetic"
        describe = "a random walk"

        def load(self, ticker, start=None, end=None) -> pd.DataFrame:
            asked.append((ticker, start, end))
            return random_walk_bars(50, seed=1)

    monkeypatch.setitem(sources.SOURCES, Synthetic.name, Synthetic)
    bars = load_bars("zz", source="synthetic", store=Store(tmp_path), end="2020-02-03")
    assert asked == [("ZZ", None, "2020-02-03")]
    assert bars.index[-1] <= pd.Timestamp("2020-02-03") and len(bars) > 0


def test_file_source_without_a_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="--source file needs a file path"):
        load_bars("X", source="file", store=Store(tmp_path))
