"""The `ens:a,b,c` shorthand: each member walked forward alike (each with its own cache entry),
then averaged; its name and members recorded; bad names refused in one line.
(Look-ahead: the `ens:` case in tests/evaluate/test_leakage.py.)"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_run import run

from forecast.cache import PredictionCache
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import walk_forward
from forecast.models.ensemble_name import ensemble_members, ensemble_params

SCHEDULE = dict(window=5, test_days=120, retrain_every=60, min_train=200, seed=3)


@pytest.fixture(scope="module")
def bars():
    return random_walk_bars(500, seed=7)


def test_the_shorthand_is_the_mean_of_the_members_run_alone(bars):
    ens = walk_forward(bars, "ens:logreg, gbm,momentum", model_params={"gbm": {"max_iter": 5}}, **SCHEDULE)
    alone = [walk_forward(bars, "logreg", **SCHEDULE),
             walk_forward(bars, "gbm", model_params={"max_iter": 5}, **SCHEDULE),
             walk_forward(bars, "momentum", **SCHEDULE)]
    by_hand = sum(frame["prob_up"].to_numpy() for frame in alone) / 3
    np.testing.assert_allclose(ens["prob_up"].to_numpy(), by_hand, rtol=0, atol=1e-15)
    pd.testing.assert_series_equal(ens["actual_up"], alone[0]["actual_up"])
    assert ens.attrs["model"] == "ens:logreg,gbm,momentum"
    assert ens.attrs["members"] == ["logreg", "gbm", "momentum"]
    assert ens.attrs["member_params"]["gbm"] == {"max_iter": 5}
    # The members' own seed is the run's: a plain walk-forward of gbm with seed 3.
    assert ens.attrs["seed"] == 3


def test_each_member_keeps_its_own_cache_entry(bars, tmp_path):
    store = PredictionCache(tmp_path)
    first = store.walk_forward(bars, "ens:logreg,momentum", **SCHEDULE)
    assert store.last == "miss" and len(list(store.dir.glob("*.parquet"))) == 2
    alone = PredictionCache(tmp_path)
    alone.walk_forward(bars, "logreg", **SCHEDULE)
    assert alone.last == "hit"  # the member's entry is the one a run of logreg alone reads
    again = store.walk_forward(bars, "ens:logreg,momentum", **SCHEDULE)
    assert store.last == "hit"
    np.testing.assert_array_equal(again["prob_up"].to_numpy(), first["prob_up"].to_numpy())


def test_parameters_reach_the_members_that_take_them():
    split = ensemble_params("ens:gbm,logreg,majority", {"seed": 4, "C": 0.5, "gbm": {"max_iter": 9}})
    assert split == {"gbm": {"max_iter": 9, "seed": 4}, "logreg": {"C": 0.5}, "majority": {}}
    with pytest.raises(ConfigError, match="no member takes parameter 'epochs'"):
        ensemble_params("ens:gbm,logreg", {"epochs": 3})
    with pytest.raises(ConfigError, match="member 'gbm' has no parameter"):
        ensemble_params("ens:gbm,logreg", {"gbm": {"C": 1.0}})


@pytest.mark.parametrize("name, message", [
    ("ens:gbm", "needs at least 2 members"),
    ("ens:", "needs at least 2 members"),
    ("ens:gbm,nope", "unknown model 'nope'"),
    ("ens:gbm,ens:logreg,rf", "may not be an ensemble"),
    ("ens:gbm,,rf", "empty member"),
    ("ens:gbm,gbm", "lists 'gbm' twice"),
])
def test_bad_ensembles_are_refused(name, message):
    with pytest.raises(ConfigError, match=message):
        ensemble_members(name)


@pytest.fixture
def stored():
    Store().write(random_walk_bars(700, seed=5, start="2012-01-02", ticker="SYN"), "SYN", source="test")


@pytest.mark.slow
def test_cli_evaluate_and_backtest_take_the_shorthand(capsys, stored):
    fast = ["--test-days", "126", "--retrain-every", "63", "--json"]
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "ens:logreg,gbm", *fast)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["model"] == "ens:logreg,gbm" and doc["settings"]["members"] == ["logreg", "gbm"]
    code, out, err = run(capsys, "backtest", "SYN", "--model", "ens:logreg,gbm", *fast)
    assert code == 0, err  # one model, not a grid of "ens:logreg" and "gbm"
    doc = json.loads(out)
    assert doc["model"] == "ens:logreg,gbm"


@pytest.mark.parametrize("model, message", [
    ("ens:logreg", "needs at least 2 members"),
    ("ens:logreg,nope", "unknown model 'nope'"),
    ("ens:logreg,ens:gbm,rf", "may not be an ensemble"),
])
def test_cli_bad_ensemble_is_one_line(capsys, stored, model, message):
    code, _, err = run(capsys, "evaluate", "SYN", "--model", model, "--test-days", "126")
    assert code != 0 and message in err, err
    assert "Traceback" not in err and err.strip().count("\n") == 0


@pytest.mark.slow
def test_cli_portfolio_takes_the_shorthand_and_records_its_members(capsys):
    code, out, err = run(capsys, "portfolio", "KO", "MSFT", "AAPL", "--source", "bundled",
                         "--start", "2016-01-01", "--param", "k=1", "--test-days", "63",
                         "--model", "ens:logreg,majority", "--json")
    assert code == 0, err
    record = json.loads(out)["walk_forward"]
    assert record["model"] == "ens:logreg,majority" and record["members"] == ["logreg", "majority"]


def test_training_an_ensemble_is_one_line(capsys, stored):
    code, _, err = run(capsys, "train", "SYN", "--model", "ens:logreg,gbm")
    assert code != 0 and "is an ensemble of walk-forward forecasts" in err
    assert "Traceback" not in err and err.strip().count("\n") == 0


@pytest.mark.parametrize("params, message", [
    ({"lgbm": {"n_estimators": 10}, "C": 0.5}, None),
    ({"gbm": {"n_estimators": 10}}, "member 'gbm' has no parameter"),
    ({"epochs": 3}, "no member takes parameter 'epochs'"),
])
def test_an_experiment_spec_names_an_ensemble(params, message):
    from forecast.experiment import ExperimentSpec

    name = "ens:lgbm,logreg" if message is None else "ens:gbm,logreg"
    table = {"tickers": ["SYN"], "models": [{"name": name, "params": params}], "strategies": ["long-only"]}
    if message is None:  # checked when built
        assert ExperimentSpec.from_dict(table).models[0].name == name
        return
    with pytest.raises(ConfigError, match=message):
        ExperimentSpec.from_dict(table)
