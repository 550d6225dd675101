"""`[filters]` in an experiment spec: the universe filters of `fcast portfolio`, for every
portfolio of the spec, recorded with it."""

from __future__ import annotations

import json
import logging

import pytest

from forecast.errors import ConfigError
from forecast.experiment import ExperimentSpec
from forecast.portfolio.filters import FilterSettings

TICKERS = ["KO", "MSFT", "AAPL", "IBM", "XOM"]
BASE = {"tickers": TICKERS, "models": ["logreg"], "portfolios": [{"name": "top-k", "params": {"k": 2}}]}
SPEC = """\
name = "filtered"
tickers = ["KO", "MSFT", "AAPL", "IBM", "XOM"]
start = "2013-01-01"
[walk_forward]
test_days = 100
[[models]]
name = "logreg"
[[portfolios]]
name = "top-k"
params = { k = 2 }
[costs]
commission = [0.001]
[filters]
min_price = 60
drop_extreme_moves = true
"""


def test_filters_are_checked_and_recorded():
    spec = ExperimentSpec.from_dict({**BASE, "filters": {"min_price": 5, "min_dollar_volume": 1e7}})
    assert spec.to_dict()["filters"] == FilterSettings(min_price=5, min_dollar_volume=1e7).as_dict()
    # no table, or one that filters nothing: no key, so every older experiment.json is as it was
    assert "filters" not in ExperimentSpec.from_dict(BASE).to_dict()
    nothing = ExperimentSpec.from_dict({**BASE, "filters": {"drop_extreme_moves": False}})
    assert "filters" not in nothing.to_dict()


@pytest.mark.parametrize(("table", "message"), [
    ({"min_prise": 5}, "unknown key(s) in [filters]: min_prise"),
    ({"min_price": -1}, "min-price must be a number > 0, not -1"),
    ({"dollar_volume_window": 0}, "dollar-volume-window must be a whole number >= 1"),
])
def test_bad_filters_are_one_line(table, message):
    with pytest.raises(ConfigError) as caught:
        ExperimentSpec.from_dict({**BASE, "filters": table})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_filters_without_portfolios_are_refused():
    with pytest.raises(ConfigError, match=r"\[filters\] choose which tickers a portfolio may rank"):
        ExperimentSpec.from_dict({"tickers": TICKERS, "models": ["logreg"], "filters": {"min_price": 5}})


def test_a_window_without_its_threshold_is_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fcast"):
        FilterSettings(dollar_volume_window=60)
    assert "dollar-volume-window 60 has no effect without min-dollar-volume" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fcast"):
        FilterSettings(dollar_volume_window=60, min_dollar_volume=1e6)
        FilterSettings()
    assert caplog.text == ""


@pytest.mark.slow
def test_the_experiment_row_equals_fcast_portfolio_with_the_same_filters(tmp_path, capsys, monkeypatch):
    from cli_run import run

    monkeypatch.setenv("FCAST_OFFLINE", "1")
    (tmp_path / "spec.toml").write_text(SPEC)
    assert run(capsys, "experiment", "run", tmp_path / "spec.toml", "--output", tmp_path / "exp")[0] == 0
    code, _, err = run(capsys, "portfolio", *TICKERS, "--start", "2013-01-01", "--model", "logreg",
                       "--strategy", "top-k", "--param", "k=2", "--test-days", "100", "--commission", "0.001",
                       "--min-price", "60", "--drop-extreme-moves", "--output", tmp_path / "pf")
    assert code == 0, err
    record = json.loads((tmp_path / "exp" / "experiment.json").read_text())
    assert record["spec"]["filters"]["min_price"] == 60
    (row,) = record["rows"]
    folder = tmp_path / "exp" / row["run"]
    for name in ("metrics.json", "equity.csv", "weights.csv", "trades.csv", "ic.csv"):
        assert (folder / name).read_bytes() == (tmp_path / "pf" / name).read_bytes(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["settings"]["filters"]["min_price"] == 60
    # The filter bit: some ticker-days were not eligible (else this proves nothing).
    unfiltered = tmp_path / "plain"
    assert run(capsys, "portfolio", *TICKERS, "--start", "2013-01-01", "--model", "logreg", "--strategy",
               "top-k", "--param", "k=2", "--test-days", "100", "--commission", "0.001",
               "--output", unfiltered)[0] == 0
    assert (unfiltered / "weights.csv").read_bytes() != (folder / "weights.csv").read_bytes()
