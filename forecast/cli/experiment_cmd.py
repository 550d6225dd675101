"""`fcast experiment run SPEC.toml`: a grid of configurations, ranked and judged."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli import options as o
from forecast.cli import recording
from forecast.cli.console import err, out
from forecast.experiment.spec import EXAMPLE
from forecast.formatting import count, fmt

RUN_PAGES = 10  # configuration pages built with an experiment's --output (the best ones)

app = typer.Typer(help="Grids of tickers x models x seeds x strategies x costs.", no_args_is_help=True)


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
    workers: o.Workers = None,
    ray_address: o.RayAddress = None,
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
    from forecast.output_dir import check_output

    o.refuse_ignored(ctx, *IGNORED)
    if output is not None:
        check_output(output, force)  # first: a bad path fails before the spec resolves its plugins
    spec = ExperimentSpec.from_toml(spec_path, home=ctx.obj["store"].home)
    models = ",".join(m.name for m in spec.models)
    o.refuse_ignored(ctx, o.Ignores(lambda p: o.no_keras_model(models), ("backend",),
                                    f"with no Keras model in {spec_path.name} ({models})"))
    run_spec(ctx, spec, workers=workers, ray_address=ray_address, source=source, backend=backend,
             output=output, force=force, as_json=as_json, top=top, no_cache=no_cache, run_pages=run_pages)


def run_spec(ctx, spec, *, workers=None, ray_address=None, source=None, path=None, backend=None,
             output=None, force=False, as_json=False, top=None, no_cache=False,
             run_pages=None) -> None:
    """Run a checked spec the way `fcast experiment run` does (also `fcast backtest` with lists)."""
    from forecast.models.registry import is_keras_model
    from forecast.output_dir import check_output

    if output is not None:
        check_output(output, force)  # before the backend or anything heavy
    if any(is_keras_model(m.name) for m in spec.models) or backend is not None:
        o.use_backend(backend, None)
    executor = o.executor(workers, ray_address)
    if not as_json:
        err.print(f"experiment {spec.name}: {plan(spec)}; {o.where(executor)}", markup=False)
    pages = RUN_PAGES if run_pages is None else run_pages
    if output is None:
        result = _run(ctx, spec, executor, source=source, path=path, no_cache=no_cache, quiet=as_json)
    else:
        from forecast.output_dir import output_folder

        # Complete or not at all: an interrupted run leaves DIR as it was, and the same
        # command run again starts over, its walk-forwards served by the prediction cache.
        with output_folder(output, force=force) as tmp:
            result = _run(ctx, spec, executor, source=source, path=path, no_cache=no_cache, quiet=as_json,
                          output=tmp)
            result.write(tmp)
            write_pages(tmp, result, pages, quiet=as_json)
    record = recording.record(ctx, result, output=output)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        render(result, top=top)
        if output is not None:
            out.print(f"wrote {output}", markup=False)
        if record is not None:
            out.print(f"recorded run {result.id}", markup=False)
    if result.failed:
        for line in error_lines(result.failed):
            err.print(line, markup=False, soft_wrap=True)
        raise typer.Exit(1)


def error_lines(failed: list[dict]) -> list[str]:
    """One `error:` line per distinct failure, naming the rows it failed: a ticker that cannot
    be loaded fails all its configurations for one reason, and says it once."""
    by_status: dict[str, list[str]] = {}
    for row in failed:
        by_status.setdefault(row["status"], []).append(row["label"])
    lines = []
    for status, labels in by_status.items():
        rows = labels[0] if len(labels) == 1 else \
            f"{count(len(labels), 'configuration')} ({'; '.join(labels)})"
        lines.append(f"error: {rows}: {status}")
    return lines


def _run(ctx, spec, executor, *, source, path, no_cache: bool, quiet: bool, output: Path | None = None):
    from forecast.experiment import run_experiment

    with _Progress(enabled=not quiet) as events:
        return run_experiment(spec, home=ctx.obj["store"].home, source=source, path=path,
                              cache=not no_cache, executor=executor, output=output, events=events)


def write_pages(output: Path, result, run_pages: int, *, quiet: bool = False) -> None:
    """The experiment's report.html, after the pages of its `run_pages` best configurations
    (-1: all) so that its links lead to them; the others link to their folders. Every
    page is promised: one that cannot be written fails the output."""
    from forecast.output_dir import write_page

    ranked = [r for r in result.ranked() if r.get("status") == "ok" and r.get("run")]
    chosen = ranked if run_pages < 0 else ranked[:run_pages]
    if chosen and not quiet:
        err.print(f"building report pages: {len(chosen)} configuration(s), then the experiment's",
                  markup=False)
    for row in chosen:
        write_page(output / row["run"])
    write_page(output)


def plan(spec) -> str:
    """What the spec runs: its per-ticker and universe-wide walk-forwards, and its configurations."""
    parts = []
    axes = f"{len(spec.models)} model(s) x {len(spec.seeds)} seed(s)"
    if spec.tasks():
        parts.append(f"{len(spec.tickers)} ticker(s) x {axes} = {len(spec.tasks())} per-ticker "
                     "walk-forward run(s)")
    if spec.portfolio_tasks():
        kinds = len({(t.target, t.pooled) for t in spec.portfolio_tasks()})
        parts.append(f"{axes} x {kinds} target/pooling setting(s) = {len(spec.portfolio_tasks())} "
                     f"walk-forward run(s) over {_universe_text(spec)}")
    n_configs = len(spec.configurations()) + len(spec.portfolio_configurations())
    return f"{' and '.join(parts)}; {n_configs} configuration(s)"


def _universe_text(spec) -> str:
    if spec.universe is None:
        return f"the universe of {len(spec.tickers)} tickers"
    return f"universe {spec.universe} ({len(spec.tickers)} tickers, members only: {spec.membership})"


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
    table = Table(title=f"Experiment {spec.name}: {count(len(result.rows), 'configuration')}, "
                  "ranked by Sharpe (net of costs)")
    targets = any(row.get("target") for row in rows)  # portfolio rows: two targets are two rows
    cols = ["#", "ticker", "model", *(["seed"] if many_seeds else []), "strategy",
            *(["target"] if targets else []), "fee+slip",
            "return", "Sharpe ± SE", "PSR", "PSR>B&H", "max DD", "trades", "acc", "B&H ret", "B&H Sharpe"]
    for c in cols:
        table.add_column(c, justify="left" if c in ("ticker", "model", "strategy", "target") else "right",
                         no_wrap=c in ("ticker", "strategy", "target", "Sharpe ± SE", "fee+slip", "PSR>B&H"))
    table.pad_edge = not targets  # the room a target column needs on 160 columns
    for rank, row in enumerate(shown, 1):
        model = row["model"] + (f"({_kv(row['model_params'])})" if row["model_params"] else "")
        strategy = row["strategy"] + (f"({_kv(row['params'])})" if row["params"] else "")
        lead = [str(rank), row["ticker"], model, *([str(row["seed"])] if many_seeds else []), strategy,
                *([target_text(row)] if targets else []),
                f"{fmt(row['commission'], 'pct')}+{fmt(row['slippage'], 'pct')}"]
        if row["status"] != "ok":  # the reason follows the table, once per distinct error
            table.add_row(*lead, "[red]failed[/red] (see below)", *[""] * (len(cols) - len(lead) - 1))
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


def target_text(row: dict) -> str:
    """A portfolio row's forecast target, and "per-ticker" when its models were not pooled."""
    if not row.get("target"):
        return ""
    return row["target"] + (" per-ticker" if row.get("pooled") is False else "")


def spans_line(result) -> str:
    """The first to the last backtest day of each ticker's rows and of the portfolio rows,
    as results.csv has them; a ticker whose rows all failed shows its data's span."""
    parts = []
    for ticker in dict.fromkeys(r["ticker"] for r in result.rows):
        spans = {(r["start"], r["end"]) for r in result.rows if r["ticker"] == ticker and r.get("start")}
        data = result.tickers.get(ticker)
        if spans:
            varies = " (varies by row)" if len(spans) > 1 else ""
            parts.append(f"{ticker} {min(s for s, _ in spans)} to {max(e for _, e in spans)}{varies}")
        elif data:
            parts.append(f"{ticker} none (data {data['start']} to {data['end']})")
        else:
            parts.append(f"{ticker} none")
    return "backtest spans: " + ("; ".join(parts) or "none")


def test_lines(result) -> list[str]:
    """The statistics behind the verdict, one line each, then the verdict."""
    t = result.tests
    cache = result.cache
    lines = [f"walk-forward runs: {cache['trained']} trained, {cache['hits']} from the prediction cache"
             + ("" if cache.get("enabled") else " (cache off)")
             + f"; {result.seconds:.1f} s"]
    if t.get("best"):
        tuned = t.get("tuning_trials") or 0
        configs = t.get("n_configurations", t["n_trials"])
        counted = f" (+ {tuned} tuning trials: {t['n_trials']} in all)" if tuned else ""
        lines.append(f"judged on the {t['n_days']} days all {configs} configurations share{counted}; "
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
