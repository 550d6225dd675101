"""`fcast signal`: tomorrow's call (P(up), target, orders) from the backtest's own code path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast import defaults as d
from forecast.cli import options as o
from forecast.cli.backtest_cmd import Engine
from forecast.cli.console import TickerFailures, err, out
from forecast.errors import ConfigError
from forecast.formatting import fmt
from forecast.settings import CostOptions


def _saved(p: dict) -> bool:
    return p["model_path"] is not None


# Options a mode ignores (see options.refuse_ignored): refused rather than silently dropped.
IGNORED = (
    o.Ignores(_saved, ("model", "window", "features", "label"),
              "with --model-path (the saved model fixes it)"),
    o.Ignores(_saved, ("epochs", "seed", "device", "test_days", "test_start", "folds", "retrain_every",
                       "train_window", "universe"), "with --model-path (a saved model is not trained again)"),
    o.Ignores(lambda p: p["universe"] is None and not p["portfolio"], ("pooled", "target", "rebalance_band"),
              "without --universe or --portfolio (a portfolio's option)"),
    o.Ignores(lambda p: p["universe"] is not None or p["portfolio"],
              ("label", "engine", "commission_per_share"),
              "with a portfolio (it forecasts the traded open-to-open return, fees per value)"),
    o.FILE_NEEDS_SOURCE,
)

Tickers = Annotated[list[str] | None, typer.Argument(
    help="Tickers (one signal each, or with --portfolio one portfolio), or --universe.")]
AsPortfolio = Annotated[bool, typer.Option(
    "--portfolio", help="The tickers as one portfolio (as `fcast portfolio T1 T2 ...`): target weights.")]
CommissionPerShare = Annotated[float | None, typer.Option(
    "--commission-per-share", min=0.0, callback=o.finite, help="Commission per share instead of a fraction.")]
Universe = Annotated[str | None, typer.Option(
    "--universe", help="A universe (dow30, bundled or imported): the portfolio's target weights.")]
Model = Annotated[str | None, typer.Option(
    "--model", "-m", help=f"Model (default {d.SINGLE_TICKER_MODEL}; {d.PORTFOLIO_MODEL} with --universe).")]
Strategy = Annotated[str | None, typer.Option(
    "--strategy", "-s",
    help=f"Strategy (default {d.STRATEGY}; {d.PORTFOLIO_STRATEGY} with --universe), as `fcast backtest`.")]
Param = Annotated[list[str], typer.Option("--param", "-p", help="Strategy parameter key=value.")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="The signal as given after this day's close (default: the newest bar).")]
Positions = Annotated[Path | None, typer.Option(
    "--positions", help="CSV of current holdings (columns ticker, shares): orders to reach the targets.")]
AccountCash = Annotated[float | None, typer.Option(
    "--cash", callback=o.finite, help="The account's cash, for orders (with or without --positions).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the signal rows as CSV here.")]
Json = Annotated[bool, typer.Option("--json", help="Print the signal document (docs/SIGNALS.md).")]
ModelPath = Annotated[str | None, typer.Option(
    "--model-path", help="Forecast with a model saved by `fcast train` (no refits).")]
NoRefresh = Annotated[bool, typer.Option(
    "--no-refresh", help="Use the stored bars as they are (default: stored tickers behind the last "
    "session are first refreshed from Yahoo Finance, when it answers).")]
Target = Annotated[str, typer.Option("--target", help="With --universe: the portfolio's target (as "
                                                      "`fcast portfolio`).")]
Pooled = Annotated[bool, typer.Option("--pooled/--per-ticker", help="With --universe: one pooled model.")]
RebalanceBand = Annotated[float, typer.Option("--rebalance-band",
                                              help="With --universe: as `fcast portfolio`.")]


def signal(
    ctx: typer.Context,
    tickers: Tickers = None,
    universe: Universe = None,
    portfolio: AsPortfolio = False,
    model: Model = None,
    strategy: Strategy = None,
    param: Param = None,
    as_of: AsOf = None,
    positions: Positions = None,
    cash: AccountCash = None,
    start: o.Start = None,
    commission: o.Commission = d.COMMISSION,
    slippage: o.Slippage = d.SLIPPAGE,
    min_commission: o.MinCommission = d.MIN_COMMISSION,
    commission_per_share: CommissionPerShare = None,
    window: o.Window = d.WINDOW,
    epochs: o.Epochs = None,
    test_days: o.TestDays = None,
    test_start: o.TestStart = None,
    folds: o.Folds = None,
    retrain_every: o.RetrainEvery = d.RETRAIN_EVERY,
    train_window: o.TrainWindow = d.TRAIN_WINDOW,
    features: o.Features = None,
    label: o.Label = d.LABEL,
    seed: o.Seed = d.SEED,
    device: o.Device = d.DEVICE,
    backend: o.Backend = None,
    engine: Engine = d.ENGINE,
    pooled: Pooled = True,
    target: Target = d.PORTFOLIO_TARGET,
    rebalance_band: RebalanceBand = d.REBALANCE_BAND,
    model_path: ModelPath = None,
    source: o.Source = None,
    file: o.File = None,
    output: Output = None,
    as_json: Json = False,
    no_cache: o.NoCache = False,
    no_refresh: NoRefresh = False,
    journal: Annotated[str | None, typer.Option(
        "--journal", help="Append the signal to this forward-test journal (see `fcast journal`).")] = None,
    from_run: Annotated[str | None, typer.Option(
        "--run", help="Take the configuration of this recorded backtest or portfolio run (`fcast runs "
        "list`), its folds extended to today.")] = None,
):
    """Tomorrow's signal: the forecast, the strategy's target and (with --positions/--cash)
    the orders for the next open.

    It is the last row of the backtest the same options define (`fcast backtest ... --end
    AS_OF`), computed by the same code: same data resolution, folds, features, model and
    strategy. With --test-start the folds are fixed, so every day's signal equals that day's
    row in a backtest run through any later day (a forward test needs this; --journal pins it).
    """
    from forecast.signal import SignalConfig

    if from_run is not None:
        _from_run(ctx, from_run)
        return
    o.refuse_ignored(ctx, *IGNORED)
    o.check_dates(start=start, end=as_of)
    home = ctx.obj["store"].home
    followed = _journal_config(journal, home) if journal is not None else None
    if followed is not None and not tickers and not universe:
        _refuse_options_beside_journal(ctx)
        tickers, universe = list(followed.tickers), followed.universe
        portfolio = followed.kind == "portfolio" and universe is None
    elif bool(tickers) == bool(universe):
        raise ConfigError("give tickers or --universe NAME, not both or neither")
    if portfolio and universe:
        raise ConfigError("--portfolio makes a portfolio of the tickers given; --universe is one already")
    if portfolio and len(tickers) < 2:
        raise ConfigError("--portfolio needs two or more tickers")
    wf = o.walk_forward_options(window=window, test_days=test_days, folds=folds, retrain_every=retrain_every,
                                train_window=train_window, features=features, label=label,
                                test_start=test_start)
    kind = "portfolio" if universe or portfolio else "ticker"
    many = kind == "portfolio"
    config = SignalConfig(
        kind=kind, tickers=tuple(t.upper() for t in tickers or ()), universe=universe,
        model=o.model_options(model or (d.PORTFOLIO_MODEL if many else d.SINGLE_TICKER_MODEL),
                              epochs=epochs, seed=seed, device=device, mixed_precision=False),
        model_path=model_path, strategy=strategy or (d.PORTFOLIO_STRATEGY if many else d.STRATEGY),
        params=_params(kind, strategy or (d.PORTFOLIO_STRATEGY if many else d.STRATEGY), param),
        walk_forward=wf,
        costs=CostOptions(d.CASH, commission, slippage, min_commission, commission_per_share),
        engine=engine, start=start,
        portfolio={"pooled": pooled, "target": target, "rebalance_band": rebalance_band} if many else {},
    )
    account = None
    if positions is not None or cash is not None:
        from forecast.signal import read_positions

        account = (read_positions(positions) if positions is not None else {}, 0.0 if cash is None else cash)
    if followed is not None:  # the journal's configuration: given whole, or its folds kept
        pin = followed.walk_forward.test_start
        config = followed if not ctx.params["tickers"] and not ctx.params["universe"] else \
            (config.pinned(pin) if pin else config)
    o.use_backend(backend, None if config.model_path else config.model.name)
    if not no_refresh and as_of is None and source in (None, "store"):
        from forecast.signal.refresh import refresh_stored

        refresh_stored(list(config.tickers), ctx.obj["store"], say=lambda line: err.print(line, markup=False))
    doc, failures = make_document(ctx, config, as_of=as_of, account=account, source=source, path=file,
                                  no_cache=no_cache, quiet=as_json, pin=journal is not None)
    if journal is not None:
        from forecast.journal.store import append

        if failures is not None and failures.lines:  # a journal entry holds every ticker or none
            failures.report()

        seq = append(journal, doc, home=home)
        if not as_json:
            err.print(f"journal {journal}: entry {seq} added (as of {doc['as_of']})", markup=False)
    if output is not None:
        write_csv(doc, output)
    if as_json:
        print(json.dumps(doc, indent=2))
    else:
        render(doc)
        if output is not None:
            out.print(f"wrote {output}", markup=False)
    if failures is not None:
        failures.report()  # after the signals that were made: one line each, exit 1


# What a signal made with --run may still be told: about the account, the day and the output.
RUN_PASSTHROUGH = {"as_of": "--as-of", "positions": "--positions", "cash": "--cash", "output": "--output",
                   "journal": "--journal", "as_json": "--json", "no_refresh": "--no-refresh",
                   "no_cache": "--no-cache"}


def _from_run(ctx: typer.Context, run_id: str) -> None:
    """Run `fcast signal` with the recorded run's options (plus this call's passthrough ones)."""
    from forecast.runs import load_run
    from forecast.signal.from_run import signal_args

    given = [name for name in ctx.params if name not in (*RUN_PASSTHROUGH, "from_run")
             and ctx.get_parameter_source(name).name != "DEFAULT"]
    if given:
        raise ConfigError(f"--run takes the run's configuration: --{given[0].replace('_', '-')} cannot "
                          "change it (give the options without --run instead)")
    home = ctx.obj["store"].home
    args = signal_args(load_run(run_id, home))
    for name, flag in RUN_PASSTHROUGH.items():
        value = ctx.params[name]
        if isinstance(value, bool):
            args += [flag] if value else []
        elif value is not None:
            args += [flag, str(value)]
    if not ctx.params["as_json"]:
        err.print(f"run {run_id}: fcast signal {' '.join(args)}", markup=False, soft_wrap=True)
    # The same command, parsed afresh from those arguments, under the same root options.
    with ctx.command.make_context(ctx.info_name, args, parent=ctx.parent) as again:
        ctx.command.invoke(again)


def _params(kind: str, strategy: str, param) -> dict:
    """The strategy's parameters, typed (a bad one fails here, before anything loads)."""
    if kind == "portfolio":
        from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

        return parse_portfolio_params(load_portfolio_strategy(strategy), param or [])
    from forecast.backtest.params import parse_params
    from strategies import load_strategy

    return parse_params(load_strategy(strategy), param or [])


def _journal_config(name: str, home):
    """The configuration journal `name` follows (None: a new journal)."""
    from forecast.journal.store import first_config
    from forecast.signal import SignalConfig

    stored = first_config(name, home)
    return None if stored is None else SignalConfig.from_dict(stored)


# What `fcast signal --journal NAME` may still be told when it takes the journal's configuration.
BESIDE_JOURNAL = ("journal", "as_of", "positions", "cash", "output", "as_json", "no_refresh", "no_cache",
                  "source", "file", "backend")


def _refuse_options_beside_journal(ctx: typer.Context) -> None:
    given = [name for name in ctx.params if name not in (*BESIDE_JOURNAL, "tickers", "universe")
             and ctx.get_parameter_source(name).name != "DEFAULT"]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise ConfigError(f"the journal fixes the configuration: {flag} cannot change it (give the tickers "
                          "and every option to check them against the journal's)")


def make_document(ctx, config, *, as_of, account, source, path, no_cache: bool, quiet: bool,
                  pin: bool = False):
    """The signal's document: each ticker's (or the portfolio's) last backtest row, the
    stale-data line, and the orders for `account` ((positions, cash) or None). `pin`: the
    configuration records its folds' first day as `test_start` (for a journal; the same
    folds, so the same numbers). Returns it with the tickers that failed (reported by the
    caller after the others' signals), or None."""
    from forecast.cli.progress import training_progress
    from forecast.signal import portfolio_signal, signal_document, ticker_signals

    home = ctx.obj["store"].home

    def say(line: str) -> None:
        err.print(line, markup=False, soft_wrap=True)

    failures = None
    if config.kind == "portfolio":
        with training_progress("walk-forward folds", enabled=not quiet) as shown:
            made = portfolio_signal(config, as_of=as_of, home=home, source=source, cache=not no_cache,
                                    progress=shown.folds)
        rows, last, first = made.rows(), made.as_of, made.test_start
        weights = {t: float(w) for t, w in made.weights.dropna().items()}
    else:
        failures = TickerFailures(list(config.tickers), debug=ctx.obj["debug"], raise_if_alone=True)
        cache = None if (no_cache or config.model_path) else o.prediction_cache(ctx, no_cache)
        from forecast.cli.progress import training_progress as shown_progress

        made = ticker_signals(config, as_of=as_of, home=home, source=source, path=path, cache=cache,
                              guard=failures.run, progress=None if quiet else shown_progress, say=say)
        if not made:
            failures.report()
            raise ConfigError("no ticker gave a signal")
        rows, last, weights = [s.to_dict() for s in made], max(s.as_of for s in made), None
        first = min(s.test_start for s in made)
    if pin:
        config = config.pinned(first.date())
    positions, cash = account if account is not None else (None, None)
    doc = signal_document(config, rows, as_of=last, weights=weights, positions=positions, cash=cash)
    _say_data_age(doc, as_of, say)
    return doc, failures


def _say_data_age(doc: dict, as_of, say) -> None:
    """One line when the data is older than asked: behind the calendar (no --as-of), short of
    --as-of, or one ticker's bars ending before the others'."""
    import pandas as pd

    if as_of is None and doc["stale"]:
        say(f"data: the newest bar is {doc['as_of']}, {doc['sessions_behind']:,} sessions before the last "
            f"completed one: the signal is for the bar that exists")
    elif as_of is not None and pd.Timestamp(doc["as_of"]) < pd.Timestamp(as_of):
        say(f"data: no bar on {pd.Timestamp(as_of).date()}; the signal is as of the last bar before it, "
            f"{doc['as_of']}")
    for row in doc["signals"]:
        if row["as_of"] < doc["as_of"]:
            say(f"{row['ticker']}: its newest bar is {row['as_of']}, before the others' {doc['as_of']}: its "
                "call is for that bar")


def write_csv(doc: dict, path: Path) -> None:
    """The signal rows, each with its order (if any), as one CSV, written whole or not at all."""
    import pandas as pd

    from forecast.atomic import write_atomic

    orders = {o["ticker"]: o for o in doc["orders"]}
    rows = [{**r, "next_session": doc["next_session"],
             "order_shares": orders.get(r["ticker"], {}).get("shares", 0),
             "order_price": orders.get(r["ticker"], {}).get("price"),
             "est_commission": orders.get(r["ticker"], {}).get("commission"),
             "est_slippage": orders.get(r["ticker"], {}).get("slippage")} for r in doc["signals"]]
    text = pd.DataFrame(rows).to_csv(index=False)
    write_atomic(Path(path), text.encode())


def render(doc: dict) -> None:
    forecast = "prob_up" if not doc["signals"] or "prob_up" in doc["signals"][0] else "score"
    table = Table(title=f"Signal after the close of {doc['as_of']}, for the open of {doc['next_session']}")
    for column in ("ticker", "as of", "P(up)" if forecast == "prob_up" else "score", "target", "close",
                   "order", "est. costs"):
        table.add_column(column, justify="left" if column == "ticker" else "right")
    orders = {o["ticker"]: o for o in doc["orders"]}
    for row in doc["signals"]:
        order = orders.get(row["ticker"])
        table.add_row(
            row["ticker"], row["as_of"], fmt(row.get(forecast), "num3"), fmt(row.get("target"), "num"),
            fmt(row.get("close"), "money"),
            f"{order['side']} {abs(order['shares']):,}" if order else "",
            fmt(order["commission"] + order["slippage"], "money") if order else "",
        )
    out.print(table)
    if doc["positions"] is not None or doc["cash"] is not None:
        out.print(f"{len(doc['orders'])} order(s), sized at the last close (the next open is not known yet); "
                  "whole shares, rounded toward zero", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(signal)
