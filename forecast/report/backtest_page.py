"""report.html for one backtest, rebuilt from its --output folder alone.

Inputs: metrics.json, equity.csv, trades.csv, predictions.csv and ledger.csv (the last is
missing from runs written before fcast kept it; a section then says so). Every figure read
from metrics.json is written with `number(..., key=<dotted path>)` so the tests can check
it against the file; figures derived from the CSVs carry no key.
"""

from __future__ import annotations

import math
from pathlib import Path

from forecast.charts import backtest as charts
from forecast.charts.curves import monthly_heatmap_with_totals
from forecast.report import tables
from forecast.report.html import Html, chart, esc, join, note, number, page, section, table, tag
from forecast.report.interactive import interactive_equity
from forecast.stats.labels import BACKTEST_PAGE_FIGURES, BACKTEST_PAGE_REFUSED, BACKTEST_PAGE_TRADES
from forecast.stats.returns import daily_returns, rolling_sharpe, yearly_comparison

_MISSING = object()

PSR_EVIDENCE = 0.95
MAX_LISTED = 2000  # trades listed one by one


def lookup(doc: dict, key: str):
    """The value at dotted path `key` in `doc`, or _MISSING."""
    value = doc
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def keyed(doc: dict, key: str, kind: str) -> Html:
    """A metrics.json figure, keyed by its path; "n/a" (unkeyed) when the file lacks it."""
    value = lookup(doc, key)
    if value is _MISSING or isinstance(value, bool) or not (value is None or isinstance(value, int | float)):
        return esc("n/a")
    return number(value, kind, key=key)


def backtest_page(folder: Path, **options) -> str:
    """The page's HTML for the backtest in `folder` (no options are used yet)."""
    run = tables.read_run(Path(folder))
    m = run.metrics
    rets = daily_returns(run.equity, ruin_as_zero=False)
    rf = (m.get("settings") or {}).get("risk_free")
    sections = [
        key_figures(m),
        verdict(m, rets, rf),
        equity_section(m, run),
        section("drawdown", "Drawdown", chart(charts.drawdown(run.equity), "drawdown",
                                              "drawdown of strategy and buy-and-hold"),
                note(join(["deepest: strategy ", keyed(m, "strategy.max_drawdown", "pct"), ", buy-and-hold ",
                           keyed(m, "benchmark.max_drawdown", "pct"), "; longest under water: ",
                           keyed(m, "strategy.max_drawdown_bars", "int"), " and ",
                           keyed(m, "benchmark.max_drawdown_bars", "int"), " bars"]))),
        exposure_section(m, run),
        section("monthly", "Monthly returns (strategy)",
                chart(monthly_heatmap_with_totals(tables.monthly_grid(run.equity["strategy"])), "monthly",
                      "heatmap of the strategy's monthly returns by year, with each year's total")),
        yearly_section(m, run),
        rolling_section(rets, rf),
        distribution_section(rets),
        trades_section(m, run),
        forecast_section(m, run),
        walk_forward_section(m),
    ]
    return page(title(m), subtitle=subtitle(m), meta=header(m, run), sections=sections, kind="backtest",
                footer=join(["Rebuilt from the files in ", tag("code", Path(folder).name),
                             ": metrics.json, equity.csv, trades.csv, predictions.csv",
                             ", ledger.csv" if run.ledger is not None else "",
                             ". No network, nothing recomputed from market data."]))


def title(m: dict) -> str:
    return f"Backtest: {m.get('ticker') or 'data'} · {(m.get('strategy') or {}).get('name', '?')}"


def model_name(m: dict) -> str:
    """Which model made the forecasts. A backtest always trades forecasts: without a model name
    they were handed in (a predictions frame given to `run_backtest`), not absent."""
    return str(m.get("model") or "not recorded (predictions supplied by hand)")


def subtitle(m: dict) -> str:
    model = m.get("model") or "supplied"
    return f"{model} forecasts, {m.get('start')} to {m.get('end')}, against buy-and-hold"


def header(m: dict, run: tables.RunFiles) -> list[tuple[str, object]]:
    s = m.get("settings") or {}
    strat = m.get("strategy") or {}
    params = ", ".join(f"{k}={v}" for k, v in (strat.get("params") or {}).items())
    if s.get("commission_per_share") is not None:
        commission = join([keyed(m, "settings.commission_per_share", "num3"), " per share"])
    else:
        commission = join([keyed(m, "settings.commission", "pct"), " of traded value"])
    data = m.get("data") or {}
    fingerprint = data.get("fingerprint")
    return [
        ("ticker", m.get("ticker") or "–"),
        ("model", model_name(m)),
        ("strategy", f"{strat.get('name', '?')}" + (f" ({params})" if params else "")),
        ("span", f"{m.get('start')} – {m.get('end')} ({len(run.equity):,} bars)"),
        ("costs", join([commission, ", min ", keyed(m, "settings.min_commission", "money"),
                        "; slippage ", keyed(m, "settings.slippage", "pct")])),
        ("cash", keyed(m, "settings.cash", "money")),
        ("risk-free rate", keyed(m, "settings.risk_free", "pct")),
        ("engine", m.get("engine") or "–"),
        ("fcast version", m.get("fcast_version") or "unknown (older run)"),
        ("data", tag("span", f"{fingerprint[:12]} · {data.get('source') or 'source unknown'}",
                     title=fingerprint) if fingerprint else "not recorded"),
        ("buy-and-hold entry", m.get("benchmark_entry") or "–"),
        ("first trade", m.get("first_trade") or "none"),
    ]


def key_figures(m: dict) -> Html:
    rows = [[label, keyed(m, f"strategy.{k}", kind), keyed(m, f"benchmark.{k}", kind)]
            for k, label, kind in BACKTEST_PAGE_FIGURES]
    rows += [[label, keyed(m, f"strategy.{k}", kind), ""] for k, label, kind in BACKTEST_PAGE_TRADES]
    # Refused orders matter only when there were some: a strategy that wanted more than it got.
    rows += [[tag("span", label, class_="warn"), keyed(m, f"strategy.{k}", kind), ""]
             for k, label, kind in BACKTEST_PAGE_REFUSED
             if lookup(m, f"strategy.{k}") not in (_MISSING, None, 0)]
    return section("key-figures", "Key figures", table(["", "strategy", "buy-and-hold"], rows),
                   note("Trade statistics use each trade's net P&L; a trade open at the end is marked to "
                        "the last close. Buy-and-hold has none."))


def verdict(m: dict, rets, rf) -> Html:
    """Is the Sharpe ratio distinguishable from 0 and from buy-and-hold's? One backtest's
    own statistics (the experiment page adds the corrections for having tried many)."""
    sig = tables.significance(rets, rf)
    psr, psr_b = sig["psr"], sig["psr_vs_benchmark"]
    if psr_b > PSR_EVIDENCE:
        conclusion = "evidence the strategy beats buy-and-hold"
    elif psr > PSR_EVIDENCE:
        conclusion = "a Sharpe ratio above 0, but no evidence the strategy beats buy-and-hold"
    else:
        conclusion = "no evidence the strategy beats buy-and-hold"
    line = join(["Sharpe ", keyed(m, "strategy.sharpe", "num"), " ± ", number(sig["sharpe_se"], "num"),
                 "; PSR vs 0 ", number(psr, "num"), "; vs buy-and-hold (Sharpe ",
                 keyed(m, "benchmark.sharpe", "num"), ") ", number(psr_b, "num"), ": ", conclusion])
    return section("verdict", "Verdict", tag("p", line, class_="verdict"), note(
        f"From {sig['n']:,} daily excess returns of equity.csv. ± is the Sharpe ratio's standard error "
        "(Mertens 2002: non-normal, independent returns); PSR is the probability that the true Sharpe "
        "ratio exceeds 0, or buy-and-hold's over the same days (Bailey & López de Prado 2012), taken as "
        f"evidence above {PSR_EVIDENCE}. Against buy-and-hold its Sharpe ratio is treated as known, so this "
        "is a first look; if this configuration was picked among several, the experiment's deflated "
        "Sharpe ratio and PBO are the test."))


def equity_section(m: dict, run: tables.RunFiles) -> Html:
    last = run.equity.iloc[-1]
    log = bool((run.equity.min() > 0).all())  # as charts.equity decides
    scale = "on a log scale" if log else "on a linear scale"
    return section(
        "equity", "Equity",
        chart(charts.equity(run.equity, run.trades), "equity",
              f"equity of strategy and buy-and-hold {scale}, with entries and exits"),
        interactive_equity(run.equity, "equity-interactive",
                           {"strategy": "strategy", "benchmark": "buy-and-hold"}),
        note(join(["final value: strategy ", number(last["strategy"], "money"), " (",
                   keyed(m, "strategy.total_return", "pct"), "), buy-and-hold ",
                   number(last["benchmark"], "money"), " (", keyed(m, "benchmark.total_return", "pct"),
                   "). ▲ entries, ▼ exits (trades still open at the end have no exit marker).",
                   "" if log else " Equity reached 0 or below, which a log scale cannot show: "
                                  "the chart is on a linear scale."])))


def exposure_section(m: dict, run: tables.RunFiles) -> Html:
    if run.ledger is None:
        return section("exposure", "Exposure", note(
            "ledger.csv is not in this folder (runs written before fcast kept the ledger): "
            "no exposure panel. Rerun the backtest to get it.", cls="warn"))
    expo = tables.exposure(run.ledger)
    return section(
        "exposure", "Exposure",
        chart(charts.exposure(expo, run.ledger["position"]), "exposure",
              "position value as a share of the portfolio, and shares held"),
        note(join(["position × close / portfolio value at each close, from ledger.csv. Mean ",
                   number(expo.mean(), "pct"), ", mean while invested ",
                   number(expo[expo != 0].mean() if (expo != 0).any() else None, "pct"),
                   "; invested on ", keyed(m, "strategy.exposure", "pct"), " of bars."])))


def yearly_section(m: dict, run: tables.RunFiles) -> Html:
    years = yearly_comparison(run.equity)
    rows = [[f"{year}" + (" (partial)" if r.partial else ""), number(r.strategy, "pct"),
             number(r.benchmark, "pct"), number(r.difference, "spct")] for year, r in years.iterrows()]
    rows.append([tag("strong", "whole run"), keyed(m, "strategy.total_return", "pct"),
                 keyed(m, "benchmark.total_return", "pct"), ""])
    return section("yearly", "Yearly returns",
                   table(["year", "strategy", "buy-and-hold", "difference"], rows, cls="yearly"),
                   note("Compounded over each calendar year's bars, from the previous year's last value; "
                        "a partial year covers only the part of it the run spans."))


def rolling_section(rets, rf) -> Html:
    roll = rolling_sharpe(rets, rf, tables.ROLLING_BARS)
    if roll.dropna(how="all").empty:
        return section("rolling-sharpe", "Rolling Sharpe ratio",
                       note(f"fewer than {tables.ROLLING_BARS} bars: no rolling Sharpe ratio."))
    return section("rolling-sharpe", "Rolling Sharpe ratio (6 months)",
                   chart(charts.rolling_sharpe(roll, tables.ROLLING_BARS), "rolling-sharpe",
                         "rolling 126-bar Sharpe ratio of strategy and buy-and-hold"),
                   note(f"annualised, over the last {tables.ROLLING_BARS} bars, of daily excess returns."))


def distribution_section(rets) -> Html:
    mom = {col: tables.moments(rets[col]) for col in ("strategy", "benchmark")}
    rows = [[label, number(mom["strategy"][k], kind), number(mom["benchmark"][k], kind)]
            for label, k, kind in [("mean", "mean", "spct"), ("standard deviation", "std", "pct"),
                                   ("skew", "skew", "num"), ("excess kurtosis", "kurtosis", "num"),
                                   ("best day", "best", "spct"), ("worst day", "worst", "spct")]]
    return section("distribution", "Daily returns",
                   chart(charts.distribution(rets), "distribution", "histogram of daily returns of both"),
                   table(["daily return", "strategy", "buy-and-hold"], rows),
                   note(join(["The histogram leaves out days of exactly 0 return (out of the market: ",
                              number(int((rets["strategy"] == 0).sum()), "int"), " for the strategy) and "
                              "clips the 0.5% most extreme days at each end into its outer bins; the table "
                              "uses every day."])))


def trades_section(m: dict, run: tables.RunFiles) -> Html:
    if run.trades is None:
        return section("trades", "Trades", note("trades.csv is not in this folder.", cls="warn"))
    if run.trades.empty:
        return section("trades", "Trades", note("the strategy made no trades."))
    t = tables.trade_list(run.trades, run.equity.index)
    rows = [[str(i + 1), r.entry.date(), r.exit.date(), r.direction, number(r.ret, "spct"),
             number(r.days, "int"), number(r.bars, "int"), "open" if r.open else ""]
            for i, r in enumerate(t.head(MAX_LISTED).itertuples(index=False))]
    listing = tag("div", table(["#", "entry", "exit", "direction", "return", "days", "bars", ""], rows,
                               cls="trades", numeric_from=4), class_="scroll")
    # A strategy that trades daily over decades makes >10,000 trades: listing them all would take
    # the page past its 5 MB; the figures above still use every trade.
    cut = "" if len(t) <= MAX_LISTED else note(
        f"Only the first {MAX_LISTED:,} of the {len(t):,} trades are listed (the page stays small); "
        "trades.csv holds them all.", cls="warn")
    return section("trades", "Trades", note(join([
        keyed(m, "strategy.n_trades", "int"), " trades, median return ", number(t["ret"].median(), "spct"),
        ", median holding ", number(t["bars"].median(), "int"), " bars. Return: net P&L (after costs) over "
        "the entry notional (size × entry price); bars between entry and exit fill."])), cut, listing)


def forecast_section(m: dict, run: tables.RunFiles) -> Html:
    fc = m.get("forecast")
    if not fc or run.predictions is None:
        why = "metrics.json has no forecast metrics" if not fc else "predictions.csv is not in this folder"
        return section("forecast", "Forecast quality", note(
            f"No forecasts were scored: {why} (a rule-based strategy, or predictions without outcomes)."))
    base = fc.get("base_rate")
    known = base is not None and 0 < base < 1
    # The constant forecast P(up) = base rate: its Brier score and log loss are the baselines
    # a probability has to beat (derived from base_rate, hence unkeyed).
    base_brier = base * (1 - base) if known else None
    base_ll = -(base * math.log(base) + (1 - base) * math.log(1 - base)) if known else None
    rows = [
        ["accuracy",
         join([keyed(m, "forecast.accuracy", "pct"), " ± ", keyed(m, "forecast.accuracy_se", "pct")]),
         join([keyed(m, "forecast.majority_rate", "pct"), " (majority class)"])],
        ["balanced accuracy", keyed(m, "forecast.balanced_accuracy", "pct"), number(0.5, "pct")],
        ["ROC AUC", keyed(m, "forecast.roc_auc", "num3"), number(0.5, "num3")],
        ["Brier score (lower is better)", keyed(m, "forecast.brier", "num3"), number(base_brier, "num3")],
        ["log loss (lower is better)", keyed(m, "forecast.log_loss", "num3"), number(base_ll, "num3")],
        ["mean label return after an up / down forecast",
         join([keyed(m, "forecast.mean_ret_up", "spct"), " / ", keyed(m, "forecast.mean_ret_down", "spct")]),
         ""],
    ]
    summary = join([keyed(m, "forecast.n", "int"), " scored forecasts; share of up outcomes ",
                    keyed(m, "forecast.base_rate", "pct"),
                    ". One-sided binomial test that the accuracy beats the majority class: p = ",
                    keyed(m, "forecast.p_value", "num3"),
                    ". The majority rate is the scored span's own (a hindsight baseline); the baselines of "
                    "the last three rows forecast P(up) = that share every day."])
    return section("forecast", "Forecast quality",
                   table(["", "model", "baseline"], rows, cls="forecast"), note(summary),
                   *_forecast_charts(run.predictions),  # full width, one under the other: readable
                   _by_year_table(run.predictions))


def _forecast_charts(predictions) -> list[Html]:
    scored = tables.scored(predictions)
    if scored.empty:
        return [note("no forecast has a known outcome yet.")]
    return [chart(charts.calibration(tables.calibration(predictions)), "calibration",
                  "reliability diagram: mean predicted probability of up against the observed frequency"),
            chart(charts.accuracy_by_year(tables.accuracy_by_year(predictions)), "accuracy-by-year",
                  "accuracy per year with its standard error, against the majority-class rate")]


def _by_year_table(predictions) -> Html:
    years = tables.accuracy_by_year(predictions)
    rows = [[str(year), number(r.n, "int"), join([number(r.accuracy, "pct"), " ± ", number(r.se, "pct")]),
             number(r.majority, "pct"), number(r.difference, "spct")] for year, r in years.iterrows()]
    return table(["year", "forecasts", "accuracy", "majority class", "difference"], rows, cls="by-year",
                 caption="Up forecast: prob_up > 0.5; only forecasts whose outcome is known count. "
                         "Calibration bins hold equal numbers of forecasts (labels: forecasts per bin).")


def walk_forward_section(m: dict) -> Html:
    wf = m.get("walk_forward")
    if not wf:
        return section("walk-forward", "Walk-forward settings",
                       note("metrics.json has no walk-forward settings "
                            "(predictions supplied by hand, or none)."))
    rows = [[key, _setting(value)] for key, value in _flatten(wf)]
    return section("walk-forward", "Walk-forward settings", table(["setting", "value"], rows, numeric_from=2),
                   note("How the out-of-sample predictions were made, as metrics.json records it. Settings "
                        "are printed as recorded, not rounded."))


def _flatten(doc: dict, prefix: str = ""):
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _setting(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
