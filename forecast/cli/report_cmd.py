"""`fcast report RUN_ID_OR_DIR`: rebuild a run's report.html from its files, without recomputing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.console import out
from forecast.errors import ConfigError


def report(
    ctx: typer.Context,
    run: Annotated[
        str, typer.Argument(help="An --output folder, or a recorded run's id (or a unique prefix).")
    ],
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    axes: Annotated[
        str | None,
        typer.Option("--axes", help="Experiments: the two axes of the Sharpe heatmap, e.g. strategy,cost "
                     "(ticker, model, seed, strategy, params, cost)."),
    ] = None,
):
    """Write report.html into the run's folder: a self-contained page that opens offline."""
    from forecast.report import report_kind, write_report

    folder = run_folder(run, ctx.obj["store"].home)
    options = {}
    if axes is not None:
        if report_kind(folder) != "experiment":
            raise ConfigError("--axes applies to experiments only")
        names = tuple(a.strip() for a in axes.split(","))
        if len(names) != 2 or not all(names):
            raise ConfigError(f"--axes takes two comma-separated axes, got {axes!r}")
        options["axes"] = names
    path = write_report(folder, **options)
    out.print(f"wrote {path}", markup=False, soft_wrap=True)
    if open_page:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            out.print("no browser found to open it", markup=False)


def run_folder(run: str, home) -> Path:
    """A folder as given, else the recorded run with that id (or unique prefix)."""
    folder = Path(run).expanduser()
    if folder.is_dir():
        return folder
    if any(sep in run for sep in ("/", "\\")) or run.startswith("."):
        raise ConfigError(f"no such folder: {run}")
    from forecast.runs import load_run

    return Path(load_run(run, home)["path"])


def register(app: typer.Typer) -> None:
    app.command()(report)
