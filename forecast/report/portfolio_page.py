"""report.html for a portfolio run: the strategy beside the universe's equal-weight
buy-and-hold and SPY, its statistics, the forecasts' information coefficients, the
top-minus-bottom spread, the legs, the weights, each ticker's contribution and the
monthly returns.

Built only from the run's folder: ``metrics.json`` (every figure it holds is printed with
its dotted path in ``data-key``) and ``equity.csv``, ``weights.csv``, ``trades.csv``,
``predictions.csv``, ``ic.csv`` (and ``legs.csv`` when a run wrote one) for the charts and
the derived tables, whose figures carry no key.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.report.experiment_page import keyed
from forecast.report.html import Html, chart, join, note, number, page, section, table, tag
from forecast.report.record_file import read_record_json
from forecast.stats.labels import PORTFOLIO_PAGE_FIGURES, PORTFOLIO_PAGE_STRATEGY
from forecast.stats.returns import monthly_returns, yearly_returns

IC_WINDOW = 63
CURVES = ("strategy", "benchmark", "market")
NAMES = {"strategy": "strategy", "benchmark": "equal-weight B&H", "market": "SPY B&H"}


def portfolio_page(folder: Path, *, ic_window: int = IC_WINDOW) -> str:
    """The page's HTML for the portfolio run in `folder` (`ic_window`: days in the IC's
    rolling mean)."""
    folder = Path(folder)
    doc = read_record_json(folder / "metrics.json", what="a portfolio run's metrics", kind="portfolio")
    files = _Files(folder)
    strategy = doc.get("strategy") or {}
    sections = [
        _key_figures(doc),
        _verdict(doc),
        _equity(files),
        _drawdown(doc, files),
        _ic(doc, files, max(2, int(ic_window))),
        _spread(doc, files),
        _legs(doc, files),
        _weights(files),
        _contributions(doc, files),
        _monthly(files),
    ]
    universe = [str(t) for t in doc.get("universe") or []]
    title = f"Portfolio {strategy.get('name', '')} on {len(universe)} tickers"
    subtitle = f"{doc.get('start')} to {doc.get('end')}; forecasts by {doc.get('model')}"
    return page(title, subtitle=subtitle, meta=_meta(doc), sections=sections, kind="portfolio",
                footer=f"Built from {folder.name}/metrics.json and the CSV files beside it.")


# --- reading ----------------------------------------------------------------------------------


class _Files:
    """The run's CSV files, each read once, None when absent or unreadable."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._cache: dict[str, pd.DataFrame | None] = {}

    def _frame(self, name: str, **kwargs) -> pd.DataFrame | None:
        if name not in self._cache:
            try:
                self._cache[name] = pd.read_csv(self.folder / name, **kwargs)
            except (OSError, ValueError):
                self._cache[name] = None
        return self._cache[name]

    @property
    def equity(self) -> pd.DataFrame | None:
        frame = self._frame("equity.csv", index_col="date", parse_dates=True)
        return frame if frame is not None and "strategy" in frame and len(frame) else None

    @property
    def weights(self) -> pd.DataFrame | None:
        frame = self._frame("weights.csv", index_col="date", parse_dates=True)
        return frame if frame is not None and len(frame) else None

    @property
    def trades(self) -> pd.DataFrame | None:
        return self._frame("trades.csv", parse_dates=["date"])

    @property
    def predictions(self) -> pd.DataFrame | None:
        return self._frame("predictions.csv", parse_dates=["date"])

    @property
    def ic(self) -> pd.DataFrame | None:
        frame = self._frame("ic.csv", index_col="date", parse_dates=True)
        return frame if frame is not None and len(frame) else None

    @property
    def legs(self) -> pd.DataFrame | None:
        frame = self._frame("legs.csv", index_col="date", parse_dates=True)
        return frame if frame is not None and {"long", "short"} <= set(frame.columns) else None


def _missing(name: str) -> Html:
    return note(f"This run's folder holds no readable {name}: nothing to draw.", "warn")


def _key(prefix: str, name) -> str | None:
    """``prefix.name``; None when the name holds a dot (no dotted path can address it)."""
    return None if "." in str(name) else f"{prefix}.{name}"


def _kv(params: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items())


# --- header -----------------------------------------------------------------------------------


def _meta(doc: dict) -> list[tuple[str, object]]:
    strategy = doc.get("strategy") or {}
    wf = doc.get("walk_forward") or {}
    universe = [str(t) for t in doc.get("universe") or []]
    costs = join(["commission ", keyed(doc, "settings.commission", "pct"),
                  ", slippage ", keyed(doc, "settings.slippage", "pct"),
                  ", minimum ", keyed(doc, "settings.min_commission", "money")])
    meta: list[tuple[str, object]] = [
        ("universe", f"{len(universe)}: {', '.join(universe)}"),
        ("model", doc.get("model")),
        ("forecasts", "pooled (one model over every ticker)" if doc.get("pooled")
         else "one model per ticker"),
        ("target", doc.get("target")),
        ("strategy", f"{strategy.get('name')}" + (f" ({_kv(strategy.get('params'))})"
                                                  if strategy.get("params") else "")),
        ("span", f"{doc.get('start')} to {doc.get('end')}"),
        ("costs", costs),
        ("cash", keyed(doc, "settings.cash", "money")),
    ]
    filters = (doc.get("settings") or {}).get("filters")
    if filters:
        meta.append(("filters", _filters_text(filters)))
    if wf:
        parts = [f"{k} {wf[k]}" for k in ("n_folds", "window", "retrain_every", "test_days", "embargo")
                 if k in wf]
        meta.append(("walk-forward", ", ".join(parts)))
    if doc.get("survivorship_biased"):
        meta.append(("caution", tag("span", "survivorship-biased universe: today's members filled back in "
                                            "time, so the ranking picks among names known to have survived",
                                    class_="warn")))
    return meta


def _filters_text(filters: dict) -> str:
    parts = []
    if filters.get("min_price") is not None:
        parts.append(f"close >= {filters['min_price']:g}")
    if filters.get("min_dollar_volume") is not None:
        parts.append(f"median close x volume over {filters.get('dollar_volume_window')} bars "
                     f">= {filters['min_dollar_volume']:,.0f}")
    if filters.get("drop_extreme_moves"):
        parts.append("no extreme-move day")
    return "; ".join(parts) + " (each read from bars up to the decision day)"


# --- sections ---------------------------------------------------------------------------------

def _cell(doc: dict, curve: str, field: str, kind: str):
    block = doc.get(curve)
    if not isinstance(block, dict) or field not in block:
        return ""
    return keyed(doc, f"{curve}.{field}", kind)


def _key_figures(doc: dict) -> Html:
    curves = [c for c in CURVES if isinstance(doc.get(c), dict)]
    rows = [[label, *(_cell(doc, c, field, kind) for c in curves)]
            for field, label, kind in PORTFOLIO_PAGE_FIGURES]
    rows += [[label, _cell(doc, "strategy", field, kind), *([""] * (len(curves) - 1))]
             for field, label, kind in PORTFOLIO_PAGE_STRATEGY if field in (doc.get("strategy") or {})]
    said = [] if "market" in curves else [note("SPY has no bars over this span: no market benchmark.")]
    return section("key-figures", "Key figures",
                   table(["", *(NAMES[c] for c in curves)], rows, caption="The equal-weight buy-and-hold "
                         "holds every ticker of the universe from the first decision day; SPY is bought "
                         "the same day."),
                   *said)


def _verdict(doc: dict) -> Html:
    stats = doc.get("statistics") or {}
    ic = doc.get("ic") or {}
    psr, psr_b = stats.get("psr"), stats.get("psr_vs_benchmark")

    def judged(p, than: str) -> str:
        if p is None:
            return f"whether it beats {than} cannot be told"
        if p >= 0.95:
            return f"very likely above {than}"
        if p <= 0.05:
            return f"very likely below {than}"
        return f"not distinguishable from {than}"

    line = (f"The Sharpe ratio is {judged(psr, 'zero')} (PSR {_f(psr)}) and "
            f"{judged(psr_b, 'the equal-weight benchmark')} (PSR {_f(psr_b)}).")
    t = ic.get("rank_t_stat")
    if t is not None:
        line += (" The forecasts' rank IC is " + ("significant" if abs(t) >= 2 else "not significant")
                 + f" (t {t:.2f}).")
    rows = [
        ["Sharpe ratio ± SE", join([keyed(doc, "strategy.sharpe", "num"), " ± ",
                                    keyed(doc, "statistics.sharpe_se", "num")]),
         "annualised, net of costs; SE: Lo (2002) with the returns' skew and kurtosis"],
        ["PSR vs 0", keyed(doc, "statistics.psr", "num3"),
         "probability that the true Sharpe ratio is above zero"],
        ["PSR vs equal-weight B&H", keyed(doc, "statistics.psr_vs_benchmark", "num3"),
         "probability that it is above the benchmark's Sharpe ratio"],
        ["equal-weight B&H Sharpe", _cell(doc, "benchmark", "sharpe", "num"), "the bar to clear"],
    ]
    return section("verdict", "Verdict", tag("p", line, class_="verdict"),
                   table(["", "value", "what it means"], rows, numeric_from=1))


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def _equity(files: _Files) -> Html:
    from forecast.charts.curves import log_equity

    equity = files.equity
    if equity is None:
        return section("equity", "Equity", _missing("equity.csv"))
    cols = [c for c in CURVES if c in equity]
    fig = log_equity(equity[cols], title="Growth of 1 (log scale)")
    from forecast.report.interactive import interactive_equity

    return section("equity", "Equity",
                   chart(fig, "equity", "strategy, equal-weight and SPY equity, log scale"),
                   interactive_equity(equity[cols], "equity-interactive", {c: NAMES[c] for c in cols}),
                   note("Each curve's value over its first, on a log scale: equal slopes are equal returns."))


def _drawdown(doc: dict, files: _Files) -> Html:
    from forecast.charts.curves import underwater

    curves = [c for c in CURVES if isinstance(doc.get(c), dict)]
    rows = [[label, *(_cell(doc, c, field, kind) for c in curves)]
            for label, field, kind in (("max drawdown", "max_drawdown", "pct"),
                                       ("longest drawdown (bars)", "max_drawdown_bars", "int"))]
    body = [table(["", *(NAMES[c] for c in curves)], rows)]
    equity = files.equity
    if equity is None:
        body.append(_missing("equity.csv"))
    else:
        fig = underwater(equity[[c for c in CURVES if c in equity]])
        body.insert(0, chart(fig, "drawdown", "drawdown from the running peak"))
    return section("drawdown", "Drawdown", *body)


def _ic(doc: dict, files: _Files, window: int) -> Html:
    from forecast.charts.cross import ic_over_time

    ic = doc.get("ic") or {}

    def n(field, kind):
        return keyed(doc, f"ic.{field}", kind) if field in ic else ""

    rows = [["IC (Pearson)", n("mean_ic", "num3"), n("ic_std", "num3"), n("icir", "num3"),
             n("t_stat", "num")],
            ["Rank IC (Spearman)", n("mean_rank_ic", "num3"), n("rank_ic_std", "num3"),
             n("rank_icir", "num3"), n("rank_t_stat", "num")]]
    body = [note(join(["Each day, the correlation across tickers between the forecast prob_up and the "
                       "return it forecast, over ", n("n_days", "int"), " days. ICIR: mean over standard "
                       "deviation; t: ICIR x √days (|t| ≥ 2: unlikely to be luck)."])),
            table(["", "mean", "std", "ICIR", "t-stat"], rows)]
    frame = files.ic
    if frame is None:
        body.append(_missing("ic.csv"))
    else:
        fig = ic_over_time(frame, window=window)
        body.insert(0, chart(fig, "ic", f"daily IC and rank IC with their {window}-day means"))
    return section("ic", "Information coefficients", *body)


def daily_spread(predictions: pd.DataFrame, k: int) -> pd.Series:
    """Each day's mean realised return of the k names with the highest prob_up minus the k
    lowest (ties in ticker order, k at most half the names with both), as the run's
    ``spread`` figure is computed; days with fewer than two such names are left out."""
    # A return or rank target's run wrote its `score` in place of prob_up.
    values = "score" if "score" in predictions.columns else "prob_up"
    prob = predictions.pivot_table(index="date", columns="ticker", values=values, aggfunc="first",
                                   dropna=False)
    realised = predictions.pivot_table(index="date", columns="ticker", values="realised_return",
                                       aggfunc="first", dropna=False).reindex(index=prob.index,
                                                                              columns=prob.columns)
    out = {}
    for day, p, r in zip(prob.index, prob.to_numpy(dtype=float), realised.to_numpy(dtype=float), strict=True):
        both = np.isfinite(p) & np.isfinite(r)
        kk = min(k, int(both.sum()) // 2)
        if kk < 1:
            continue
        ranked = r[both][np.argsort(-p[both], kind="stable")]
        out[day] = ranked[:kk].mean() - ranked[-kk:].mean()
    return pd.Series(out, dtype=float)


def daily_turnover(trades: pd.DataFrame | None, equity: pd.Series) -> pd.Series:
    """The day's traded value over the previous close's value, halved (one-way), 0 on day 1."""
    traded = pd.Series(0.0, index=equity.index)
    if trades is not None and len(trades):
        traded = trades.groupby("date")["value"].sum().reindex(equity.index, fill_value=0.0)
    out = traded / equity.shift(1) / 2.0
    return out.fillna(0.0)


def _spread(doc: dict, files: _Files) -> Html:
    from forecast.charts.cross import cumulative_spread, exposure_turnover

    spread = doc.get("spread") or {}
    strategy = doc.get("strategy") or {}
    k = spread.get("k")
    rows = [
        ["top-k minus bottom-k, mean a day", keyed(doc, "spread.mean", "spct")],
        ["its t-stat", keyed(doc, "spread.t_stat", "num")],
        ["k", keyed(doc, "spread.k", "int")],
        ["days", keyed(doc, "spread.n_days", "int")],
    ]
    rows += [[label, _cell(doc, "strategy", field, kind)] for label, field, kind in
             (("turnover (daily, one-way)", "turnover", "pct"), ("turnover (annual, x value)",
              "turnover_annual", "num"), ("gross exposure (mean Σ|w|)", "gross_exposure", "pct"),
              ("net exposure (mean Σw)", "net_exposure", "pct")) if field in strategy]
    body = [note("The spread ranks the forecasts alone: equal weights, no costs, whatever the strategy "
                 "does with them."), table(["", "value"], rows)]
    preds = files.predictions
    if preds is not None and len(preds) and isinstance(k, int) and k > 0:
        series = daily_spread(preds, k)
        if len(series):
            body.append(chart(cumulative_spread(series, k), "spread",
                              "cumulative top-minus-bottom spread"))
            body.append(note(join(["Drawn from predictions.csv: mean ", number(series.mean(), "spct"),
                                   " a day over ", number(len(series), "int"), " days."])))
    else:
        body.append(_missing("predictions.csv"))
    equity, weights = files.equity, files.weights
    if equity is not None and weights is not None:
        turnover = daily_turnover(files.trades, equity["strategy"])
        body.append(chart(exposure_turnover(weights, turnover), "exposure-turnover",
                          "gross and net exposure and daily turnover"))
    return section("spread", "Spread, turnover and exposure", *body)


def _legs(doc: dict, files: _Files) -> Html:
    from forecast.charts.cross import books, legs

    body = []
    summary = doc.get("legs") if isinstance(doc.get("legs"), dict) else None
    if summary:
        figures = [_leg_row(doc, name, v) for name, v in summary.items() if not isinstance(v, dict | list)]
        body.append(table(["leg", "value"], figures,
                          caption="Summed daily P&L of each leg over the previous close's value; "
                                  "costs (fees) are a drag: long + short + costs is the summed return."))
    frame = files.legs
    if frame is not None:
        body.append(chart(legs(frame), "legs", "cumulative P&L of the long and short legs"))
        if not summary:
            sums = [[c, number(frame[c].sum(), "drag" if c == "costs" else "spct")]
                    for c in ("long", "short", "costs") if c in frame]
            body.append(table(["leg", "summed daily P&L"], sums, caption="From legs.csv."))
    if summary is None and frame is None:
        body.append(note("This run's files hold no daily legs (no legs in metrics.json, no legs.csv): "
                         "below, the long and short books from weights.csv instead."))
    weights = files.weights
    if weights is not None:
        long_book, short_book = weights.clip(lower=0.0).sum(axis=1), weights.clip(upper=0.0).sum(axis=1)
        body.append(chart(books(weights), "books", "long and short books over time"))
        body.append(table(["book", "mean", "max |·|"], [
            ["long (Σ positive weights)", number(long_book.mean(), "pct"),
             number(long_book.abs().max(), "pct")],
            ["short (Σ negative weights)", number(short_book.mean(), "pct"),
             number(short_book.abs().max(), "pct")]], caption="From weights.csv."))
    return section("legs", "Long and short legs", *body) if body else section(
        "legs", "Long and short legs", _missing("weights.csv"))


def _leg_row(doc: dict, name: str, value) -> list:
    """A leg's summed P&L; costs are stored as the fees paid (positive) and shown as the drag
    they are (negative)."""
    if name == "costs":
        return ["costs (fees)", keyed(doc, _key("legs", name), "drag", value)]
    return [name, keyed(doc, _key("legs", name), "spct", value)]


def _weights(files: _Files) -> Html:
    from forecast.charts.cross import weights_heatmap

    weights = files.weights
    if weights is None:
        return section("weights", "Weights", _missing("weights.csv"))
    rows = [[str(t), number(w.mean(), "spct"), number((w > 0).mean(), "pct"), number((w < 0).mean(), "pct"),
             number(w.abs().max(), "pct")] for t, w in weights.items()]
    return section(
        "weights", "Weights over time",
        chart(weights_heatmap(weights), "weights", "end-of-day weights, date by ticker"),
        tag("div", table(["ticker", "mean weight", "days long", "days short", "max |weight|"], rows,
                         caption="End-of-day weights (position x last close / portfolio value), "
                                 "from weights.csv."), class_="scroll"),
    )


def _contributions(doc: dict, files: _Files) -> Html:
    from forecast.charts.cross import contributions_bar

    contributions = doc.get("contributions") or {}
    if not contributions:
        return section("contributions", "Contributions", note("metrics.json holds no contributions."))
    series = pd.Series({str(t): (v if v is not None else math.nan) for t, v in contributions.items()},
                       dtype=float)
    # Shares of the gross P&L (sum of absolute contributions): a share of a net total that is
    # negative or near zero would flip signs or blow up.
    gross = float(series.abs().sum())
    order = series.sort_values(ascending=False).index
    rows = [[t, keyed(doc, _key("contributions", t), "money", contributions[t]),
             number(series[t] / gross if gross else None, "spct")] for t in order]
    body = [chart(contributions_bar(series), "contributions", "P&L contribution by ticker"),
            tag("div", table(["ticker", "P&L", "share of gross P&L"], rows, cls="contributions",
                             caption="Share: the ticker's P&L over the sum of every ticker's absolute "
                                     "P&L, signed."),
                class_="scroll")]
    equity = files.equity
    settings = doc.get("settings") or {}
    if equity is not None and settings.get("cash") is not None:
        pnl = float(equity["strategy"].iloc[-1]) - float(settings["cash"])
        body.append(note(join(["Sum of the contributions ", number(float(series.sum()), "money"),
                               "; final equity minus starting cash ", number(pnl, "money"),
                               " (they agree up to rounding)."])))
    return section("contributions", "Contributions by ticker", *body)


def _monthly(files: _Files) -> Html:
    from forecast.charts.curves import monthly_heatmap

    equity = files.equity
    if equity is None:
        return section("monthly", "Monthly returns", _missing("equity.csv"))
    months = monthly_returns(equity["strategy"])
    fig = monthly_heatmap(months, title="Strategy's monthly returns")
    cols = [c for c in CURVES if c in equity]
    yearly = {c: yearly_returns(equity[c]) for c in cols}
    years = sorted(set().union(*(y.index for y in yearly.values())))
    rows = [[str(y), *(number(yearly[c].get(y), "pct") for c in cols)] for y in years]
    return section("monthly", "Monthly returns",
                   chart(fig, "monthly", "the strategy's monthly returns, year by month"),
                   table(["year", *(NAMES[c] for c in cols)], rows,
                         caption="Calendar-year returns (the first and last years are partial)."))

