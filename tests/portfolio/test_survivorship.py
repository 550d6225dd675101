"""A portfolio says whether its universe is survivorship-biased only when fcast knows:
bundled stocks are (true), synthetic bars and the bundled indices are not (false), and a
user's own data is unknown (null), never a reassuring false."""

from __future__ import annotations

import json

import pytest

from forecast.cli.app import main
from forecast.data.bundled import load_bundled
from forecast.data.sources import survivorship_biased
from forecast.data.synthetic import random_walk_bars


def _as(source: str, bars):
    bars = bars.copy()
    bars.attrs["source"] = source
    return bars


def test_known_biased_known_unbiased_and_unknown():
    synthetic, ko = random_walk_bars(50), load_bundled("KO")
    assert survivorship_biased({"KO": ko, "A": synthetic}) is True
    assert survivorship_biased({"KO": ko, "X": _as("file:x.csv", synthetic)}) is True
    assert survivorship_biased({"A": synthetic, "^GSPC": load_bundled("^GSPC")}) is False
    assert survivorship_biased({"X": _as("file:x.csv", synthetic), "A": synthetic}) is None
    assert survivorship_biased({"X": _as("yahoo", synthetic)}) is None


@pytest.mark.slow
def test_a_portfolio_of_imported_tickers_says_unknown(tmp_path, capsys):
    for ticker in ("KO", "MSFT", "AAPL"):
        path = tmp_path / f"{ticker}.csv"
        export = ["data", "export", ticker, str(path), "--source", "bundled", "--start", "2014-01-01"]
        assert main(export) == 0
        assert main(["data", "import", ticker, str(path)]) == 0
    capsys.readouterr()
    code = main(["portfolio", "KO", "MSFT", "AAPL", "--source", "store", "--start", "2014-01-01",
                 "--model", "logreg", "--strategy", "long-short", "--param", "k=1",
                 "--test-days", "252", "--output", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "survivorship_biased" in doc and doc["survivorship_biased"] is None
    assert "survivorship" not in capsys.readouterr().out  # no bundled-stock caution either
