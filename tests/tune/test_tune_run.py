"""`fcast tune`, `tune_model`, the cache key and `[tune]` in experiment specs.

The DSR is checked against Bailey & López de Prado's formula written out here (scipy's
normal and moments), with N = the trials the run counted; bad input is one line, exit 1
or 2, before any data loads.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_run import run
from scipy import stats

from forecast.cache import PredictionCache, prediction_key
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.experiment import ExperimentSpec, run_experiment
from forecast.models.registry import MODELS, default_params
from forecast.runs import list_runs
from forecast.tune import TuneSettings
from forecast.tune.api import tune_model
from forecast.tune.space import declared_space, parse_space

SCHEDULE = dict(window=5, test_days=120, retrain_every=60)
CLI = ["--source", "bundled", "--start", "2013-01-01", "--window", "5", "--test-days", "126",
       "--retrain-every", "63"]


@pytest.fixture(scope="module")
def walk():
    bars = random_walk_bars(700, seed=7)
    bars.attrs["ticker"] = "RW"
    return bars


# --- the spaces --------------------------------------------------------------------------------

def test_every_declared_space_fits_its_models_parameters():
    declared = {name: declared_space(cls) for name, cls in MODELS.items() if declared_space(cls)}
    assert {"mlp", "lstm", "logreg", "gbm", "rf"} <= set(declared)
    for name, table in declared.items():
        dims = parse_space(table, default_params(name))
        assert {d.name for d in dims} == set(table)


@pytest.mark.parametrize("table, message", [
    ({"C": {"low": 10, "high": 1}}, "low (10) must be below high (1)"),
    ({"C": {"low": 0, "high": 1, "log": True}}, "a log range needs low > 0"),
    ({"C": {"low": 1}}, "needs low and high"),
    ({"C": {"choices": []}}, "choices must be a non-empty list"),
    ({"C": {"low": 1, "high": 2, "step": 1}}, "unknown key(s) step"),
    ({"C": 3}, "must be a table"),
    ({"gamma": {"low": 1, "high": 2}}, "the model has no parameter(s) gamma"),
    ({}, "must be a non-empty table"),
])
def test_a_bad_space_is_one_line(table, message):
    with pytest.raises(ConfigError) as exc:
        parse_space(table, default_params("logreg"))
    assert message in str(exc.value) and "\n" not in str(exc.value)


# --- the API: counted trials, the DSR, the cache ----------------------------------------------

@pytest.mark.slow
def test_tune_model_counts_every_trial_in_its_dsr(walk):
    result = tune_model(walk, "logreg", TuneSettings(trials=5, inner_block=40), baselines=("majority",),
                        **SCHEDULE)
    d = result.to_dict()
    assert d["trials"] == 10 and d["trials_per_fold"] == [5, 5] and len(d["params_per_fold"]) == 2
    for key in ("accuracy", "n", "accuracy_se", "log_loss", "baselines", "n_scored", "start", "end"):
        assert key in d
    # Bailey & López de Prado (2014) by hand: SR0 from N = 10 and the trials' Sharpe variance.
    equity = result.backtest.equity["strategy"].to_numpy()
    r = equity[1:] / equity[:-1] - 1
    sharpes = np.array([s for f in d["tune"]["folds"] for s in f["trial_sharpes"]])
    assert len(sharpes) == 10
    n, gamma = 10, 0.5772156649015329
    sr0 = math.sqrt(np.var(sharpes, ddof=1) / 252) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / n) + gamma * stats.norm.ppf(1 - 1 / (n * math.e)))
    sr = r.mean() / r.std(ddof=1)
    skew, kurt = stats.skew(r), stats.kurtosis(r, fisher=False)
    spread = math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    expected = stats.norm.cdf((sr - sr0) * math.sqrt(len(r) - 1) / spread)
    assert d["dsr"] == pytest.approx(expected, rel=1e-6)
    assert "10 trials spent (5 per fold, 2 folds)" in result.verdict()


@pytest.mark.slow
def test_tuned_runs_are_cached_under_their_own_key(walk, tmp_path):
    cache = PredictionCache(tmp_path)
    tune = TuneSettings(trials=3, inner_block=40)
    first = cache.walk_forward(walk, "logreg", tune=tune, **SCHEDULE)
    assert cache.last == "miss"
    again = cache.walk_forward(walk, "logreg", tune=tune, **SCHEDULE)
    assert cache.last == "hit" and again.attrs["tune"]["trials"] == first.attrs["tune"]["trials"] == 6
    assert np.array_equal(again["prob_up"].to_numpy(), first["prob_up"].to_numpy())
    keys = {prediction_key(walk, "logreg", tune=t, **SCHEDULE)[0]
            for t in (tune, TuneSettings(trials=4, inner_block=40), TuneSettings(trials=3, inner_block=30),
                      TuneSettings(trials=3, inner_block=40, space={"C": {"low": 0.1, "high": 1.0}}), None)}
    assert len(keys) == 5
    # The progress callback is not part of the key; an untuned key has no tune field.
    noisy = TuneSettings(trials=3, inner_block=40, on_trial=lambda *a: None)
    assert prediction_key(walk, "logreg", tune=noisy, **SCHEDULE)[0] == prediction_key(
        walk, "logreg", tune=tune, **SCHEDULE)[0]
    assert "tune" not in prediction_key(walk, "logreg", **SCHEDULE)[1]


# --- the CLI ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_json_has_evaluates_fields_plus_the_trials_and_records_the_run(capsys, isolated_home):
    code, out, err = run(capsys, "tune", "KO", "--model", "logreg", "--trials", "3", "--json", *CLI)
    assert code == 0, err
    d = json.loads(out)
    code, evaluated, _ = run(capsys, "evaluate", "KO", "--model", "logreg", "--json", *CLI)
    assert code == 0
    assert set(json.loads(evaluated)) <= set(d)
    assert d["trials"] == sum(d["trials_per_fold"]) == 3 * len(d["trials_per_fold"])
    assert len(d["params_per_fold"]) == len(d["trials_per_fold"]) == 2
    code, listed, _ = run(capsys, "runs", "list")
    assert "logreg-tuned" in listed
    (recorded,) = list_runs(isolated_home)
    assert recorded["kind"] == "tune" and recorded["trials"] == d["trials"]
    kept = json.loads((Path(recorded["path"]) / "tune.json").read_text())
    assert kept["params_per_fold"] == d["params_per_fold"] and kept["trials"] == d["trials"]
    code, shown, _ = run(capsys, "runs", "show", recorded["id"])
    assert code == 0 and f"tuned: {d['trials']} trials" in shown


@pytest.mark.slow
def test_cli_prints_a_line_per_trial_and_the_count(capsys):
    code, out, err = run(capsys, "tune", "KO", "--model", "logreg", "--trials", "2", *CLI)
    assert code == 0, err
    assert err.count("trial ") == 4 and "fold 2/2 trial 2" in err
    assert "4 trials spent (2 per fold, 2 folds)" in out


@pytest.mark.parametrize("args, message", [
    (["--model", "majority", "--trials", "3"], "declares no search_space"),
    (["--model", "logreg", "--trials", "0"], "--trials"),
    (["--model", "logreg", "--trials", "3", "--metric", "auc"], "tuning metric must be one of"),
    (["--model", "logreg", "--trials", "3", "--space", "missing.toml"], "cannot read search space"),
    (["--model", "logreg"], "--trials"),
])
def test_cli_bad_input_is_one_line(capsys, args, message):
    code, out, err = run(capsys, "tune", "KO", *args, "--source", "bundled")
    assert code != 0 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("space, message", [
    ("[space]\nC = { low = 1, high = 0.1 }\n", "low (1) must be below high (0.1)"),
    ("[space]\ngamma = { low = 1, high = 2 }\n", "no parameter(s) gamma"),
    ("[space]\nepochs = { low = 1, high = 3 }\n", "given as a model parameter and searched"),
])
def test_cli_bad_space_file_is_one_line(capsys, tmp_path, space, message):
    path = tmp_path / "space.toml"
    path.write_text(space)
    model = ["--model", "mlp", "--epochs", "2"] if "epochs" in space else ["--model", "logreg"]
    code, _, err = run(capsys, "tune", "KO", *model, "--trials", "2", "--space", path, "--source", "bundled")
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


# --- [tune] in experiment specs ---------------------------------------------------------------

BASE = {"tickers": ["KO"], "models": [{"name": "logreg"}], "start": "2014-01-01",
        "walk_forward": {"window": 5, "test_days": 126, "retrain_every": 63}}


@pytest.mark.parametrize("tune, message", [
    ({"model": "gbm", "trials": 3}, "[tune] model gbm is not one of the [[models]]"),
    ({"model": "logreg"}, "[tune] needs trials"),
    ({"model": "logreg", "trials": 0}, "trials must be"),
    ({"model": "logreg", "trials": 2, "depth": 3}, "unknown key(s) in [tune]: depth"),
    ({"model": "logreg", "trials": 2, "space": {"gamma": {"low": 1, "high": 2}}}, "no parameter(s) gamma"),
    ({"trials": 2}, "[tune] needs model"),
])
def test_a_bad_tune_table_is_one_line(tune, message):
    with pytest.raises(ConfigError) as exc:
        ExperimentSpec.from_dict({**BASE, "tune": tune})
    assert message in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.slow
def test_experiment_counts_its_tuning_trials(isolated_home):
    spec = ExperimentSpec.from_dict({**BASE, "models": [{"name": "logreg"}, {"name": "majority"}],
                                     "tune": {"model": "logreg", "trials": 3}})
    result = run_experiment(spec, home=isolated_home, source="bundled", spa_reps=50)
    tests = result.tests
    tuned = [r for r in result.rows if r["model"] == "logreg"]
    assert [r["tuning_trials"] for r in tuned] == [6] and "tuned" in tuned[0]["label"]
    assert tests["tuning_trials"] == 6 and tests["n_configurations"] == 2 and tests["n_trials"] == 8
    assert "8 trials" in tests["verdict"]
    assert spec.to_dict()["tune"] == {"model": "logreg", "trials": 3}
