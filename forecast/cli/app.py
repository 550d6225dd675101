"""The `fcast` command line: a thin layer over the Python API.

Expected failures (`FcastError`) print one line and exit 1; `--debug` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from forecast.cli import (
    backtest_cmd,
    cache_cmd,
    data_cmd,
    experiment_cmd,
    journal_cmd,
    model_cmd,
    portfolio_cmd,
    report_cmd,
    runs_cmd,
    signal_cmd,
    tune_cmd,
    universe_cmd,
)
from forecast.cli.console import err
from forecast.errors import FcastError

app = typer.Typer(
    help="fcast: leak-free forecasting and backtesting of daily market data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cmd.app, name="data")
app.add_typer(cache_cmd.app, name="cache")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(universe_cmd.app, name="universe")


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option("--home", envvar="FCAST_HOME", help="Store directory (default: per-user data dir)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
):
    """Root options shared by every command."""
    from forecast.data.store import Store

    ctx.obj = {"store": Store(home), "debug": debug}
    _show_library_notes()


class _NoteHandler(logging.Handler):
    """The library's warning lines (a fallback to bundled data, say), printed as plain lines."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(record.getMessage(), markup=False, soft_wrap=True)


_NOTES = _NoteHandler(logging.WARNING)


def _show_library_notes() -> None:
    logger = logging.getLogger("fcast")
    if _NOTES not in logger.handlers:
        logger.addHandler(_NOTES)
    logger.propagate = False


for _module in (model_cmd, tune_cmd, backtest_cmd, experiment_cmd, portfolio_cmd, report_cmd, signal_cmd,
                journal_cmd):
    _module.register(app)


# typer bundles or depends on click; take its base exception class from typer itself.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def repeated_option(argv: list[str]) -> str | None:
    """A usage error when a single-valued option is given twice, else None.

    Click keeps the last of repeated values (`--model logreg --model gbm` runs gbm) without
    a word; fcast refuses instead. Options declared `multiple` (--param) may repeat.
    """
    command = typer.main.get_command(app)
    seen: dict[str, str] = {}
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            break
        subcommands = getattr(command, "commands", None) or {}
        if token in subcommands:
            command, seen = subcommands[token], {}
            continue
        if not token.startswith("-") or token == "-":
            continue
        name = token.split("=", 1)[0]
        option = next(
            (
                p
                for p in command.params
                if getattr(p, "param_type_name", "") == "option" and name in (*p.opts, *p.secondary_opts)
            ),
            None,
        )
        if option is None:
            continue  # unknown options are click's to report
        takes_value = not option.is_flag and not option.count
        if takes_value and "=" not in token:
            next(tokens, None)  # its value, which may itself start with "-"
        if option.multiple or option.count:
            continue
        if option.name in seen:
            given = (
                f"{name} given twice"
                if seen[option.name] == name
                else (f"{seen[option.name]} and {name} both given")
            )
            return f"{given}: it takes one value; give {option.opts[0]} once"
        seen[option.name] = name
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (usage errors 2, failures 1), never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from forecast.cli import recording

    recording.INVOCATION = ["fcast", *argv]
    debug = "--debug" in argv
    repeated = repeated_option(argv)
    if repeated:
        err.print(f"error: {repeated}", markup=False, soft_wrap=True)
        return 2
    try:
        code = app(args=argv, prog_name="fcast", standalone_mode=False)
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            err.print(ctx.get_help(), markup=False)  # a bare group: show what it offers
            return 2
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        err.print(f"error: {exc.format_message()}{hint}", markup=False, soft_wrap=True)
        return exc.exit_code
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted")
        return 130
    except FcastError as exc:
        if debug:
            raise
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 1
    except Exception as exc:  # an unexpected failure still gets one line, not a traceback
        if debug:
            raise
        err.print(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for details)",
            markup=False,
            soft_wrap=True,
        )
        return 1
    return code if isinstance(code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
