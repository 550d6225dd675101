"""Run the fcast CLI in-process, as the tests do: (exit code, stdout, stderr)."""

from __future__ import annotations

from forecast.cli.app import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
