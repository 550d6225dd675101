"""Every option and argument of every command says what it does in `--help`."""

from __future__ import annotations

import typer

from forecast.cli.app import app


def _commands(command, path=()):
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield " ".join(path), command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


def test_every_option_and_argument_has_help():
    missing = [f"fcast {path} {param.name}"
               for path, command in _commands(typer.main.get_command(app))
               for param in command.params
               if not (getattr(param, "help", None) or "").strip()]
    assert missing == []
