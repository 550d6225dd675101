"""report.html for a tuning run (`fcast tune`): the tuned model beside its baselines out of
sample, the trials it spent and what they do to the Sharpe ratio (DSR, PBO), each fold's
search and choice, and every trial.

Built from the run's folder only: ``tune.json`` (every printed figure comes from it, keyed
by its dotted path; ``tune.folds.2.best_value`` is fold 3's), ``trials.csv`` and
``equity.csv`` (runs recorded before fcast wrote it get a note instead of the curve).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from forecast.errors import ConfigError
from forecast.formatting import count, params_text
from forecast.report.backtest_page import _flatten, _setting
from forecast.report.experiment_page import keyed
from forecast.report.html import Html, chart, join, note, number, page, section, table, tag
from forecast.report.record_file import read_record_json
from forecast.stats.labels import MODEL_COLUMNS

EVIDENCE = 0.95  # a DSR above this is read as evidence (as the backtest page's PSR)
TRIAL_COLUMNS = {"fold", "trial", "state", "value", "sharpe", "chosen", "params"}


def tune_page(folder: Path, **options) -> str:
    """The page's HTML for the tuning run in `folder` (no options are used)."""
    folder = Path(folder)
    doc = read_record_json(folder / "tune.json", what="a tuning run's record")
    if "trials" not in doc:
        raise ConfigError(f"{folder / 'tune.json'} is not a tuning run's record (no trials)")
    trials = _read_trials(folder / "trials.csv")
    try:
        sections = [key_figures(doc), verdict(doc), forecast_section(doc),
                    equity_section(doc, folder / "equity.csv"), trials_section(doc, trials),
                    folds_section(doc), all_trials_section(trials), settings_section(doc)]
    except ConfigError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:  # a damaged record
        raise ConfigError(f"{folder}: tune.json or trials.csv is damaged "
                          f"({type(exc).__name__}: {exc})") from None
    model, ticker, tune = doc.get("model") or "model", doc.get("ticker") or "", doc.get("tune") or {}
    subtitle = (f"{ticker}: {model}, out of sample {doc.get('start')} to {doc.get('end')}; "
                f"{count(int(doc.get('trials') or 0), 'trial')} spent over "
                f"{count(len(doc.get('trials_per_fold') or []), 'fold')}")
    meta = [("ticker", ticker), ("model", model), ("span", f"{doc.get('start')} – {doc.get('end')}"),
            ("trials", keyed(doc, "trials", "int")),
            ("search", f"{tune.get('sampler', 'tpe')}, {tune.get('metric')}, "
                       f"pruner {tune.get('pruner') or 'none'}"),
            ("seed", doc.get("seed"))]
    return page(f"Tuning {model} on {ticker}".strip(), subtitle=subtitle, meta=meta, sections=sections,
                kind="tune", footer=f"Built from {folder.name}/tune.json, trials.csv and equity.csv.")


def _read_trials(path: Path) -> pd.DataFrame:
    try:
        trials = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not TRIAL_COLUMNS <= set(trials.columns):
        raise ConfigError(f"{path} needs columns {', '.join(sorted(TRIAL_COLUMNS))}")
    chosen = trials["chosen"].astype(str).str.lower().map({"true": True, "false": False})
    numbers = trials[["fold", "trial", "value", "sharpe"]].apply(pd.to_numeric, errors="coerce")
    if chosen.isna().any() or numbers[["fold", "trial"]].isna().any().any() or (
            numbers["value"].isna() & trials["value"].notna()).any():
        raise ConfigError(f"{path} is damaged: fold, trial and value must be numbers, chosen true or false")
    return trials.assign(chosen=chosen.astype(bool), **{c: numbers[c] for c in numbers})


# --- sections ------------------------------------------------------------------------------------

def key_figures(doc: dict) -> Html:
    strategy = (doc.get("strategy") or {}).get("name", "strategy")
    rows = [["trials spent (pruned ones included)", keyed(doc, "trials", "int")],
            ["out-of-sample accuracy", keyed(doc, "accuracy", "num3")],
            ["± standard error", keyed(doc, "accuracy_se", "num3")],
            ["majority-class rate", keyed(doc, "majority_rate", "num3")],
            ["scored days", keyed(doc, "n", "int")],
            [f"{strategy} Sharpe", keyed(doc, "strategy.sharpe", "num")],
            ["buy-and-hold Sharpe", keyed(doc, "benchmark.sharpe", "num")],
            ["total return", keyed(doc, "strategy.total_return", "pct")],
            ["buy-and-hold total return", keyed(doc, "benchmark.total_return", "pct")],
            ["deflated Sharpe ratio (every trial counted)", keyed(doc, "dsr", "num3")],
            ["PBO (mean over folds)", keyed(doc, "pbo", "num3")]]
    return section("key-figures", "Key figures", table(["", "value"], rows))


def verdict(doc: dict) -> Html:
    """Two lines: does the tuned forecast beat the majority rate, and does its strategy's
    Sharpe ratio survive the number of trials spent."""
    p, dsr = doc.get("p_value"), doc.get("dsr")
    beats = "it beats it" if isinstance(p, float) and p < 0.05 else "no evidence it beats it"
    if not isinstance(dsr, float):
        judged = "too few days to deflate"
    elif dsr > EVIDENCE:
        judged = "evidence of a real Sharpe ratio after counting every trial"
    else:
        judged = "no evidence of a real Sharpe ratio once every trial is counted"
    k = lambda key, kind: keyed(doc, key, kind)  # noqa: E731
    first = join([doc.get("model") or "the tuned model", " out of sample: accuracy ", k("accuracy", "num3"),
                  " ± ", k("accuracy_se", "num3"), " over ", k("n", "int"),
                  " days against the majority-class rate ", k("majority_rate", "num3"), " (p = ",
                  k("p_value", "num3"), "): ", beats])
    second = join(["Sharpe ", k("strategy.sharpe", "num"), " after ", k("trials", "int"),
                   " trials: deflated Sharpe ratio ", k("dsr", "num3"), ", PBO ", k("pbo", "num3"), ": ",
                   judged])
    return section("verdict", "Verdict", tag("p", first, class_="verdict"),
                   tag("p", second, class_="verdict"),
                   note("The deflated Sharpe ratio (Bailey & López de Prado 2014) is the probability that "
                        "the strategy's true Sharpe ratio exceeds the best one expected from that many "
                        "trials by luck, given the dispersion of the trials' own Sharpe ratios; read as "
                        f"evidence above {EVIDENCE}. PBO is the probability that the configuration best on "
                        "a fold's inner validation days ranks below the median on the days left out (CSCV), "
                        "averaged over the folds. The test blocks were scored once, with each fold's chosen "
                        "parameters."))


def forecast_section(doc: dict) -> Html:
    """The tuned model's out-of-sample metrics, then each baseline's on the same days."""
    figures = lambda prefix: [keyed(doc, prefix + key, kind) for key, _, kind in MODEL_COLUMNS]  # noqa: E731
    rows = [[tag("b", doc.get("model") or "tuned"), *figures("")]]
    rows += [[name, *figures(f"baselines.{name}.")] for name in doc.get("baselines") or {}]
    return section("forecast", "Out of sample, beside the baselines",
                   table(["model", *(label for _, label, _ in MODEL_COLUMNS)], rows),
                   note("Every model on the same scored days; the baselines are walked forward with the "
                        "same folds, untuned. p: a one-sided binomial test of accuracy above the majority "
                        "rate."))


def equity_section(doc: dict, path: Path) -> Html:
    title = "Equity of the tuned forecasts' strategy"
    if not path.is_file():
        return section("equity", title, note("This run has no equity.csv (recorded before fcast kept it)."))
    try:
        curves = pd.read_csv(path, index_col="date", parse_dates=["date"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not {"strategy", "benchmark"} <= set(curves.columns) or len(curves) < 2:
        raise ConfigError(f"{path} needs columns strategy, benchmark and two rows")
    from forecast.charts.backtest import equity

    name = (doc.get("strategy") or {}).get("name", "strategy")
    text = join([f"{name} with default costs on the tuned model's out-of-sample forecasts: total return ",
                 keyed(doc, "strategy.total_return", "pct"), ", max drawdown ",
                 keyed(doc, "strategy.max_drawdown", "pct"), ", ", keyed(doc, "strategy.n_trades", "int"),
                 " trades; buy-and-hold ", keyed(doc, "benchmark.total_return", "pct"), "."])
    return section("equity", title, chart(equity(curves, None), "equity",
                                          f"equity of {name} on the tuned forecasts and of buy-and-hold"),
                   note(text))


def trials_section(doc: dict, trials: pd.DataFrame) -> Html:
    from forecast.charts.tuning import MAX_PANELS, trial_scores

    metric = (doc.get("tune") or {}).get("metric") or "score"
    body = [note(join(["Each fold searched on its own training span only: ", keyed(doc, "trials", "int"),
                       f" trials in all, each scored on the fold's inner validation blocks by {metric}. "
                       "A pruned trial stopped early and still counts."]))]
    folds = trials["fold"].nunique()
    if folds > MAX_PANELS:
        body.append(note(f"The chart shows the first and last {MAX_PANELS // 2} of the {folds} folds; the "
                         "tables below list every fold."))
    if len(trials):
        fig = trial_scores(trials, metric=metric, maximize=metric == "accuracy")
        alt = "every trial's inner-validation score by fold, the chosen one starred"
        body.insert(0, chart(fig, "trials", alt))
    return section("trials", "The search, fold by fold", *body)


def folds_section(doc: dict) -> Html:
    rows = []
    for i, fold in enumerate((doc.get("tune") or {}).get("folds") or []):
        inner = fold.get("inner") or []
        span = f"{inner[0].get('train_start')} – {inner[-1].get('validate_end')}" if inner else ""
        chosen = params_text(fold.get("best_params") or {})
        rows.append([str(int(fold.get("fold", i)) + 1), keyed(doc, f"trials_per_fold.{i}", "int"),
                     *(keyed(doc, f"tune.folds.{i}.{key}", kind)
                       for key, kind in (("complete", "int"), ("pruned", "int"), ("best_value", "num3"))),
                     keyed(doc, f"pbo_per_fold.{i}", "num3"), span, chosen])
    headers = ["fold", "trials", "complete", "pruned", "best score", "PBO", "searched on", "chosen"]
    return section("folds", "Each fold's choice", table(headers, rows, numeric_from=1),
                   note("'searched on': from the first inner training row to the last inner validation "
                        "row; all before the fold's test block by the walk-forward's gap."))


def all_trials_section(trials: pd.DataFrame) -> Html:
    rows = []
    for r in trials.itertuples(index=False):
        cells = [str(int(r.fold) + 1), str(int(r.trial) + 1), r.state, number(_float(r.value), "num3"),
                 number(_float(r.sharpe), "num"), "yes" if bool(r.chosen) else "", _params_text(r.params)]
        rows.append(tag("tr", *(tag("td", c, class_="r" if 0 < j < 6 else None) for j, c in enumerate(cells)),
                        class_="best" if bool(r.chosen) else None))
    head = tag("tr", *(tag("th", h) for h in ("fold", "trial", "state", "score", "Sharpe", "chosen",
                                                "parameters")))
    return section("all-trials", "Every trial",
                   tag("div", tag("table", tag("thead", head), tag("tbody", join(rows))), class_="scroll"),
                   note("From trials.csv. Sharpe: the long-only rule on the trial's validation days, "
                        "annualised, before costs (the dispersion the deflated Sharpe ratio uses)."))


def settings_section(doc: dict) -> Html:
    tune = doc.get("tune") or {}
    rows = [[f"search.{k}", _setting(v)] for k, v in tune.items() if k not in ("folds", "space")]
    rows += [[f"space.{name}", _setting(dim)] for name, dim in (tune.get("space") or {}).items()]
    rows += [[f"walk_forward.{k}", _setting(v)] for k, v in _flatten(doc.get("settings") or {})]
    return section("settings", "Settings", table(["setting", "value"], rows, numeric_from=2),
                   note("As tune.json records them, not rounded."))


# --- text ---------------------------------------------------------------------------------------

def _float(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out else None


def _params_text(params) -> str:
    try:
        table_ = json.loads(params)
    except (TypeError, ValueError):
        return str(params)
    if not isinstance(table_, dict):
        return str(params)
    return params_text(table_)
