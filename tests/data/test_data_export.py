"""`fcast data export`: a ticker's bars to a CSV or Parquet file that `data import` reads back
(the README's first data example uses it, so a user's clone needs no data folder beside it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_run import run

from forecast.data.bundled import load_bundled
from forecast.data.store import Store


@pytest.mark.parametrize("name", ["ko.csv", "ko.parquet"])
def test_exported_bars_import_back_unchanged(tmp_path, capsys, name):
    path = tmp_path / name
    code, out, err = run(capsys, "data", "export", "KO", path, "--source", "bundled", "--start", "2015-01-01")
    assert code == 0, err
    expected = load_bundled("KO").loc["2015-01-01":]
    assert f"wrote {len(expected):,} bars of KO (bundled)" in out
    if name.endswith(".csv"):
        assert path.read_text().splitlines()[0] == "date," + ",".join(expected.columns)
    code, _, err = run(capsys, "data", "import", "KO", path)
    assert code == 0, err
    stored = Store().read("KO")
    pd.testing.assert_index_equal(stored.index, expected.index, check_names=False)
    for col in expected.columns:
        np.testing.assert_array_equal(stored[col].to_numpy(float), expected[col].to_numpy(float))


def test_export_never_overwrites_without_force(tmp_path, capsys):
    path = tmp_path / "ko.csv"
    path.write_text("mine")
    code, out, err = run(capsys, "data", "export", "KO", path, "--source", "bundled")
    assert code == 1 and out == "" and err.count("\n") == 1 and "--force" in err
    assert path.read_text() == "mine"
    code, _, err = run(capsys, "data", "export", "KO", path, "--source", "bundled", "--force")
    assert code == 0, err
    assert path.read_text().startswith("date,open,high,low,close,volume")
