"""Review of the tuning page (issue 23): the trial a fold chose is one trial (the study's
best), even when trials repeat parameters; a damaged tune.json or trials.csv is one clear
line naming the file (a ConfigError, not the catch-all "unexpected ..."); null DSR/PBO/p
still give a page; the chart's running best follows the metric's direction."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from cli_run import run
from test_report_pages import page_problems

from forecast.charts.tuning import trial_scores
from forecast.data.synthetic import random_walk_bars
from forecast.report import build_report
from forecast.tune import TuneSettings
from forecast.tune.api import tune_model


@pytest.mark.slow
def test_each_fold_chose_one_trial_even_when_trials_repeat_parameters():
    """A space of two choices: TPE draws the same parameters again and again. The fold
    chose one trial (Optuna's best: the first complete one with the best value); trials.csv
    (and so the page's stars and highlighted rows) must mark that one, not every repeat."""
    bars = random_walk_bars(500, seed=3)
    bars.attrs["ticker"] = "RW"
    space = {"input_mode": {"choices": ["latest", "flatten"]}}
    settings = TuneSettings(trials=6, inner_block=40, space=space)
    result = tune_model(bars, "logreg", settings, baselines=(), window=5, test_days=80, retrain_every=40)
    table = result.trial_table()
    for _, rows in table.groupby("fold"):
        complete = rows[rows["state"] == "complete"]
        best = complete["value"].min()  # log_loss: lower is better
        first_best = complete[complete["value"] == best]["trial"].iloc[0]
        assert rows["chosen"].sum() == 1, rows[["trial", "state", "value", "chosen", "params"]]
        assert rows.loc[rows["chosen"], "trial"].item() == first_best


HEAD = "fold,trial,state,value,sharpe,chosen,params\n"


@pytest.mark.slow
@pytest.mark.parametrize("name, damage, says", [
    ("tune.json", lambda doc: {**doc, "tune": "x"}, "tune.json"),
    ("tune.json", lambda doc: {**doc, "tune": {**doc["tune"], "folds": [1, 2]}}, "tune.json"),
    ("tune.json", lambda doc: {**doc, "strategy": [1]}, "tune.json"),
    ("trials.csv", HEAD + "x,0,complete,0.5,0.1,True,{}\n", "trials.csv"),
    ("trials.csv", HEAD + "0,a,complete,0.5,0.1,True,{}\n", "trials.csv"),
    ("trials.csv", HEAD + "0,0,complete,abc,0.1,True,{}\n", "trials.csv"),
])
def test_a_damaged_record_is_one_clear_line_naming_the_file(tune_output, tmp_path, capsys, monkeypatch,
                                                             name, damage, says):
    out, _ = tune_output
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    if callable(damage):
        (bad / name).write_text(json.dumps(damage(json.loads((out / name).read_text()))))
    else:
        (bad / name).write_text(damage)
    monkeypatch.setenv("FCAST_HOME", str(tmp_path / "home"))
    code, _, err = run(capsys, "report", str(bad))
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert says in err and "unexpected" not in err, err


@pytest.mark.slow
def test_a_run_without_dsr_pbo_or_p_still_gets_a_checked_page(tune_output, tmp_path):
    out, _ = tune_output
    folder = tmp_path / "nulls"
    shutil.copytree(out, folder)
    doc = json.loads((folder / "tune.json").read_text())
    doc.update(dsr=None, pbo=None, p_value=None, pbo_per_fold=[None] * len(doc["pbo_per_fold"]))
    (folder / "tune.json").write_text(json.dumps(doc))
    text = build_report(folder)
    assert page_problems(text, doc, min_keyed=30) == []
    assert "too few days to deflate" in text and "no evidence it beats it" in text


@pytest.mark.parametrize("maximize, running", [(True, [0.5, 0.5, 0.6, 0.6]), (False, [0.5, 0.5, 0.5, 0.5])])
def test_the_running_best_follows_the_metric_and_skips_pruned_trials(maximize, running):
    trials = pd.DataFrame({"fold": [0] * 5, "trial": range(5),
                           "state": ["pruned", "complete", "pruned", "complete", "complete"],
                           "value": [0.9, 0.5, 0.8, 0.6, 0.55], "chosen": [False, False, False, True, False]})
    fig = trial_scores(trials, metric="accuracy", maximize=maximize)
    (step,) = fig.axes[0].get_lines()
    y = step.get_ydata()
    assert pd.isna(y[0]) and list(y[1:]) == running  # a pruned first trial is no best yet
