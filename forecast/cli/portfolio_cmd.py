"""`fcast portfolio`: a ranking strategy across a universe, beside its benchmarks, with IC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast import defaults as d
from forecast.cli import options as o
from forecast.cli import recording
from forecast.cli.console import err, out
from forecast.cli.progress import training_progress
from forecast.cli.seeds_view import Seeds, render_seeds
from forecast.formatting import count, fmt
from forecast.settings import CostOptions
from forecast.stats.labels import PORTFOLIO_TERMINAL_EXPOSURE, PORTFOLIO_TERMINAL_ROWS

# Options a mode ignores (see options.refuse_ignored).
IGNORED = (o.without("output", "force"), *o.model_option_rules(("epochs",)))


# The options only `fcast portfolio` has, as types (see forecast/cli/options.py).
Tickers = Annotated[list[str] | None, typer.Argument(help="Two or more tickers (or --universe).")]
Universe = Annotated[str | None, typer.Option(
    "--universe", help="A universe: dow30, bundled, or one from `fcast universe import` (traded point in "
    "time: a ticker only on days it is a member).")]
Pooled = Annotated[bool, typer.Option(
    "--pooled/--per-ticker", help="One model over every ticker's windows (default), or one per ticker.")]
Target = Annotated[str, typer.Option(
    "--target", help="direction (each ticker's traded return > 0), beats-median "
    "(beats the day's cross-sectional median, as Fischer & Krauss 2018), return (the traded return "
    "itself) or rank (its percentile among the day's members): the last two fit the model's "
    "regression twin and rank by its predicted score.")]
TrainOn = Annotated[str, typer.Option(
    "--train-on", help="With --universe's membership: members (train on the members on each "
    "study period's last training day, as the papers) or all (every ticker with bars).")]
Strategy = Annotated[
    str, typer.Option("--strategy", "-s", help="top-k, long-short, topk-dropout or file.py:Class.")
]
Param = Annotated[list[str], typer.Option("--param", "-p", help="Strategy parameter key=value.")]
RebalanceBand = Annotated[float, typer.Option(
    "--rebalance-band", help="Leave a held position alone while its weight is within "
    "this of its target (same side), e.g. 0.02; 0 resizes every day.")]
MaxFeeShare = Annotated[float, typer.Option(
    "--max-fee-share", help="Skip an order whose fee would be more than this share of "
    "its value (0 < x <= 1; default 1: never pay more than the order is worth).")]
MinPrice = Annotated[float | None, typer.Option(
    "--min-price", help="Rank a ticker on a day only if its last (adjusted) close is at least this.")]
MinDollarVolume = Annotated[float | None, typer.Option(
    "--min-dollar-volume", help="Rank a ticker on a day only if its median close x volume over "
    "the last --dollar-volume-window bars is at least this.")]
DollarVolumeWindow = Annotated[int, typer.Option(
    "--dollar-volume-window", help="Bars in --min-dollar-volume's trailing median.")]
DropExtremeMoves = Annotated[bool, typer.Option(
    "--drop-extreme-moves", help="Do not rank a ticker on a day whose close moved beyond "
    "-33%/+49% (the data checks' extreme move).")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write metrics.json and the equity, weights, trades, predictions "
    "and ic CSVs here.")]
Json = Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout.")]


def portfolio(
    ctx: typer.Context,
    tickers: Tickers = None,
    universe: Universe = None,
    model: o.Model = d.PORTFOLIO_MODEL,
    pooled: Pooled = True,
    target: Target = d.PORTFOLIO_TARGET,
    train_on: TrainOn = d.TRAIN_ON,
    strategy: Strategy = d.PORTFOLIO_STRATEGY,
    param: Param = None,
    start: o.Start = None,
    end: o.End = None,
    cash: o.Cash = d.CASH,
    commission: o.Commission = d.COMMISSION,
    slippage: o.Slippage = d.SLIPPAGE,
    min_commission: o.MinCommission = d.MIN_COMMISSION,
    rebalance_band: RebalanceBand = d.REBALANCE_BAND,
    max_fee_share: MaxFeeShare = d.MAX_FEE_SHARE,
    min_price: MinPrice = None,
    min_dollar_volume: MinDollarVolume = None,
    dollar_volume_window: DollarVolumeWindow = d.DOLLAR_VOLUME_WINDOW,
    drop_extreme_moves: DropExtremeMoves = False,
    window: o.Window = d.WINDOW,
    epochs: o.Epochs = None,
    test_days: o.TestDays = None,
    test_start: o.TestStart = None,
    retrain_every: o.RetrainEvery = d.RETRAIN_EVERY,
    train_window: o.TrainWindow = d.TRAIN_WINDOW,
    features: o.Features = None,
    seed: o.Seed = d.SEED,
    backend: o.Backend = None,
    source: o.Source = None,
    output: Output = None,
    force: o.Force = False,
    as_json: Json = False,
    no_cache: o.NoCache = False,
    seeds: Seeds = 1,
    workers: o.Workers = None,
    ray_address: o.RayAddress = None,
):
    """Trade a cross-sectional ranking strategy on out-of-sample forecasts of a universe.

    Each day, after the close, the strategy ranks the tickers that have a bar and a forecast
    and sets target weights; orders fill at the next open with slippage and commission, on
    backtrader with one feed per ticker. The report puts it beside the universe's
    equal-weight buy-and-hold and SPY, with the forecasts' daily IC and rank IC.

    With --workers or --ray-address the walk-forward's folds run on Ray (independent cold
    refits at once, per-ticker models within a fold at once): the same forecasts, files and
    cache entries as the serial run.
    """
    from forecast.errors import ConfigError
    from forecast.output_dir import check_output
    from forecast.portfolio.engine import check_band, check_fee_share
    from forecast.portfolio.filters import FilterSettings
    from forecast.portfolio.run import check_universe_size, run_portfolio_backtest
    from forecast.seeds import seed_list
    from strategies.portfolio import load_portfolio_strategy, parse_portfolio_params

    o.refuse_ignored(ctx, *IGNORED)
    o.check_dates(start=start, end=end)
    seed_list(seed, seeds)  # a bad count fails before anything loads
    if seeds > 1 and output is not None:
        raise ConfigError("--seeds N > 1 writes no --output folder (each seed's run is recorded; "
                          "--json gives every seed's figures)")
    if output is not None:
        check_output(output, force)  # first: a bad path fails before anything loads or trains
    if bool(tickers) == bool(universe):
        raise ConfigError("give two or more tickers or --universe NAME, not both or neither")
    from forecast.features.universe_target import TARGETS

    if target not in TARGETS:
        raise ConfigError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    if train_on not in d.TRAIN_ON_CHOICES:
        raise ConfigError(f"--train-on must be one of {', '.join(d.TRAIN_ON_CHOICES)}, not {train_on!r}")
    cls = load_portfolio_strategy(strategy)
    params = parse_portfolio_params(cls, param or [])
    check_band(rebalance_band)
    check_fee_share(max_fee_share)
    filters = FilterSettings(min_price=min_price, min_dollar_volume=min_dollar_volume,
                             dollar_volume_window=dollar_volume_window, drop_extreme_moves=drop_extreme_moves)
    if tickers:  # a named universe is checked once loaded, still before any training
        check_universe_size(cls, params, len(dict.fromkeys(t.upper() for t in tickers)))
    o.use_backend(backend, model)
    wf = o.walk_forward_options(test_start=test_start, window=window, test_days=test_days,
                                retrain_every=retrain_every,
                                train_window=train_window, features=features)
    executor = o.executor(workers, ray_address)
    names = universe if universe else list(tickers)
    if not as_json:
        where = "" if executor.name == "serial" else f"; {o.where(executor)}"
        err.print(f"portfolio: {names if isinstance(names, str) else ', '.join(names)}; "
                  f"{'pooled' if pooled else 'per-ticker'} {model}, target {target}{where}", markup=False)

    def run(one_seed: int):
        model_params = o.model_options(model, epochs=epochs, seed=one_seed, device=d.DEVICE,
                                       mixed_precision=False).params()
        with training_progress("walk-forward folds", enabled=not as_json) as shown:
            return run_portfolio_backtest(
                names, model=model, pooled=pooled, target=target, strategy=strategy, params=params,
                model_params=model_params,
                walk_forward={**wf.universe_kwargs(one_seed), "train_on": train_on},
                source=source, start=start, end=end, home=ctx.obj["store"].home,
                rebalance_band=rebalance_band, max_fee_share=max_fee_share,
                cache=not no_cache, filters=filters, progress=shown.folds, executor=executor,
                **CostOptions(cash, commission, slippage, min_commission).broker(),
            )

    # A cluster this starts is shut down on the way out, Ctrl-C and errors included.
    with executor:
        if seeds > 1:
            _over_seeds(ctx, run, seed, seeds, as_json)
            return
        result = run(seed)
    if result.cache == "hit" and not as_json:
        err.print("forecasts: from the portfolio prediction cache (--no-cache recomputes)", markup=False)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        render(result)
    if output is not None:
        from forecast.output_dir import output_folder, write_page

        with output_folder(output, force=force) as tmp:  # complete, or not written at all
            result.write(tmp)
            write_page(tmp)
        if not as_json:
            out.print(f"wrote {output}", markup=False)
    recording.record(ctx, result, output=output)


# What `portfolio --seeds N` tabulates (the JSON summarises every figure of these sections).
PORTFOLIO_SECTIONS = ("strategy", "ic", "spread", "statistics")
PORTFOLIO_HEADLINE = ("strategy.total_return", "strategy.cagr", "strategy.sharpe", "strategy.max_drawdown",
                      "strategy.turnover_annual", "ic.mean_ic", "ic.icir", "ic.mean_rank_ic", "ic.rank_icir",
                      "spread.mean", "statistics.psr")


def _over_seeds(ctx, run, seed: int, n_seeds: int, as_json: bool) -> None:
    """One portfolio run per seed (each its own walk-forward and run record), then the summary."""
    from forecast.seeds import over_seeds

    def one(one_seed: int) -> dict:
        result = run(one_seed)
        recording.record(ctx, result)
        return result.to_dict()

    result = over_seeds(one, seed, n_seeds, sections=PORTFOLIO_SECTIONS)
    first = result["per_seed"][0]
    if as_json:
        doc = {"model": first["model"], "strategy": first["strategy"]["name"], **result}
        print(json.dumps(doc, indent=2))
    else:
        render_seeds(f"Portfolio {first['strategy']['name']}, {first['model']}", result, PORTFOLIO_HEADLINE)


def _ic_text(ic: dict, prefix: str, key: str) -> str:
    return (f"{fmt(ic.get(key), 'num3')} (ICIR {fmt(ic.get(prefix + 'icir'), 'num')}, "
            f"t {fmt(ic.get(prefix + 't_stat'), 'num')})")


def render(result) -> None:
    """Strategy beside the equal-weight universe and SPY; IC; spread; legs; contributions."""
    from forecast.backtest.report import refused_lines, ruin_line

    doc = result.to_dict()
    strat, bench, market = doc["strategy"], doc["benchmark"], doc.get("market") or {}
    table = Table(title=f"Portfolio {result.strategy} on {len(result.universe)} tickers, "
                  f"{doc['start'][:10]} to {doc['end'][:10]}")
    table.add_column("")
    table.add_column("strategy", justify="right")
    table.add_column("equal-weight B&H", justify="right")
    table.add_column("SPY B&H" if market else "SPY (n/a)", justify="right")
    for key, label, kind in PORTFOLIO_TERMINAL_ROWS:
        table.add_row(label, fmt(strat.get(key), kind), fmt(bench.get(key), kind), fmt(market.get(key), kind))
    s = doc["statistics"]
    table.add_row("Sharpe SE", fmt(s.get("sharpe_se"), "num"), "", "")
    for key, label, kind in PORTFOLIO_TERMINAL_EXPOSURE:
        if key in strat:
            table.add_row(label, fmt(strat.get(key), kind), "", "")
    out.print(table)
    ic = doc["ic"]
    how = f"{'pooled' if result.pooled else 'per-ticker'} {result.model}, target {result.target}"
    days = fmt(ic.get("n_days"), "int")
    out.print(f"forecasts ({how}): IC {_ic_text(ic, '', 'mean_ic')}, rank IC "
              f"{_ic_text(ic, 'rank_', 'mean_rank_ic')} over {days} days", markup=False)
    sp = doc["spread"]
    by = "score" if "score" in result.predictions.columns else "prob_up"
    out.print(f"top-{sp['k']} minus bottom-{sp['k']} by {by}: {fmt(sp.get('mean'), 'spct')} a day "
              f"(t {fmt(sp.get('t_stat'), 'num')}), before costs", markup=False)
    out.print(f"PSR vs 0: {fmt(s.get('psr'), 'num')}; vs equal-weight buy-and-hold: "
              f"{fmt(s.get('psr_vs_benchmark'), 'num')}", markup=False)
    legs = getattr(result.backtest, "legs", None)
    if legs is not None and len(legs):
        out.print(f"legs (summed daily contributions): long {fmt(legs['long'].sum(), 'spct')}, "
                  f"short {fmt(legs['short'].sum(), 'spct')}, costs {fmt(legs['costs'].sum(), 'drag')}",
                  markup=False)
    share = (result.settings or {}).get("max_fee_share", 1.0)
    for line in refused_lines(strat, fee_share=share):  # skipped for costs or refused by the broker
        out.print(line, markup=False)
    dear = dear_fills_line(result.backtest.fills)
    if dear:
        err.print(dear, markup=False, soft_wrap=True)
    ruined = ruin_line(result.backtest.metrics["strategy"])
    if ruined:
        out.print(ruined, markup=False)
    if result.survivorship_biased:
        from forecast.data.bundled import SURVIVORSHIP_NOTE

        out.print(f"caution: the bundled stocks are {SURVIVORSHIP_NOTE}; a ranking across them "
                  "picks from names known to have survived", markup=False)
    contrib = result.backtest.contributions.sort_values(ascending=False)
    if len(contrib):
        best = ", ".join(f"{t} {v:,.0f}" for t, v in contrib.head(3).items())
        worst = ", ".join(f"{t} {v:,.0f}" for t, v in contrib.tail(3).items())
        out.print(f"contributions (P&L): best {best}; worst {worst}", markup=False)


# A fill whose fee is above this share of its value is dust paying a minimum fee; the default
# --max-fee-share (1: never more than the order's worth) lets it through, so say so.
DEAR_FEE_SHARE = 0.05


def dear_fills_line(fills) -> str | None:
    """A warning when fills paid more than DEAR_FEE_SHARE of their value in fees, else None."""
    if fills is None or not len(fills):
        return None
    dear = fills[fills["commission"] > DEAR_FEE_SHARE * fills["value"]]
    if not len(dear):
        return None
    return (f"warning: {count(len(dear), 'fill')} of {len(fills):,} paid more than "
            f"{DEAR_FEE_SHARE:.0%} of their value in fees ({dear['commission'].sum():,.2f} in all); "
            f"--max-fee-share {DEAR_FEE_SHARE} skips such orders, --rebalance-band 0.02 avoids most")


def register(app: typer.Typer) -> None:
    app.command()(portfolio)
