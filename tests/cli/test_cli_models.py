"""`fcast models/train/evaluate/backtest/strategies` as a user runs them, offline."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars

FAST = ["--test-days", "126", "--retrain-every", "63"]




@pytest.fixture
def stored():
    """A generated ticker in the test's store (random walk: no skill to find)."""
    bars = random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN")
    Store().write(bars, "SYN", source="test")
    return bars


def test_models_and_strategies_list(capsys):
    code, out, _ = run(capsys, "models", "list")
    assert code == 0 and all(m in out for m in ("mlp", "lstm", "logreg", "gbm", "majority", "momentum"))
    code, out, _ = run(capsys, "strategies", "list")
    assert code == 0 and all(s in out for s in ("long-only", "long-short", "vol-targeted"))


def test_evaluate_json_has_the_promised_keys(capsys, stored):
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--json", *FAST)
    assert code == 0, err
    doc = json.loads(out)
    keys = {"ticker", "model", "n_predictions", "start", "end", "accuracy", "balanced_accuracy",
            "roc_auc", "log_loss", "brier", "p_value", "baselines"}
    assert keys <= set(doc)
    assert doc["ticker"] == "SYN" and doc["model"] == "logreg" and doc["n_predictions"] == 126
    assert set(doc["baselines"]) == {"majority", "momentum", "gbm"}
    for metrics in doc["baselines"].values():
        assert {"accuracy", "roc_auc", "log_loss", "brier", "p_value"} <= set(metrics)


def test_evaluate_table_and_folds_option(capsys, stored):
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "gbm", "--folds", "2",
                         "--retrain-every", "63")
    assert code == 0, err
    assert "gbm vs baselines" in out and "majority" in out and "95% CI" in out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "SYN", "--model", "nope"], "unknown model 'nope'"),
        (["evaluate", "SYN", "--model", "logreg", "--test-days", "5000"], "too few"),
        (["evaluate", "NODATA", "--model", "logreg"], "fcast data import NODATA"),
        (["backtest", "SYN", "--strategy", "nope"], "unknown strategy"),
        (["backtest", "SYN", "--model", "logreg", "--param", "bogus=1"], "no parameter 'bogus'"),
        (["backtest", "SYN", "--model", "logreg", "--param", "threshold=high"], "threshold"),
        (["backtest", "SYN", "--strategy", "missing_file.py:X"], "missing_file.py"),
        (["train", "SYN", "--model", "mlp", "--device", "gpu", "--epochs", "1"], "gpu"),
    ],
)
def test_bad_input_is_one_line(capsys, stored, args, message):
    code, _, err = run(capsys, *args)
    assert code != 0
    assert message in err, err
    assert "Traceback" not in err and err.strip().count("\n") == 0


@pytest.mark.slow
def test_backtest_writes_every_output(capsys, stored, tmp_path):
    out_dir = tmp_path / "bt"
    code, out, err = run(capsys, "backtest", "SYN", "--model", "logreg", "--output", out_dir, *FAST)
    assert code == 0, err
    assert "Buy & hold" in out and "Forecasts: logreg, out of sample" in out
    assert "label: up if open[t+2] / open[t+1] - 1 > 0" in out
    for name in ("metrics.json", "equity.csv", "trades.csv", "predictions.csv", "equity.png"):
        assert (out_dir / name).is_file(), name
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert {"ticker", "model", "strategy", "benchmark", "start", "end", "benchmark_entry",
            "first_trade"} <= set(metrics)
    assert metrics["model"] == "logreg" and metrics["strategy"]["name"] == "long-only"
    # 126 test days, of which the last two have no traded return yet (open[t+2] unknown).
    assert metrics["forecast"]["n"] == 124 and 0 <= metrics["forecast"]["accuracy"] <= 1
    assert metrics["walk_forward"]["test_days"] == 126 and metrics["walk_forward"]["seed"] == 0
    assert metrics["walk_forward"]["label"] == "open"
    assert metrics["walk_forward"]["label_definition"] == "up if open[t+2] / open[t+1] - 1 > 0"
    equity = pd.read_csv(out_dir / "equity.csv")
    assert list(equity.columns) == ["date", "strategy", "benchmark"]
    trades = pd.read_csv(out_dir / "trades.csv")
    assert list(trades.columns) == ["entry_date", "exit_date", "direction", "size", "entry_price",
                                    "exit_price", "pnl", "pnl_net", "open"]
    preds = pd.read_csv(out_dir / "predictions.csv")
    assert list(preds.columns) == ["date", "prob_up", "target", "actual_up"]
    assert len(preds) == 126


@pytest.mark.slow
def test_backtest_json_and_several_tickers(capsys, stored):
    Store().write(random_walk_bars(900, seed=6, start="2012-01-02"), "SYN2")
    code, out, err = run(capsys, "backtest", "SYN", "SYN2", "--model", "majority", "--no-plot", *FAST)
    assert code == 0, err
    assert "Backtest summary" in out and "SYN2" in out
    code, out, err = run(capsys, "backtest", "SYN", "--model", "majority", "--json", *FAST)
    doc = json.loads(out)
    assert doc["benchmark"]["name"] == "buy-and-hold" and "forecast" in doc


@pytest.mark.slow
def test_train_then_backtest_with_model_path(capsys, stored, tmp_path):
    stem = tmp_path / "models" / "syn-mlp"
    code, out, err = run(capsys, "train", "SYN", "--model", "mlp", "--epochs", "2",
                         "--end", "2014-06-30", "--output", stem)
    assert code == 0, err
    assert len(list((tmp_path / "models" / "syn-mlp").glob("model-*.keras"))) == 1
    assert (tmp_path / "models" / "syn-mlp" / "manifest.json").is_file()
    code, out, err = run(capsys, "backtest", "SYN", "--model-path", stem, "--start", "2014-07-01")
    assert code == 0, err
    assert "mlp" in out
    # Predicting inside the training span would score the model on what it learnt from.
    code, _, err = run(capsys, "backtest", "SYN", "--model-path", stem, "--start", "2013-01-02")
    assert code == 1 and "must start after" in err


def test_backtest_custom_strategy_file(capsys, stored, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from strategies import PredictionStrategy\n\n"
        "class Always(PredictionStrategy):\n"
        "    params = (('size', 0.5),)\n\n"
        "    def target_exposure(self):\n"
        "        return self.p.size\n"
    )
    code, out, err = run(capsys, "backtest", "SYN", "--model", "majority", "--strategy",
                         f"{path}:Always", "--param", "size=0.25", *FAST)
    assert code == 0, err
    assert "Exposure" in out
    bad = tmp_path / "broken.py"
    bad.write_text("def oops(:\n")
    code, _, err = run(capsys, "backtest", "SYN", "--strategy", f"{bad}:X")
    assert code == 1 and "broken.py" in err and "Traceback" not in err


def test_zero_trades_is_reported_not_an_error(capsys, stored, tmp_path):
    path = tmp_path / "flat.py"
    path.write_text(
        "from strategies import PredictionStrategy\n\n"
        "class Flat(PredictionStrategy):\n"
        "    def target_exposure(self):\n"
        "        return 0.0\n"
    )
    code, out, err = run(capsys, "backtest", "SYN", "--model", "majority", "--strategy",
                         f"{path}:Flat", *FAST)
    assert code == 0, err
    assert "no trades" in out


@pytest.mark.slow
def test_feature_spec_file_and_rolling_window(capsys, stored, tmp_path):
    spec = tmp_path / "features.toml"
    spec.write_text("[features]\nreturn_lags = [1, 2]\nmacd = false\nday_of_week = true\n")
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--json", "--features", spec,
                         "--train-window", "300", *FAST)
    assert code == 0, err
    settings = json.loads(out)["settings"]
    assert settings["train_window"] == 300
    assert settings["spec"]["return_lags"] == [1, 2] and settings["spec"]["macd"] is False
    bad = tmp_path / "bad.toml"
    bad.write_text("[features]\nrsi_window = -3\n")
    code, _, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--features", bad, *FAST)
    assert code == 1 and "rsi_window" in err


def test_per_share_commission_with_minimum(capsys, stored):
    code, out, err = run(capsys, "backtest", "SYN", "--model", "logreg", "--json",
                         "--commission-per-share", "0.01", "--min-commission", "1.5", *FAST)
    assert code == 0, err
    settings = json.loads(out)["settings"]
    assert settings["commission_per_share"] == 0.01 and settings["min_commission"] == 1.5


@pytest.mark.slow
def test_same_seed_same_numbers_different_seed_different(capsys, stored):
    args = ["evaluate", "SYN", "--model", "mlp", "--epochs", "2", "--json", "--test-days", "63",
            "--retrain-every", "63"]
    first = json.loads(run(capsys, *args, "--seed", "3")[1])
    again = json.loads(run(capsys, *args, "--seed", "3")[1])
    other = json.loads(run(capsys, *args, "--seed", "4")[1])
    assert first == again
    assert (first["log_loss"], first["brier"]) != (other["log_loss"], other["brier"])


@pytest.mark.parametrize(
    "args",
    [
        ["backtest", "SYN", "--window", "0"],
        ["backtest"],
        ["evaluate", "SYN", "--retrain-every", "abc"],
        ["evaluate", "SYN", "--test-days", "10", "--folds", "2"],
        ["frobnicate"],
    ],
)
def test_usage_errors_are_one_line(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and err.strip().count("\n") == 0, err
    assert "╭" not in err and "Traceback" not in err


def test_bad_date_is_one_clear_line(capsys, stored):
    code, _, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--start", "someday")
    assert code == 1 and "invalid --start 'someday'" in err and "unexpected" not in err


@pytest.mark.slow
def test_mixed_precision_is_refused_on_cpu_and_ignored_by_auto_without_gpu(capsys, stored, tmp_path):
    code, _, err = run(capsys, "train", "SYN", "--model", "mlp", "--epochs", "1", "--device", "cpu",
                       "--mixed-precision", "--output", tmp_path / "m")
    assert code == 1 and "mixed_precision needs a GPU" in err
    code, _, err = run(capsys, "train", "SYN", "--model", "mlp", "--epochs", "1", "--mixed-precision",
                       "--output", tmp_path / "m")
    assert code == 0, err
    assert "device: CPU" in err and "mixed precision ignored" in err




@pytest.mark.slow
def test_evaluate_and_backtest_a_user_model_file(capsys, stored, tmp_path):
    from user_model_source import USER_MODEL

    path = tmp_path / "my_model.py"
    path.write_text(USER_MODEL)
    code, out, err = run(capsys, "evaluate", "SYN", "--model", f"{path}:LastRow", "--json", *FAST)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["model"] == f"{path}:LastRow"
    assert set(summary["baselines"]) == {"majority", "momentum", "logreg", "gbm"}
    code, out, err = run(capsys, "backtest", "SYN", "--model", f"{path}:LastRow", "--no-plot", *FAST)
    assert code == 0 and "Buy & hold" in out, err
    code, _, err = run(capsys, "evaluate", "SYN", "--model", f"{path}:Nope", *FAST)
    assert code != 0 and "has no class 'Nope'" in err and err.strip().count("\n") == 0


def test_train_saves_a_user_model_and_backtest_loads_it(capsys, stored, tmp_path, monkeypatch):
    from user_model_source import USER_MODEL

    (tmp_path / "my_model.py").write_text(USER_MODEL)
    monkeypatch.chdir(tmp_path)  # a relative reference: the sidecar records the absolute path
    stem = tmp_path / "models" / "syn-last-row"
    code, out, err = run(capsys, "train", "SYN", "--model", "my_model.py:LastRow", "--end", "2014-06-30",
                         "--save", stem)
    assert code == 0, err
    assert json.loads((stem / "manifest.json").read_text())["model"] == f"{tmp_path / 'my_model.py'}:LastRow"
    monkeypatch.chdir(tmp_path / "models")
    code, out, err = run(capsys, "backtest", "SYN", "--model-path", stem, "--start", "2014-07-01",
                         "--no-plot")
    assert code == 0 and "Buy & hold" in out and "LastRow" in out, err
    (tmp_path / "my_model.py").unlink()
    code, _, err = run(capsys, "backtest", "SYN", "--model-path", stem, "--start", "2014-07-01")
    assert code == 1 and "which no longer loads: model file not found" in err
    assert err.strip().count("\n") == 0


def test_train_names_a_user_models_default_file_by_its_class(capsys, stored, tmp_path):
    from user_model_source import USER_MODEL

    path = tmp_path / "my_model.py"
    path.write_text(USER_MODEL)
    code, out, err = run(capsys, "train", "SYN", "--model", f"{path}:LastRow", "--end", "2014-06-30")
    assert code == 0, err
    assert (Store().home / "models" / "SYN-LastRow" / "manifest.json").is_file()


@pytest.mark.slow
def test_features_takes_a_preset_name_and_refuses_an_unknown_one_in_a_line(capsys, stored):
    code, out, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--json", "--features", "alpha158",
                         *FAST)
    assert code == 0, err
    assert json.loads(out)["settings"]["spec"]["extra"] == ["alpha158"]
    code, _, err = run(capsys, "evaluate", "SYN", "--model", "logreg", "--features", "alpha1588", *FAST)
    assert code == 1 and "alpha158, default" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
