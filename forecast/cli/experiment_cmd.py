"""`fcast experiment run SPEC.toml`: a grid of configurations, ranked and judged."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli import options as o
from forecast.cli.console import counted, err, out
from forecast.cli.report_cmd import write_page
from forecast.experiment.spec import EXAMPLE
from forecast.formatting import fmt

RUN_PAGES = 10  # configuration pages built with an experiment's --output (the best ones)

app = typer.Typer(help="Grids of tickers x models x seeds x strategies x costs.", no_args_is_help=True)

Workers = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run the walk-forwards on a local Ray cluster of N CPUs "
                 "(default: serial, in this process, no Ray)."),
]
RayAddress = Annotated[
    str | None,
    typer.Option("--ray-address", help="Run on the existing Ray cluster at ADDRESS (e.g. ray://host:10001 "
                 "or auto); see docs/SCALING.md."),
]


def _help() -> str:
    from rich.markup import escape

    # \b keeps click from re-wrapping the example; escape keeps [[models]] from reading as markup.
    lines = "\n".join(f"  {escape(line)}" for line in EXAMPLE.splitlines())
    return (
        "Run every configuration of the grid in SPEC.toml: each (ticker, model, seed) is trained once "
        "(or read from the prediction cache) and re-scored for every strategy, parameter and cost. "
        "Prints the ranked table beside buy-and-hold and one verdict line (deflated Sharpe, PBO, SPA), "
        "and records the run. Exits 1 if any configuration failed.\n\n"
        f"\b\nA complete SPEC.toml:\n{lines}"
    )


# Options a mode ignores (see options.refuse_ignored).
IGNORED = (
    o.without("output", "force", "run_pages"),
    o.Ignores(lambda p: p["as_json"], ("top",), "with --json (it prints every row)"),
)


@app.command("run", help=_help())
def run_cmd(
    ctx: typer.Context,
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="The experiment's TOML file.")],
    workers: Workers = None,
    ray_address: RayAddress = None,
    source: o.Source = None,
    backend: o.Backend = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write experiment.json, results.csv and each run's files here."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty --output directory.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print experiment.json to stdout.")] = False,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the N best rows.")] = None,
    no_cache: o.NoCache = False,
    run_pages: Annotated[
        int, typer.Option("--run-pages", min=-1,
                          help="With --output: build report.html for the N best configurations too "
                          "(-1: all, about 2 s each; `fcast report DIR/runs/NNN-...` builds any other).")
    ] = RUN_PAGES,
):
    from forecast.experiment import ExperimentSpec

    o.refuse_ignored(ctx, *IGNORED)
    spec = ExperimentSpec.from_toml(spec_path)
    models = ",".join(m.name for m in spec.models)
    o.refuse_ignored(ctx, o.Ignores(lambda p: o.no_keras_model(models), ("backend",),
                                    f"with no Keras model in {spec_path.name} ({models})"))
    run_spec(ctx, spec, workers=workers, ray_address=ray_address, source=source, backend=backend,
             output=output, force=force, as_json=as_json, top=top, no_cache=no_cache, run_pages=run_pages)


def run_spec(ctx, spec, *, workers=None, ray_address=None, source=None, path=None, backend=None,
             output=None, force=False, as_json=False, top=None, no_cache=False,
             run_pages=None) -> None:
    """Run a checked spec the way `fcast experiment run` does (also `fcast backtest` with lists)."""
    from forecast.cli.backtest_cmd import check_output_dir
    from forecast.experiment import RayExecutor, SerialExecutor, run_experiment
    from forecast.models.registry import is_keras_model

    if any(is_keras_model(m.name) for m in spec.models) or backend is not None:
        o.use_backend(backend, None)
    if output is not None:
        check_output_dir(output, force)
    if workers is not None and ray_address is not None:
        raise typer.BadParameter("give --workers or --ray-address, not both")
    executor = (RayExecutor(workers=workers, address=ray_address)
                if workers is not None or ray_address is not None else SerialExecutor())
    n_configs = len(spec.configurations()) + len(spec.portfolio_configurations())
    n_tasks = len(spec.tasks()) + len(spec.portfolio_tasks())
    portfolios = f", {len(spec.portfolio_tasks())} over the universe" if spec.portfolios else ""
    if not as_json:
        err.print(f"experiment {spec.name}: {len(spec.tickers)} ticker(s) x {len(spec.models)} model(s) x "
                  f"{len(spec.seeds)} seed(s) = {n_tasks} walk-forward run(s){portfolios}, "
                  f"{n_configs} configuration(s); {_where(executor)}", markup=False)
    with _Progress(enabled=not as_json) as events:
        result = run_experiment(spec, home=ctx.obj["store"].home, source=source, path=path,
                                cache=not no_cache, executor=executor, output=output, events=events)
    if output is not None:
        result.write(output)
        write_pages(output, result, RUN_PAGES if run_pages is None else run_pages, quiet=as_json)
    record = _record(ctx, result, output)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        render(result, top=top)
        if output is not None:
            out.print(f"wrote {output}", markup=False)
        if record is not None:
            out.print(f"recorded run {result.id}", markup=False)
    if result.failed:
        for row in result.failed:
            err.print(f"error: {row['label']}: {row['status']}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


def write_pages(output: Path, result, run_pages: int, *, quiet: bool = False) -> None:
    """The experiment's report.html, after the pages of its `run_pages` best configurations
    (-1: all) so that its links lead to them; the others link to their folders."""
    ranked = [r for r in result.ranked() if r.get("status") == "ok" and r.get("run")]
    chosen = ranked if run_pages < 0 else ranked[:run_pages]
    if chosen and not quiet:
        err.print(f"building report pages: {len(chosen)} configuration(s), then the experiment's",
                  markup=False)
    for row in chosen:
        write_page(output / row["run"])
    write_page(output)


def _where(executor) -> str:
    if executor.name == "serial":
        return "serial, in this process"
    if executor.address:
        return f"on Ray at {executor.address}"
    return f"on a local Ray cluster of {counted(executor.workers, 'CPU')}"


def _record(ctx, result, output):
    import logging

    from forecast.errors import FcastError
    from forecast.runs import record_experiment

    try:
        return record_experiment(result, home=ctx.obj["store"].home,
                                 extra={"output": str(output) if output is not None else None})
    except (OSError, FcastError) as exc:
        logging.getLogger("fcast").warning("experiment %s was not recorded: %s", result.spec.name, exc)
        return None


class _Progress:
    """A bar across the walk-forward runs on stderr, and a line as each one finishes."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.done = 0
        self.began = time.perf_counter()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()

    def started(self, n_jobs: int, n_cached: int) -> None:
        if not self.enabled:
            return
        err.print(f"{n_cached} from the prediction cache, {n_jobs} to train", markup=False)
        if n_jobs:
            from rich import progress as p

            self.bar = p.Progress(p.TextColumn("training"), p.BarColumn(), p.MofNCompleteColumn(),
                                  p.TimeElapsedColumn(), console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("train", total=n_jobs)

    def task_done(self, task, error, cached: bool) -> None:
        if not self.enabled or cached:
            return
        self.done += 1
        elapsed = time.perf_counter() - self.began
        status = f"failed: {error}" if error else "trained"
        line = f"{task.label}: {status} ({elapsed:.0f} s)"
        if self.bar is not None:
            self.bar.console.print(line, markup=False, soft_wrap=True)
            self.bar.advance(self.task)
        else:
            err.print(line, markup=False, soft_wrap=True)


def render(result, top: int | None = None) -> None:
    """The ranked table beside buy-and-hold, the trial-corrected statistics and the verdict."""
    spec = result.spec
    rows = result.ranked()
    shown = rows[:top] if top else rows
    many_seeds = len(spec.seeds) > 1
    table = Table(title=f"Experiment {spec.name}: {counted(len(result.rows), 'configuration')}, "
                  "ranked by Sharpe (net of costs)")
    cols = ["#", "ticker", "model", *(["seed"] if many_seeds else []), "strategy", "fee+slip",
            "return", "Sharpe ± SE", "PSR", "PSR>B&H", "max DD", "trades", "acc", "B&H ret", "B&H Sharpe"]
    for c in cols:
        table.add_column(c, justify="left" if c in ("ticker", "model", "strategy") else "right",
                         no_wrap=c in ("strategy", "Sharpe ± SE", "fee+slip", "PSR>B&H"))
    for rank, row in enumerate(shown, 1):
        model = row["model"] + (f"({_kv(row['model_params'])})" if row["model_params"] else "")
        strategy = row["strategy"] + (f"({_kv(row['params'])})" if row["params"] else "")
        lead = [str(rank), row["ticker"], model, *([str(row["seed"])] if many_seeds else []), strategy,
                f"{fmt(row['commission'], 'pct')}+{fmt(row['slippage'], 'pct')}"]
        if row["status"] != "ok":
            table.add_row(*lead, f"[red]failed[/red]: {row['status']}", *[""] * (len(cols) - len(lead) - 1))
            continue
        sharpe = f"{fmt(row['sharpe'], 'num')} ± {fmt(row['sharpe_se'], 'num')}"
        table.add_row(*lead, fmt(row["total_return"], "pct"), sharpe, fmt(row["psr"], "num"),
                      fmt(row["psr_vs_benchmark"], "num"), fmt(row["max_drawdown"], "pct"),
                      fmt(row["n_trades"], "int"), fmt(row["accuracy"], "num3"),
                      fmt(row["benchmark_return"], "pct"), fmt(row["benchmark_sharpe"], "num"))
    out.print(table)
    out.print(spans_line(result), markup=False, soft_wrap=True)
    if top and len(rows) > top:
        out.print(f"({len(rows) - top} more rows: --top or --output results.csv)", markup=False)
    for line in test_lines(result):
        out.print(line, markup=False, soft_wrap=True)


def spans_line(result) -> str:
    """Each ticker's backtest span (its rows share it), or its data span when nothing ran."""
    parts = []
    for ticker, data in result.tickers.items():
        spans = {(r["start"], r["end"]) for r in result.rows if r["ticker"] == ticker and r.get("start")}
        start, end = min(spans) if len(spans) == 1 else (data["start"], data["end"])
        parts.append(f"{ticker} {start} to {end}")
    return "backtest spans: " + ("; ".join(parts) or "none")


def test_lines(result) -> list[str]:
    """The statistics behind the verdict, one line each, then the verdict."""
    t = result.tests
    cache = result.cache
    lines = [f"walk-forward runs: {cache['trained']} trained, {cache['hits']} from the prediction cache"
             + ("" if cache.get("enabled") else " (cache off)")
             + f"; {result.seconds:.1f} s"]
    if t.get("best"):
        lines.append(f"judged on the {t['n_days']} days all {t['n_trials']} configurations share; "
                     f"deflated Sharpe ratio of the best: {fmt(t['dsr'], 'num')}")
        pbo = t["pbo"]
        if pbo.get("value") is not None:
            by = ", ".join(f"{k} {v:.2f}" for k, v in pbo["by_ticker"].items())
            lines.append(f"PBO (CSCV, {pbo['n_splits']} splits): {pbo['value']:.2f}; per ticker: {by}")
        else:
            lines.append(f"PBO: n/a ({pbo.get('note')})")
        spa = t["spa"]
        if spa.get("pvalue") is not None:
            lines.append(f"SPA vs buy-and-hold: p = {spa['pvalue']:.3f} (consistent; lower "
                         f"{spa['lower']:.3f}, upper {spa['upper']:.3f}; {spa['reps']} stationary-bootstrap "
                         f"draws, seed {spa['seed']})")
        else:
            lines.append(f"SPA: n/a ({spa.get('note')})")
    lines.append(t.get("verdict") or "")
    return lines


def _kv(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="experiment")
