"""Keeping a command's run under <home>/runs: one helper for every kind of run result."""

from __future__ import annotations

from pathlib import Path

# The command line `main` was given ("fcast", then its arguments): what a record keeps, so a
# run made in-process (tests, notebooks calling main) records its own arguments, not the host's.
INVOCATION: list[str] | None = None


def record(ctx, result, *, output: Path | None = None, **extra) -> Path | None:
    """Record `result` (a `RunResult`) with `extra` and the --output folder it was written to;
    return the record's folder. A failure to record is a warning, None: the run itself succeeded."""
    import logging

    from forecast.errors import FcastError
    from forecast.runs import record as record_run

    extra["output"] = str(output.resolve()) if output is not None else None
    try:
        return record_run(result, home=ctx.obj["store"].home, extra=extra, command=INVOCATION)
    except (OSError, FcastError) as exc:
        logging.getLogger("fcast").warning("%s was not recorded: %s", result.title, exc)
        return None
