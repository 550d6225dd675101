"""Every kind of plugin fails in one line that names its kind.

One resolver (`forecast.plugins.resolve`) serves models, strategies, portfolio (ranking)
strategies and features; before it, a bad ranking strategy file was called a "strategy
file" and a missing class named no kind at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from forecast.errors import ConfigError
from forecast.features.registry import resolve as resolve_feature
from forecast.models.registry import resolve_model
from strategies import load_strategy
from strategies.portfolio import load_portfolio_strategy


@dataclass(frozen=True)
class Case:
    kind: str
    resolve: Callable
    holds: str  # what a user's file is expected to hold
    contract: str  # the end of "X is not ..."

    def __str__(self) -> str:
        return self.kind


CASES = [
    Case("model", resolve_model, "class",
         "a scikit-learn classifier: it needs fit, predict_proba and get_params"),
    Case("strategy", load_strategy, "class", "a backtrader Strategy subclass"),
    Case("portfolio strategy", load_portfolio_strategy, "class", "a RankingStrategy subclass"),
    Case("feature", resolve_feature, "feature", "a forecast.features.Feature"),
]

# A file holding something of every kind's wrong type: a plain class and a plain number.
WRONG = "class Wrong:\n    pass\n\n\nwrong = 3\n"


def _message(case: Case, spec) -> str:
    with pytest.raises(ConfigError) as info:
        case.resolve(spec)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    """A user's file in the working directory, named relative to it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text(WRONG)
    (tmp_path / "broken.py").write_text("1 / 0\n")
    return "mine.py"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_missing_file_names_the_kind(case, user_file):
    assert _message(case, "nowhere.py:Thing") == f"{case.kind} file not found: nowhere.py"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_file_that_fails_to_import_names_the_kind(case, user_file):
    message = _message(case, "broken.py:Thing")
    assert message == f"cannot import {case.kind} file broken.py: ZeroDivisionError: division by zero"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_module_that_fails_to_import_names_the_kind(case):
    message = _message(case, "no_such_module_xyz:Thing")
    assert message.startswith(f"cannot import {case.kind} module 'no_such_module_xyz': ModuleNotFoundError")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_file_without_the_name_names_the_kind(case, user_file):
    message = _message(case, "mine.py:Nope")
    assert message == f"{case.kind} file mine.py has no {case.holds} 'Nope'"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_module_without_the_name_names_the_kind(case):
    assert _message(case, "json:Nope") == f"{case.kind} module 'json' has no {case.holds} 'Nope'"


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("name", ["Wrong", "wrong"])
def test_a_plugin_of_the_wrong_type_names_what_it_must_be(case, user_file, name):
    assert _message(case, f"mine.py:{name}") == f"mine.py:{name} is not {case.contract}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_unknown_built_in_name_names_the_kind(case):
    assert _message(case, "no-such-thing").startswith(f"unknown {case.kind} 'no-such-thing'")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_empty_name_is_refused(case):
    assert "got ''" in _message(case, "")


def test_the_portfolio_command_names_a_ranking_strategy_file(capsys, tmp_path, monkeypatch):
    from forecast.cli.app import main

    monkeypatch.chdir(tmp_path)
    assert main(["portfolio", "KO", "MSFT", "--strategy", "nowhere.py:Top"]) != 0
    err = capsys.readouterr().err
    assert "portfolio strategy file not found: nowhere.py" in err and "Traceback" not in err


def test_a_file_loaded_as_two_kinds_is_two_modules(user_file):
    """Kinds keep their own module for a file, named as an identifier ("portfolio_strategy")."""
    from forecast.user_code import load_reference

    as_model = load_reference("mine.py:Wrong", "model")
    as_ranking = load_reference("mine.py:Wrong", "portfolio strategy")
    assert as_model is not as_ranking
    assert as_ranking.__module__.startswith("fcast_user_portfolio_strategy_")
    assert as_ranking.__module__.isidentifier()
