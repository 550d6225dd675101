"""Krauss, Do & Huck (2017) and Fischer & Krauss (2018) on a stored point-in-time universe.

Reads a universe imported with `fcast universe import` (by default `us_liquid`, from
../shared/data/us_liquid: run the import first, see docs/REPLICATION.md), forecasts every
member with the papers' designs through the library's public pieces, trades long the top k
and short the bottom k, and writes the tables (Markdown and CSV) into --out.

    python bench/replicate_papers.py --design krauss --home /work/h3home --out OUT
        [--models DNN,GBT,RF,ENS,logreg,reversal] [--periods N | --start D --end D]
        [--k 10,50,100,150,200] [--epochs E] [--rf-trees N] [--rf-max-samples F]

The designs (docs/REPLICATION.md states every difference from the papers):
- krauss: 31 features R(m) = log return over m days, m = 1..20, 40, 60, ..., 240 (window 1,
  nothing else); target beats-median (open to open in fcast); one pooled model per study
  period of 750 training and 250 trading days; DNN = `mlp` (31-10-5), GBT = `gbm` (100 trees
  of depth 3, learning rate 0.1), RF = `rf` (depth 20, reduced trees and bootstrap: stated),
  ENS = their equal-weight mean (`fc.ensemble_predictions`), logreg and a one-day reversal
  rule as baselines.
- fischer: the standardised one-day return in 240-day sequences, a 25-cell LSTM (dropout
  0.1, a fresh net each study period) beside logreg and reversal.

Walk-forwards go through the portfolio prediction cache under --home: a rerun with the same
settings trains nothing. Prints progress per study period.

The long-short returns are the papers' (Krauss et al., Fischer & Krauss): $1 long the top k
and $1 short the bottom k, equal weight, each day (gross 2), on the traded open-to-open return
of the decision; costs 5 bp per half-turn on the weights that change. The smallest k's book is
also run through the portfolio engine (`score_portfolio`, `LongShort`, gross 1) as a check
(`--engine DAYS`, over the last DAYS days).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "us_liquid"

KRAUSS_LAGS = tuple(range(1, 21)) + tuple(range(40, 241, 20))  # 31 features
OFF = dict(vol_windows=(), volume=False, rsi=False, macd=False, bollinger=False, atr=False,
           hl_range=False, gap=False, day_of_week=False, garch=False)
TRAIN_DAYS, TRADE_DAYS = 750, 250
COST = 0.0005  # 5 bp per half-turn
SPLIT = pd.Timestamp("2010-01-01")

# The papers' figures at k = 10 (S&P 500 constituents, close to close, no survivorship bias),
# % a day, before and after 5 bp per half-turn (after = before minus 4 half-turns = 0.20).
# Krauss et al. (2017): ENS "exceeding 0.45 percent per day for k = 10, prior to transaction
# costs" (abstract); the single models' figures are read from the paper's Table (see the doc).
PAPER = {
    "krauss": {"ENS": (0.45, 0.25), "RF": (0.43, 0.23), "GBT": (0.37, 0.17), "DNN": (0.33, 0.13)},
    # Fischer & Krauss (2018): LSTM 0.46% a day and a Sharpe ratio of about 5.8 before costs.
    "fischer": {"LSTM": (0.46, 0.26)},
}
PAPER_SHARPE = {"fischer": {"LSTM": 5.8}}


def krauss_spec():
    from forecast.features import FeatureSpec

    return FeatureSpec(return_lags=KRAUSS_LAGS, **OFF)


def fischer_spec():
    from forecast.features import FeatureSpec

    return FeatureSpec(return_lags=(1,), **OFF)


def krauss_models(epochs: int = 10, rf_trees: int = 50, rf_max_samples: float | None = 0.1,
                  seed: int = 0) -> dict[str, tuple[str, dict]]:
    """Display name -> (fcast model, parameters). The reductions for CPU time are stated in
    docs/REPLICATION.md: DNN epochs, RF trees and bootstrap share."""
    return {
        "DNN": ("mlp", dict(hidden_units=(31, 10, 5), dropout=0.1, epochs=epochs, batch_size=1024,
                            patience=3, input_mode="latest", warm_start=False, seed=seed)),
        "GBT": ("gbm", dict(max_iter=100, learning_rate=0.1, max_depth=3, seed=seed)),
        "RF": ("rf", dict(n_estimators=rf_trees, max_depth=20, max_samples=rf_max_samples, n_jobs=2,
                          seed=seed)),
        "logreg": ("logreg", {}),
    }


def fischer_models(epochs: int = 10, seed: int = 0) -> dict[str, tuple[str, dict]]:
    return {
        "LSTM": ("lstm", dict(units=(25,), dropout=0.1, epochs=epochs, batch_size=512, patience=3,
                              warm_start=False, seed=seed)),
        "logreg": ("logreg", {}),
    }


COST_ORDER = ("logreg", "GBT", "DNN", "RF", "LSTM")  # the order models run in: cheapest first

DESIGNS = {
    "krauss": {"spec": krauss_spec, "window": 1, "models": krauss_models,
               "ensemble": ("DNN", "GBT", "RF"), "default_k": (10, 50, 100, 150, 200)},
    "fischer": {"spec": fischer_spec, "window": 240, "models": fischer_models,
                "ensemble": (), "default_k": (10,)},
}


# --- the universe and the study periods ------------------------------------------------------
def load(home, name: str = "us_liquid", start="1989-01-01", end=None):
    """The stored universe with its point-in-time membership (members some day in the span)."""
    from forecast.portfolio.universe import load_universe

    return load_universe(name, home=home, start=start, end=end)


def max_periods(universe, spec, window: int) -> int:
    """Whole study periods that fit the calendar: the first training decision needs the
    features' warm-up and the window, and 750 training days precede each trading period."""
    need = spec.warmup + window + TRAIN_DAYS + 3
    return max(0, (len(universe.calendar) - need) // TRADE_DAYS)


def walk_forward_args(spec, window: int, periods: int, seed: int = 0) -> dict:
    """The papers' schedule: 750 training and 250 trading days, pooled, beats-median; the test
    span is `periods` whole study periods at the end of the calendar."""
    from forecast.evaluate.pooled import SIGNATURE

    args = dict(pooled=True, target="beats-median", spec=spec, window=window,
                test_days=periods * TRADE_DAYS, retrain_every=TRADE_DAYS, train_window=TRAIN_DAYS,
                seed=seed)
    if "train_on" in SIGNATURE.parameters:  # the papers: the constituents at the training end
        args["train_on"] = "members"
    return args


def forecasts(universe, model: str, params: dict, wf: dict, *, home, label: str, log=print):
    """One model's walk-forward through the prediction cache; prints each study period's time."""
    from forecast.cache import PredictionCache

    t0 = last = time.perf_counter()

    def progress(done, total):
        nonlocal last
        now = time.perf_counter()
        log(f"  {label}: study period {done + 1}/{total} in {now - last:.0f} s ({now - t0:.0f} s so far)")
        last = now

    store = PredictionCache(home, universe=True)
    preds = store.walk_forward(universe, model, model_params=params, progress=progress, **wf)
    took = time.perf_counter() - t0
    n = int(preds.attrs.get("n_folds", 0)) or 1
    log(f"{label}: {len(preds):,} forecasts, {n} study periods, {took:.0f} s "
        f"({took / n:.0f} s per period; cache {store.last})")
    return preds, {"seconds": took, "periods": n, "cache": store.last}


def reversal_predictions(universe, like: pd.DataFrame) -> pd.DataFrame:
    """The one-day reversal rule on the rows of `like` (notebook 04's): prob_up = 1 minus the
    mid-rank percentile of close[t] / close[t-1] - 1 among the tickers with both bars."""
    cal = universe.calendar
    closes = pd.DataFrame({t: b["close"].astype(float).reindex(cal) for t, b in universe.bars.items()},
                          index=cal)
    last = closes / closes.shift(1) - 1.0
    pct = (last.rank(axis=1) - 0.5).div(last.notna().sum(axis=1), axis=0)
    prob = (1.0 - pct).stack(future_stack=True)
    prob.index.names = ["date", "ticker"]
    out = like.copy()
    out["prob_up"] = prob.reindex(like.index).to_numpy()
    out.attrs = {**like.attrs, "model": "reversal"}
    return out


# --- scoring ----------------------------------------------------------------------------------
def candidates(universe, prob: pd.DataFrame, filters) -> pd.DataFrame:
    """prob where the ticker may be ranked: a member on t and t+1 (as the engine) and, with
    active filters, eligible on t (bars up to t only)."""
    if getattr(universe, "membership", None) is not None:
        cal = universe.calendar
        members = universe.membership.mask(cal, list(prob.columns))
        # the day after on the universe calendar; its last day has none: its own membership
        nxt = members.shift(-1).fillna(members.iloc[-1]).astype(bool)
        prob = prob.where((members & nxt).reindex(prob.index, fill_value=False))
    if filters is not None and filters.active:
        from forecast.portfolio.filters import eligibility

        prob = prob.where(eligibility(universe.bars, prob.index, list(prob.columns), filters))
    return prob


def long_short(prob: pd.DataFrame, realized: pd.DataFrame, k: int, cost: float = COST):
    """Daily returns of $1 long the top k and $1 short the bottom k by prob (equal weight,
    ties broken by column order), gross and after `cost` per unit of weight traded, and the
    weight traded (sum |w_t - w_(t-1)|, 4 = the whole book replaced). A name is ranked on t
    when it has a prob and a traded return; fewer than 2k names: k = half of them."""
    realized = realized.reindex(index=prob.index, columns=prob.columns)
    P, R = prob.to_numpy(dtype=float), realized.to_numpy(dtype=float)
    prev = np.zeros(P.shape[1])
    gross, traded, days = [], [], []
    for i in range(P.shape[0]):
        ok = np.flatnonzero(np.isfinite(P[i]) & np.isfinite(R[i]))
        kk = min(k, ok.size // 2)
        if kk < 1:
            continue
        order = ok[np.argsort(-P[i, ok], kind="stable")]
        w = np.zeros(P.shape[1])
        w[order[:kk]] = 1.0 / kk
        w[order[-kk:]] = -1.0 / kk
        gross.append(float(w @ np.nan_to_num(R[i])))
        traded.append(float(np.abs(w - prev).sum()))
        prev = w
        days.append(prob.index[i])
    idx = pd.DatetimeIndex(days, name="date")
    gross = pd.Series(gross, index=idx)
    traded = pd.Series(traded, index=idx)
    return gross, gross - cost * traded, traded


def accuracy(prob: pd.DataFrame, actual: pd.DataFrame) -> tuple[float, float]:
    """Share of right beats-median calls (prob > 0.5), and its SE from the daily shares."""
    actual = actual.reindex(index=prob.index, columns=prob.columns)
    hit = ((prob > 0.5) == (actual > 0.5)).where(prob.notna() & actual.notna())
    daily = hit.mean(axis=1).dropna()
    n = int(hit.notna().sum().sum())
    if n == 0 or len(daily) < 2:
        return math.nan, math.nan
    return float(hit.sum().sum() / n), float(daily.std(ddof=1) / np.sqrt(len(daily)))


def sub_periods(index: pd.DatetimeIndex) -> dict:
    out = {"all": (index[0], index[-1])}
    if index[0] < SPLIT <= index[-1]:
        out["before 2010"] = (index[0], SPLIT - pd.Timedelta(days=1))
        out["from 2010"] = (SPLIT, index[-1])
    return out


def score(name: str, preds: pd.DataFrame, universe, ks, filters, cost: float = COST):
    """Rows (model, k, costs, period) with the figures of the tables, and the daily returns."""
    from forecast.portfolio.ic import ic_summary, information_coefficients
    from forecast.stats import sharpe_se
    from forecast.stats.sharpe import sharpe_ratio

    prob = candidates(universe, preds["prob_up"].unstack("ticker"), filters)
    realized = preds["realized"].unstack("ticker")
    actual = preds["actual_up"].unstack("ticker")
    rows, daily = [], {}
    ic = information_coefficients(prob, realized)
    quality = {}  # per sub-period: IC and accuracy do not depend on k or costs
    for k in ks:
        gross, net, traded = long_short(prob, realized, k, cost)
        daily[name, k, 0] = gross
        daily[name, k, 1] = net
        for label, (a, b) in sub_periods(gross.index).items():
            p = prob.loc[a:b]
            if label not in quality:
                quality[label] = (ic_summary(ic.loc[a:b]), accuracy(p, actual.loc[a:b]))
            ics, (acc, acc_se) = quality[label]
            for costs, r in (("0 bp", gross.loc[a:b]), ("5 bp", net.loc[a:b])):
                rows.append({
                    "model": name, "k": k, "costs": costs, "period": label, "days": len(r),
                    "mean daily %": 100 * r.mean(), "mean SE %": 100 * r.std(ddof=1) / np.sqrt(len(r)),
                    "Sharpe": sharpe_ratio(r), "Sharpe SE": sharpe_se(r),
                    "accuracy": acc, "accuracy SE": acc_se,
                    "IC": ics["mean_ic"], "IC t": ics["t_stat"],
                    "rank IC": ics["mean_rank_ic"], "rank IC t": ics["rank_t_stat"],
                    "turnover": float(traded.loc[a:b].mean() / 4),
                    "names ranked": float(p.notna().sum(axis=1).mean()),
                })
    return rows, daily


def deflated(results: pd.DataFrame, daily: dict) -> pd.DataFrame:
    """DSR of every (model, k) over the whole span, before and after costs, against all the
    (model, k) trials of this run (Bailey & López de Prado 2014)."""
    from forecast.stats import deflated_sharpe_ratio

    out = []
    for costs, c in (("0 bp", 0), ("5 bp", 1)):
        sel = results[(results["costs"] == costs) & (results["period"] == "all")]
        sharpes = sel["Sharpe"].to_list()
        for _, row in sel.iterrows():
            r = daily[row["model"], row["k"], c]
            out.append({"model": row["model"], "k": row["k"], "costs": costs, "Sharpe": row["Sharpe"],
                        "trials": len(sharpes), "DSR": deflated_sharpe_ratio(r, sharpes)})
    return pd.DataFrame(out)


def members_per_year(universe, preds: pd.DataFrame, filters) -> pd.DataFrame:
    """Per year of the test span: members (point in time, with bars), names with a forecast,
    and the mean number of names ranked a day (members on t and t+1, filters applied)."""
    prob = preds["prob_up"].unstack("ticker")
    ranked = candidates(universe, prob, filters).notna().sum(axis=1)
    years = sorted(set(prob.index.year))
    rows = []
    for y in years:
        n_members = n_bars = math.nan  # no membership: every ticker is a candidate
        if universe.membership is not None:  # on July 1st
            members = universe.membership.members(pd.Timestamp(f"{y}-07-01"))
            n_members, n_bars = len(members), sum(t in universe.bars for t in members)
        in_year = prob.loc[str(y)]
        rows.append({"year": y, "members": n_members, "members with bars": n_bars,
                     "forecast": int(in_year.notna().any().sum()),
                     "ranked a day (mean)": float(ranked.loc[str(y)].mean())})
    return pd.DataFrame(rows).set_index("year")


def engine_check(universe, preds: pd.DataFrame, filters, k: int = 10, days: int | None = None) -> dict:
    """The k book through the portfolio engine (backtrader, gross 1, before costs) over the
    last `days` decision dates, beside this script's long-short return on the same dates:
    the engine's should be about half (gross 1 against 2; it also compounds and drifts)."""
    from forecast.portfolio.run import score_portfolio
    from strategies.portfolio import LongShort

    if days:
        dates = preds.index.get_level_values("date").unique()[-days:]
        preds = preds.loc[preds.index.get_level_values("date") >= dates[0]]
    prob = candidates(universe, preds["prob_up"].unstack("ticker"), filters)
    mine, _, _ = long_short(prob, preds["realized"].unstack("ticker"), k, 0.0)

    res = score_portfolio(universe, preds, LongShort, {"k": k}, model=str(preds.attrs.get("model")),
                          pooled=True, target="beats-median", strategy="long-short", commission=0.0,
                          slippage=0.0, market=None, filters=filters)
    r = res.backtest.equity["strategy"].pct_change().dropna()
    return {"engine mean daily % (gross 1)": 100 * r.mean(), "engine days": len(r),
            "long-short mean daily % (gross 2)": 100 * mine.mean(), "long-short days": len(mine),
            "correlation": float(r.corr(mine.shift(1).reindex(r.index)))}


# --- tables -----------------------------------------------------------------------------------
def fmt(x, spec):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def markdown(results: pd.DataFrame, design: str, k_main: int = 10) -> str:
    paper = PAPER.get(design, {})
    psharpe = PAPER_SHARPE.get(design, {})
    lines = ["| model | k | costs | period | days | mean daily % ± SE | paper % | Sharpe ± SE | paper Sharpe "
             "| accuracy ± SE | IC (t) | rank IC (t) | turnover | names a day |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in results.iterrows():
        p = paper.get(r["model"]) if r["k"] == k_main and r["period"] == "all" else None
        pp = "" if p is None else f"{p[0 if r['costs'] == '0 bp' else 1]:.2f}"
        main = r["k"] == k_main and r["period"] == "all"
        ps = psharpe.get(r["model"]) if main and r["costs"] == "0 bp" else None
        lines.append(
            f"| {r['model']} | {r['k']} | {r['costs']} | {r['period']} | {r['days']:,} | "
            f"{fmt(r['mean daily %'], '+.3f')} ± {fmt(r['mean SE %'], '.3f')} | {pp} | "
            f"{fmt(r['Sharpe'], '+.2f')} ± {fmt(r['Sharpe SE'], '.2f')} | {fmt(ps, '.1f')} | "
            f"{fmt(r['accuracy'], '.4f')} ± {fmt(r['accuracy SE'], '.4f')} | "
            f"{fmt(r['IC'], '+.4f')} ({fmt(r['IC t'], '+.1f')}) | "
            f"{fmt(r['rank IC'], '+.4f')} ({fmt(r['rank IC t'], '+.1f')}) | "
            f"{fmt(r['turnover'], '.0%')} | {fmt(r['names ranked'], '.0f')} |")
    return "\n".join(lines)


def frame_md(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = [df.index.name or ""] + list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [str(idx)] + [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def default_filters(min_price: float | None = None):
    """The extreme-move exclusion (the data's broken bars; see the doc). No price floor by
    default: us_liquid's prices are adjusted backwards for later splits and dividends, so a
    floor on them drops, years ahead, the names that will split most (28% of the member-days
    of 1993 close under $5 adjusted): a selection on the future. `min_price` adds one."""
    from forecast.portfolio.filters import FilterSettings

    return FilterSettings(min_price=min_price, drop_extreme_moves=True)


def run(design: str, *, home, out: Path | None, models=None, periods=None, start="1989-01-01",
        end=None, ks=None, epochs=10, rf_trees=50, rf_max_samples=0.1, universe=None,
        name="us_liquid", filters="default", engine=0, min_price=None, seed=0, window=None,
        log=print) -> dict:
    """The whole replication of `design`; returns the tables (and writes them into `out`).
    `universe`: a loaded Universe instead of the stored `name` (the notebook's reduced run);
    `window`: another sequence length than the design's (the reduced LSTM)."""
    d = DESIGNS[design]
    spec, window = d["spec"](), window or d["window"]
    filters = default_filters(min_price) if filters == "default" else filters
    catalogue = (d["models"](epochs=epochs, rf_trees=rf_trees, rf_max_samples=rf_max_samples, seed=seed)
                 if design == "krauss" else d["models"](epochs=epochs, seed=seed))
    wanted = list(models) if models else [*catalogue, *(["ENS"] if d["ensemble"] else []), "reversal"]
    ks = tuple(ks or d["default_k"])
    t0 = time.perf_counter()
    if universe is None:
        universe = load(home, name, start=start, end=end)
        log(f"universe {name}: {len(universe.tickers)} tickers, {len(universe.calendar):,} days "
            f"{universe.calendar[0].date()} to {universe.calendar[-1].date()} "
            f"(loaded in {time.perf_counter() - t0:.0f} s)")
    fit = max_periods(universe, spec, window)
    n = fit if periods is None else min(int(periods), fit)
    if n < 1:
        raise SystemExit("the span holds no whole study period (750 training + 250 trading days)")
    wf = walk_forward_args(spec, window, n, seed)
    log(f"{design}: {n} study periods of {TRAIN_DAYS} + {TRADE_DAYS} days (of {fit} that fit), "
        f"test span from {universe.calendar[-n * TRADE_DAYS].date()}; models {', '.join(wanted)}; k {ks}")
    need = set(wanted) - {"reversal", "ENS"}
    if "ENS" in wanted:
        need |= set(d["ensemble"])
    if "reversal" in wanted and not need:
        need = {"logreg"}  # the reversal rule is scored on the rows the models forecast
    preds, timing, scored = {}, {}, {}
    order = sorted((m for m in catalogue if m in need), key=COST_ORDER.index)  # cheapest first

    def tables_now(final: bool) -> dict:
        """The tables of the models forecast so far (ENS once its members are all in)."""
        have = dict(preds)
        if "ENS" in wanted and all(m in have for m in d["ensemble"]):
            from forecast.evaluate.ensemble import ensemble_predictions

            have["ENS"] = ensemble_predictions({m: have[m] for m in d["ensemble"]})
        first = next(iter(have.values()))
        if "reversal" in wanted:
            have["reversal"] = reversal_predictions(universe, first)
        shown = [m for m in wanted if m in have]
        if not shown:  # e.g. only ENS asked for, its members not all in yet
            return None
        rows, daily = [], {}
        for m in shown:
            if m not in scored:  # each model is scored once
                scored[m] = score(m, have[m], universe, ks, filters)
            rows += scored[m][0]
            daily.update(scored[m][1])
        results = pd.DataFrame(rows)
        checks = ({m: engine_check(universe, have[m], filters, k=min(ks), days=engine) for m in shown}
                  if engine and final else {})
        return {"results": results, "dsr": deflated(results, daily), "daily": daily, "predictions": have,
                "members": members_per_year(universe, first, filters), "timing": dict(timing),
                "engine": checks, "periods": n, "test_start": universe.calendar[-n * TRADE_DAYS],
                "models": shown, "complete": final,
                "filters": filters.as_dict() if filters is not None else None,
                "seconds": time.perf_counter() - t0}

    for i, m in enumerate(order):
        model, params = catalogue[m]
        preds[m], timing[m] = forecasts(universe, model, params, wf, home=home, label=m, log=log)
        partial = tables_now(False) if out is not None and i < len(order) - 1 else None
        if partial is not None:  # partial tables, should the run stop early
            write(partial, design, Path(out))
            log(f"  partial tables in {out} ({', '.join(preds)})")
    tables = tables_now(True)
    if out is not None:
        write(tables, design, Path(out))
    log(f"done in {tables['seconds']:.0f} s")
    return tables


def dsr_wide(dsr: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, k): Sharpe and DSR before and after costs, and the trials."""
    wide = dsr.pivot_table(index=["model", "k"], columns="costs", values=["Sharpe", "DSR"], sort=False)
    wide.columns = [f"{a} {b}" for a, b in wide.columns]
    wide.index = pd.Index([f"{m}, k={k}" for m, k in wide.index], name="model")
    wide["trials"] = int(dsr["trials"].iloc[0])
    return wide


def write(tables: dict, design: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tables["results"].to_csv(out / f"{design}_results.csv", index=False)
    tables["dsr"].to_csv(out / f"{design}_dsr.csv", index=False)
    tables["members"].to_csv(out / f"{design}_members.csv")
    timing = pd.DataFrame(tables["timing"]).T
    timing.index.name = "model"
    timing.to_csv(out / f"{design}_timing.csv")
    state = "" if tables["complete"] else " (PARTIAL: the models forecast so far)"
    start = tables["test_start"].date()
    res, dsr = tables["results"], tables["dsr"]
    k_main = int(res["k"].min())
    md = [f"# {design}: {tables['periods']} study periods, test span from {start}{state}",
          f"models {', '.join(tables['models'])}; filters {tables['filters']}", "",
          f"## k = {k_main}, by sub-period", "", markdown(res[res["k"] == k_main], design), ""]
    if (res["k"] != k_main).any():
        md += ["## Every k, whole span", "", markdown(res[res["period"] == "all"], design), ""]
    md += ["## Deflated Sharpe ratio (whole span)", "",
          "Each (model, k) against all the (model, k) of this run as trials.", "",
          frame_md(dsr_wide(dsr)), "",
          "## Members per year", "",
          frame_md(tables["members"], ".1f"), "", "## Time per model", "", frame_md(timing, ".1f")]
    if tables["engine"]:
        md += ["", "## Engine check, the smallest k, before costs", "",
               frame_md(pd.DataFrame(tables["engine"]).T.rename_axis("model"), ".4f")]
    (out / f"{design}.md").write_text("\n".join(md) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", choices=sorted(DESIGNS), default="krauss")
    ap.add_argument("--models", help="comma-separated, e.g. DNN,GBT,RF,ENS,logreg,reversal")
    ap.add_argument("--periods", type=int, help="the last N whole study periods (default: all that fit)")
    ap.add_argument("--start", default="1989-01-01", help="first bar loaded (features need 240 days)")
    ap.add_argument("--end", default=None)
    ap.add_argument("--k", default=None, help="comma-separated k (default: the paper's)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--rf-trees", type=int, default=50)
    ap.add_argument("--rf-max-samples", type=float, default=0.1)
    ap.add_argument("--universe", default="us_liquid")
    ap.add_argument("--no-filters", action="store_true", help="no extreme-move exclusion (nor price floor)")
    ap.add_argument("--min-price", type=float, default=None,
                    help="a price floor on the last (adjusted) close; none by default, see the doc")
    ap.add_argument("--engine", type=int, default=0, metavar="DAYS",
                    help="also run the smallest k through the portfolio engine over the last DAYS days")
    ap.add_argument("--home", required=True, help="FCAST_HOME holding the imported universe")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    from forecast.errors import FcastError

    try:
        run(a.design, home=a.home, out=Path(a.out),
            models=a.models.split(",") if a.models else None, periods=a.periods, start=a.start,
            end=a.end, ks=[int(x) for x in a.k.split(",")] if a.k else None, epochs=a.epochs,
            rf_trees=a.rf_trees, rf_max_samples=a.rf_max_samples, name=a.universe,
            filters=None if a.no_filters else "default", engine=a.engine, min_price=a.min_price,
            log=lambda s: print(s, flush=True))
    except FcastError as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
