"""report.html for a tuning run (`fcast tune --output`, `fcast report RUN`): built from the
run's files alone, every keyed figure equals tune.json and prints as `fmt` prints it, the
page is offline and its charts decode (the shared checker); the trial list is trials.csv
row for row; each fold's starred trial carries the parameters tune.json says the fold
chose; the equity curve's total return equals the strategy's; `fcast report` on the run
record rebuilds the page byte for byte; a run recorded before equity.csv existed still
gets a page."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from cli_run import run
from test_report_pages import Page, page_problems

from forecast.report import build_report, report_kind
from forecast.runs import list_runs

pytestmark = pytest.mark.slow

SECTIONS = ("key-figures", "verdict", "forecast", "equity", "trials", "folds", "all-trials", "settings")


@pytest.fixture(scope="module")
def tuned(tune_output):
    out, home = tune_output
    return out, list_runs(home)


def test_the_page_passes_the_checker_and_has_every_section(tuned):
    out, _ = tuned
    text = (out / "report.html").read_text()
    doc = json.loads((out / "tune.json").read_text())
    assert report_kind(out) == "tune"
    assert page_problems(text, doc, min_keyed=40) == []
    parsed = Page(text)
    assert tuple(s for s in parsed.sections if s) == SECTIONS
    assert {img["data-chart"] for img in parsed.images} == {"equity", "trials"}


def test_trials_figures_and_choices_agree_with_the_files(tuned):
    out, _ = tuned
    doc = json.loads((out / "tune.json").read_text())
    trials = pd.read_csv(out / "trials.csv")
    # 5 trials in each of the 2 folds of 126 test days refitted every 63
    assert doc["trials"] == 10 == len(trials) and doc["trials_per_fold"] == [5, 5]
    text = (out / "report.html").read_text()
    parsed = Page(text)
    keyed = {n["attrs"].get("data-key"): n for n in parsed.numbers if n["attrs"].get("data-key")}
    assert keyed["trials"]["text"] == "10"
    # each fold's starred trial: the parameters the fold chose
    for fold, chosen in trials[trials["chosen"]].groupby("fold"):
        assert all(json.loads(p) == doc["params_per_fold"][fold] for p in chosen["params"])
    # one row of the trial list per trial, the chosen ones highlighted
    listing = text[text.index('id="all-trials"'):text.index('id="settings"')]
    assert listing.count("<tr") - 1 == len(trials)
    assert listing.count('class="best"') == int(trials["chosen"].sum())
    # the curve the page draws ends where the strategy's total return says
    equity = pd.read_csv(out / "equity.csv", index_col="date", parse_dates=["date"])
    assert equity["strategy"].iloc[-1] / equity["strategy"].iloc[0] - 1 == pytest.approx(
        doc["strategy"]["total_return"], rel=1e-12)
    assert str(equity.index[0].date()) == doc["strategy"]["start"]


def test_report_rebuilds_the_same_page_from_the_record(tuned, tmp_path, capsys, monkeypatch):
    out, runs = tuned
    assert len(runs) == 1 and runs[0]["kind"] == "tune"
    record = tmp_path / "record"
    shutil.copytree(runs[0]["path"], record)
    shutil.copytree(out, tmp_path / "out")
    assert build_report(record).replace("record/", "out/") == build_report(tmp_path / "out")
    monkeypatch.setenv("FCAST_HOME", str(tmp_path / "home"))
    code, stdout, _ = run(capsys, "report", str(tmp_path / "out"))
    assert code == 0 and "report.html" in stdout
    assert (tmp_path / "out" / "report.html").read_bytes() == (out / "report.html").read_bytes()


def test_a_run_without_equity_csv_gets_a_page_that_says_so(tuned, tmp_path):
    out, _ = tuned
    old = tmp_path / "old"
    shutil.copytree(out, old)
    (old / "equity.csv").unlink()
    text = build_report(old)
    assert "no equity.csv" in text and 'data-chart="equity"' not in text
    assert page_problems(text, json.loads((old / "tune.json").read_text()), min_keyed=30) == []


def test_a_folder_with_a_broken_trials_csv_is_one_line(tuned, tmp_path, capsys, monkeypatch):
    out, _ = tuned
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    (bad / "trials.csv").write_text("fold,trial\n0,0\n")
    monkeypatch.setenv("FCAST_HOME", str(tmp_path / "home"))
    code, _, err = run(capsys, "report", str(bad))
    assert code != 0 and "trials.csv needs columns" in err and "Traceback" not in err
