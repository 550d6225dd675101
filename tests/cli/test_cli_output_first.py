"""A bad --output (a file, or a place that cannot be written) fails in one line before
anything else: before strategies or models resolve, before TensorFlow loads, before any
model is fitted (issue 21)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars

# A model that leaves a mark when it is fitted: no mark, no training.
MARKED = '''
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Marked(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        Path({marker!r}).write_text("fitted")
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)
'''

FAST = ["--test-days", "63", "--retrain-every", "63"]


@pytest.fixture
def marked(tmp_path):
    """(model reference, marker path) with two synthetic tickers in the store."""
    for seed, ticker in ((5, "SYN"), (6, "SYM")):
        bars = random_walk_bars(700, seed=seed, start="2012-01-02", ticker=ticker)
        Store().write(bars, ticker, source="test")
    marker = tmp_path / "fitted.txt"
    path = tmp_path / "marked_model.py"
    path.write_text(MARKED.format(marker=str(marker)))
    return f"{path}:Marked", marker


def _commands(model: str, tmp_path, *, strategy: str | None = None) -> dict[str, list[str]]:
    spec = tmp_path / "spec.toml"
    spec.write_text(f'tickers = ["SYN"]\n[[models]]\nname = "{model}"\n'
                    f'[[strategies]]\nname = "{strategy or "long-only"}"\n')
    given = ["--strategy", strategy] if strategy else []
    return {
        "backtest": ["backtest", "SYN", "--model", model, *given, *FAST],
        "backtest grid": ["backtest", "SYN", "--model", f"{model},logreg", *given, *FAST],
        "portfolio": ["portfolio", "SYN", "SYM", "--model", model, *given, *FAST],
        "experiment": ["experiment", "run", str(spec)],
    }


COMMANDS = ("backtest", "backtest grid", "portfolio", "experiment")


def test_the_marked_model_marks_when_it_trains(capsys, tmp_path, marked):
    """The guard below is not vacuous: with a usable --output the same command fits."""
    model, marker = marked
    code, _, err = run(capsys, *_commands(model, tmp_path)["backtest"], "--output", tmp_path / "out")
    assert code == 0, err
    assert marker.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_that_is_a_file_fails_before_any_model_is_fitted(capsys, tmp_path, marked, command):
    model, marker = marked
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    code, out, err = run(capsys, *_commands(model, tmp_path)[command], "--output", taken)
    assert code == 1 and err.strip().count("\n") == 0, err
    assert f"--output {taken} is a file, not a folder" in err
    assert not marker.exists(), "a model was fitted before --output was checked"
    assert taken.read_text() == "mine" and out == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_an_output_that_cannot_be_written_fails_before_any_model_is_fitted(capsys, tmp_path, marked,
                                                                         command):
    model, marker = marked
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, _, err = run(capsys, *_commands(model, tmp_path)[command], "--output", blocked / "out")
    assert code == 1 and err.strip().count("\n") == 0, err
    assert f"cannot write to --output {blocked / 'out'}" in err
    assert not marker.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_the_output_is_checked_before_the_strategy_resolves(capsys, tmp_path, marked, command):
    """Checked first: with a bad strategy too, the output's line is the one given."""
    model, _ = marked
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    args = _commands(model, tmp_path, strategy="no-such-strategy")[command]
    code, _, err = run(capsys, *args, "--output", taken)
    assert code == 1 and "is a file, not a folder" in err and "no-such-strategy" not in err, err


def test_train_checks_its_output_before_loading_data(capsys, tmp_path):
    """`fcast train --output DIR`: a folder of other files is refused before the bars load
    (here they cannot: the ticker does not exist)."""
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    args = ["train", "NOSUCH", "--source", "bundled", "--model", "logreg", "--output", busy]
    code, _, err = run(capsys, *args)
    assert code == 1 and err.strip().count("\n") == 0, err
    assert f"{busy} holds other files" in err


@pytest.mark.slow
def test_a_bad_output_fails_before_tensorflow_loads(tmp_path):
    """`fcast backtest X --model lstm --output FILE` used to load TensorFlow and print the
    device line before saying the path was unusable."""
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    argv = ["backtest", "AAPL", "--source", "bundled", "--model", "lstm", "--output", str(taken)]
    code = (
        "import sys\n"
        "from forecast.cli.app import main\n"
        f"code = main({argv!r})\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "1 []", done.stdout + done.stderr
    assert "device:" not in done.stderr
    assert done.stderr.strip() == f"error: --output {taken} is a file, not a folder"
