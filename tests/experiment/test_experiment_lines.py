"""What an experiment prints and writes says what ran: the plan line counts the walk-forwards
that run (per ticker, over the universe), the spans line agrees with results.csv, two
portfolios that differ only in their target read as two rows, and the page names the best
configuration by the rank its table shows."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd
import pytest

from forecast.cli.app import main
from forecast.experiment import ExperimentSpec

PORTFOLIOS_ONLY = """\
name = "pf"
tickers = ["KO", "MSFT", "AAPL"]
start = "2014-01-01"

[walk_forward]
test_days = 126

[[models]]
name = "logreg"

[[portfolios]]
name = "long-short"
params = { k = 1 }

[[portfolios]]
name = "long-short"
params = { k = 1 }
target = "beats-median"
"""


@pytest.fixture(scope="module")
def portfolios_only(tmp_path_factory):
    """(exit code, stdout, stderr, output folder) of the portfolios-only spec, run once."""
    root = tmp_path_factory.mktemp("lines")
    spec = root / "pf.toml"
    spec.write_text(PORTFOLIOS_ONLY)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.setenv("FCAST_HOME", str(root / "home"))
        mp.setenv("FCAST_OFFLINE", "1")
        code = main(["experiment", "run", str(spec), "--source", "bundled", "--output", str(root / "out")])
    return code, out.getvalue(), err.getvalue(), root / "out"


@pytest.mark.slow
def test_a_portfolios_only_plan_counts_the_universe_walk_forwards(portfolios_only):
    code, _, err, _ = portfolios_only
    assert code == 0, err
    first = " ".join(err.split("\n")[:3])  # the line may wrap
    assert "ticker(s) x" not in first  # no per-ticker model is trained
    assert re.search(r"1 model\(s\) x 1 seed\(s\) x 2 target/pooling setting\(s\) = 2 walk-forward run\(s\) "
                     r"over the universe of 3 tickers; 2 configuration\(s\)", " ".join(first.split()))


def test_a_mixed_plan_names_both_kinds_of_walk_forward():
    from forecast.cli.experiment_cmd import plan

    spec = ExperimentSpec.from_dict({
        "tickers": ["KO", "MSFT", "AAPL"], "models": [{"name": "logreg"}], "seeds": [0, 1],
        "strategies": [{"name": "long-only"}, {"name": "long-short"}],
        "portfolios": [{"name": "long-short", "params": {"k": 1}}],
    })
    # 3 tickers x 2 seeds per ticker; 2 seeds x 1 target over the universe; 12 + 2 configurations
    assert plan(spec) == ("3 ticker(s) x 1 model(s) x 2 seed(s) = 6 per-ticker walk-forward run(s) and "
                          "1 model(s) x 2 seed(s) x 1 target/pooling setting(s) = 2 walk-forward run(s) "
                          "over the universe of 3 tickers; 14 configuration(s)")


def test_the_spans_line_agrees_with_results_csv(portfolios_only):
    _, out, _, folder = portfolios_only
    csv = pd.read_csv(folder / "results.csv")
    assert set(csv["ticker"]) == {"portfolio"}
    line = next(line for line in out.splitlines() if line.startswith("backtest spans:"))
    assert line == f"backtest spans: portfolio {csv['start'].min()} to {csv['end'].max()}"


def test_portfolios_differing_only_in_target_are_two_rows(portfolios_only):
    _, out, _, folder = portfolios_only
    csv = pd.read_csv(folder / "results.csv")
    assert sorted(csv["target"]) == ["beats-median", "direction"] and list(csv["pooled"]) == [True, True]
    table = [line for line in out.splitlines() if line.startswith("│") and "long-short(k=1)" in line]
    assert len(table) == 2 and sum("beats-median" in line for line in table) == 1
    assert sum("direction" in line for line in table) == 1


def test_the_page_names_the_best_by_its_rank_in_the_table(portfolios_only):
    _, _, _, folder = portfolios_only
    doc = json.loads((folder / "experiment.json").read_text())
    best = doc["tests"]["best"]["row"]
    by_sharpe = sorted(range(len(doc["rows"])), key=lambda i: -doc["rows"][i]["sharpe"])
    page = (folder / "report.html").read_text()
    assert f"(#{by_sharpe.index(best) + 1} in the table)" in page and "(row " not in page


def test_a_ticker_without_bars_in_the_span_fails_in_one_line_before_training(tmp_path, capsys, folds):
    """KO's bundled bars end on 2017-11-10: a span from 2018 holds none of AAPL's or KO's.
    Before: every row failed late, one error line per configuration, and a broken table."""
    spec = tmp_path / "late.toml"
    spec.write_text('name = "late"\ntickers = ["AAPL", "KO", "MSFT"]\nstart = "2018-01-01"\n\n'
                    '[[models]]\nname = "logreg"\n\n[[strategies]]\nname = "long-only"\n\n'
                    '[[strategies]]\nname = "long-short"\n')
    code = main(["experiment", "run", str(spec), "--source", "bundled", "--output", str(tmp_path / "out")])
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert code == 1 and captured.out == "" and folds == []
    assert errors == ["error: experiment late: no bars from 2018-01-01 to the last bar for AAPL, KO, MSFT; "
                      "change the spec's start/end or drop the ticker(s) (nothing was trained)"]
    assert not (tmp_path / "out").exists()
