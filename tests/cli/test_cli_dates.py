"""Bad input that used to surface as "unexpected ..." or as a puzzling late error: dates pandas
parses but a bar index cannot hold (before 1677-09-22, after 2262-04-11), in options or in a
data file; --start after --end; a binary file given as an experiment's TOML spec; infinite
cash or fees. Each is one line, and the options' come before any data loads."""

from __future__ import annotations

import pytest
from cli_run import run

import forecast.data.loader
from forecast.data.loader import load_bars
from forecast.errors import ConfigError


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if any source is asked for bars: the dates must be refused first."""
    def refuse(*args, **kwargs):
        raise AssertionError("bars were loaded before the dates were checked")

    monkeypatch.setattr(forecast.data.loader, "make_source", refuse)


EARLY = "before 1677-09-22, the earliest date fcast can represent"
LATE = "after 2262-04-11, the latest date fcast can represent"

BAD_DATES = [
    (["backtest", "KO", "--model", "logreg", "--start", "1600-01-01"], f"--start 1600-01-01 is {EARLY}"),
    (["backtest", "KO", "--model", "logreg", "--end", "1600-01-01"], f"--end 1600-01-01 is {EARLY}"),
    (["backtest", "KO", "--model", "logreg", "--end", "3000-01-01"], f"--end 3000-01-01 is {LATE}"),
    (["backtest", "KO", "--model", "logreg", "--start", "2020-01-01", "--end", "2019-01-01"],
     "--start 2020-01-01 is after --end 2019-01-01"),
    (["evaluate", "KO", "--model", "logreg", "--start", "1066-10-14"], f"--start 1066-10-14 is {EARLY}"),
    (["evaluate", "KO", "--model", "logreg", "--start", "2016-06-01", "--end", "2016-05-31"],
     "--start 2016-06-01 is after --end 2016-05-31"),
    (["train", "KO", "--model", "logreg", "--end", "1600-01-01"], f"--end 1600-01-01 is {EARLY}"),
    (["portfolio", "KO", "MSFT", "--start", "1600-01-01"], f"--start 1600-01-01 is {EARLY}"),
    (["portfolio", "KO", "MSFT", "--start", "2015-01-01", "--end", "2014-01-01"],
     "--start 2015-01-01 is after --end 2014-01-01"),
    (["data", "fetch", "KO", "--start", "1500-01-01"], f"--start 1500-01-01 is {EARLY}"),
    (["data", "fetch", "KO", "--start", "2015-01-01", "--end", "2014-01-01"],
     "--start 2015-01-01 is after --end 2014-01-01"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), BAD_DATES, ids=[" ".join(a) for a, _ in BAD_DATES])
def test_a_date_fcast_cannot_use_is_one_line_before_any_loading(capsys, no_loading, args, message):
    code, out, err = run(capsys, *args, "--source", "bundled") if args[0] != "data" else run(capsys, *args)
    assert code == 1
    assert err == f"error: {message}\n" or err.startswith(f"error: {message}:"), err
    assert "unexpected" not in err and out == ""


def test_the_library_refuses_the_same_dates():
    with pytest.raises(ConfigError, match="start 1600-01-01 is before 1677-09-22"):
        load_bars("KO", source="bundled", start="1600-01-01")
    with pytest.raises(ConfigError, match="start 2020-01-01 is after end 2019-01-01"):
        load_bars("KO", source="bundled", start="2020-01-01", end="2019-01-01")


def test_the_earliest_and_latest_dates_still_load_everything():
    every = load_bars("KO", source="bundled")
    bounded = load_bars("KO", source="bundled", start="1677-09-22", end="2262-04-11")
    assert len(bounded) == len(every) > 1000


def test_an_experiment_span_before_1677_is_one_line(capsys, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "old"\ntickers = ["KO"]\nstart = "1600-01-01"\nmodels = ["logreg"]\n'
                    'strategies = ["long-only"]\n')
    code, _, err = run(capsys, "experiment", "run", spec, "--source", "bundled")
    assert code == 1
    assert err == f"error: start 1600-01-01 is {EARLY}\n", err


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
                         ids=["random bytes", "a PNG header"])
def test_a_binary_spec_file_is_not_a_toml_text_file(capsys, tmp_path, content):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(content)
    code, _, err = run(capsys, "experiment", "run", spec)
    assert code == 1
    assert err == f"error: experiment spec {spec} is not a TOML text file (it holds binary data)\n", err


def test_a_data_file_dated_before_1677_is_one_line(capsys, tmp_path):
    csv = tmp_path / "old.csv"
    csv.write_text("date,open,high,low,close,volume\n1600-01-03,1,1,1,1,10\n1600-01-04,1,1,1,1,10\n")
    expected = ("error: OLD: date 1600-01-03 is outside 1677-09-22 to 2262-04-11, "
                "the dates fcast can represent\n")
    assert run(capsys, "data", "import", "OLD", csv)[::2] == (1, expected)
    assert run(capsys, "data", "show", "OLD", "--source", "file", "--file", csv)[::2] == (1, expected)


@pytest.mark.parametrize("option", ["--cash", "--min-commission", "--commission-per-share"])
def test_an_infinite_amount_is_refused_before_any_loading(capsys, no_loading, option):
    code, _, err = run(capsys, "backtest", "KO", "--model", "majority", option, "inf")
    assert code == 2
    assert err.startswith(f"error: Invalid value for '{option}': must be a finite number, not inf"), err
