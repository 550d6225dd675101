"""Every `fcast` example in the README runs as shown (offline, on generated data)."""

from __future__ import annotations

import math
import os
import re
import shlex
from pathlib import Path

import pytest

from forecast.cli.app import main

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def _commands() -> list[str]:
    lines = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("fcast "):
                lines.append(line)
    return lines


COMMANDS = _commands()


def test_readme_has_an_example_of_each_command():
    joined = "\n".join(COMMANDS)
    for sub in ("data export", "data import", "data fetch", "data list", "data show", "data sample",
                "models list", "strategies list", "evaluate", "train", "backtest", "experiment run",
                "runs list", "cache list", "report", "signal", "journal verify", "journal score"):
        assert f"fcast {sub}" in joined, f"README shows no `fcast {sub}` example"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working folder laid out like the README assumes: only what a user's clone has (the
    README's data comes from the bundled history, never from a folder beside the clone)."""
    root = tmp_path_factory.mktemp("readme")
    work = root / "project"
    work.mkdir()
    (work / "my_strategies.py").write_text(_blocks("python")[1])
    (work / "my_models.py").write_text(_blocks("python")[2])
    (work / "my_features.py").write_text(_blocks("python")[3])
    experiment, features = _blocks("toml")  # in README order
    assert "[[models]]" in experiment and "[[models]]" not in features
    (work / "experiment.toml").write_text(experiment)
    (work / "spec.toml").write_text(features)
    return work


@pytest.mark.slow
def test_readme_commands_run_as_shown(workdir, monkeypatch, capsys):
    home = workdir / "home"
    monkeypatch.setenv("FCAST_HOME", str(home))
    monkeypatch.chdir(workdir)
    for line in COMMANDS:
        args = shlex.split(line.replace("~/.local/share/fcast", str(home)))[1:]
        code = main(args)
        captured = capsys.readouterr()
        if args[:2] == ["data", "fetch"]:  # no network here: one clear line
            assert code == 1 and "cannot reach Yahoo Finance" in captured.err, line
            continue
        assert code == 0, f"{line}\n{captured.err}"
        assert "Traceback" not in captured.err
    assert (workdir / "out" / "gspc" / "equity.png").is_file()
    for run in ("gspc", "small"):  # every --output writes its page
        assert (workdir / "out" / run / "report.html").is_file()


@pytest.mark.slow
def test_readme_python_example_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    # Metrics hold NaN, never None, when undefined: a real run must give a finite Sharpe.
    assert math.isfinite(namespace["result"].metrics["strategy"]["sharpe"])
    assert os.path.basename(README) == "README.md"
