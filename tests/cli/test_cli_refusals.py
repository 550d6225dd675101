"""Options that a mode ignores are refused in one line, before any work, not dropped.

The table below is written out by hand, case by case (not read from the code's rules): the
command line, the option the refusal must name, and the words naming the mode that ignores
it. ZZZZ is in no store and no file exists: a command that got past the refusal would fail
differently (a missing ticker, model or file), so a pass also shows the check comes first.
"""

from __future__ import annotations

import pytest

from forecast.cli.app import main

SPEC = "no-such-spec.toml"
SAVED = ["backtest", "ZZZZ", "--model-path", "m"]  # a saved model (that does not exist)
LOGREG = ["backtest", "ZZZZ", "--model", "logreg"]

REFUSED = [
    # backtest with a saved model: every walk-forward and training option is the saved model's
    ([*SAVED, "--model", "logreg"], "--model", "with --model-path"),
    ([*SAVED, "--window", "30"], "--window", "with --model-path"),
    ([*SAVED, "--epochs", "3"], "--epochs", "with --model-path"),
    ([*SAVED, "--retrain-every", "21"], "--retrain-every", "with --model-path"),
    ([*SAVED, "--test-days", "100"], "--test-days", "with --model-path"),
    ([*SAVED, "--folds", "2"], "--folds", "with --model-path"),
    ([*SAVED, "--train-window", "500"], "--train-window", "with --model-path"),
    ([*SAVED, "--features", "f.toml"], "--features", "with --model-path"),
    ([*SAVED, "--label", "close"], "--label", "with --model-path"),
    ([*SAVED, "--seed", "1"], "--seed", "with --model-path"),
    ([*SAVED, "--device", "cpu"], "--device", "with --model-path"),
    ([*SAVED, "--mixed-precision"], "--mixed-precision", "with --model-path"),
    # backtest: a file without the file source, output-only options, one ticker, per-share fees
    ([*LOGREG, "--file", "x.csv"], "--file", "without --source file"),
    ([*LOGREG, "--source", "bundled", "--file", "x.csv"], "--file",
     "without --source file"),
    ([*LOGREG, "--force"], "--force", "without --output"),
    ([*LOGREG, "--plot"], "--plot", "without --output"),
    ([*LOGREG, "--common-span"], "--common-span", "with one ticker"),
    ([*LOGREG, "--commission", "0.002", "--commission-per-share", "0.01"],
     "--commission", "with --commission-per-share"),
    # backtest: Keras-only options with a model that is not one
    ([*LOGREG, "--epochs", "3"], "--epochs", "with --model logreg"),
    ([*LOGREG, "--device", "cpu"], "--device", "with --model logreg"),
    ([*LOGREG, "--mixed-precision"], "--mixed-precision", "with --model logreg"),
    ([*LOGREG, "--backend", "jax"], "--backend", "with --model logreg"),
    (["backtest", "ZZZZ", "--model", "logreg,gbm", "--epochs", "3"], "--epochs", "with --model logreg,gbm"),
    # backtest with lists (an experiment)
    (["backtest", "ZZZZ", "--model", "logreg,gbm", "--model-path", "m"], "--model-path", "with lists"),
    (["backtest", "ZZZZ", "AAAA", "--model", "logreg,gbm", "--common-span"], "--common-span", "with lists"),
    (["backtest", "ZZZZ", "--model", "logreg,gbm", "--output", "out", "--plot"], "--plot", "with lists"),
    # evaluate and train
    (["evaluate", "ZZZZ", "--model", "logreg", "--file", "x.csv"], "--file", "without --source file"),
    (["evaluate", "ZZZZ", "--model", "logreg", "--epochs", "3"], "--epochs", "with --model logreg"),
    (["evaluate", "ZZZZ", "--model", "gbm", "--device", "gpu"], "--device", "with --model gbm"),
    (["evaluate", "ZZZZ", "--model", "logreg", "--backend", "torch"], "--backend", "with --model logreg"),
    (["train", "ZZZZ", "--model", "logreg", "--file", "x.csv"], "--file", "without --source file"),
    (["train", "ZZZZ", "--model", "logreg", "--epochs", "2"], "--epochs", "with --model logreg"),
    (["train", "ZZZZ", "--model", "logreg", "--seed", "3"], "--seed", "with --model logreg"),
    (["train", "ZZZZ", "--model", "momentum", "--mixed-precision"], "--mixed-precision",
     "with --model momentum"),
    # portfolio
    (["portfolio", "ZZZZ", "AAAA", "--force"], "--force", "without --output"),
    (["portfolio", "ZZZZ", "AAAA", "--epochs", "3"], "--epochs", "with --model logreg"),
    (["portfolio", "ZZZZ", "AAAA", "--model", "gbm", "--backend", "jax"], "--backend", "with --model gbm"),
    # experiment run
    (["experiment", "run", SPEC, "--force"], "--force", "without --output"),
    (["experiment", "run", SPEC, "--run-pages", "3"], "--run-pages", "without --output"),
    (["experiment", "run", SPEC, "--json", "--top", "3"], "--top", "with --json"),
    # data
    (["data", "fetch", "ZZZZ", "--replace", "--refresh"], "--refresh", "with --replace"),
    (["data", "show", "ZZZZ", "--file", "x.csv"], "--file", "without --source file"),
    (["data", "show", "ZZZZ", "--source", "store", "--file", "x.csv"], "--file", "without --source file"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "flag", "mode"), REFUSED, ids=[" ".join(a) for a, _, _ in REFUSED])
def test_an_option_the_mode_ignores_is_refused_in_one_line(capsys, args, flag, mode):
    code = main(args)
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(f"error: {flag} is ignored {mode}"), err
    assert "drop it" in err and err.count("\n") == 1 and "Traceback" not in err


ALLOWED = [
    # the same options where they do apply (or, as --no-plot without --output, ask for nothing)
    ["backtest", "ZZZZ", "--source", "store", "--model", "logreg", "--no-plot"],
    ["backtest", "ZZZZ", "--source", "file", "--file", "no-such.csv", "--model", "logreg"],
    ["backtest", "ZZZZ", "--source", "store", "--model-path", "m", "--start", "2015-01-02", "--no-cache"],
    ["backtest", "ZZZZ", "--source", "store", "--model", "logreg", "--commission-per-share", "0.01"],
    ["evaluate", "ZZZZ", "--source", "store", "--model", "gbm", "--seed", "3"],
    ["train", "ZZZZ", "--source", "store", "--model", "gbm", "--seed", "3"],
    ["data", "show", "ZZZZ", "--source", "file", "--file", "no-such.csv"],
]


@pytest.mark.parametrize("args", ALLOWED, ids=[" ".join(a) for a in ALLOWED])
def test_an_option_that_applies_is_not_refused(capsys, args):
    code = main(args)
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ")  # ZZZZ, the model or the file is missing
    assert "is ignored" not in err, err


def test_a_backend_for_an_experiment_without_keras_models_is_refused(capsys, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "s"\ntickers = ["ZZZZ"]\nmodels = ["logreg", "gbm"]\n'
                    'strategies = ["long-only"]\n')
    code = main(["experiment", "run", str(spec), "--backend", "jax"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error: --backend is ignored with no Keras model in spec.toml (logreg,gbm); "
                          "drop it")
    assert err.count("\n") == 1
