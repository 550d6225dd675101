"""report.html for an experiment: the grid's summary, its verdict, every configuration
ranked, mean Sharpe over two grid axes, and every configuration's equity curve.

Built only from the experiment's folder: ``experiment.json`` (every printed figure comes
from it, with its dotted path in ``data-key``; ``rows.3.sharpe`` is row 3 of ``rows``) and
each configuration's ``runs/NNN-…/equity.csv`` for the curves.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from forecast.errors import ConfigError
from forecast.formatting import count
from forecast.report.html import Html, chart, esc, join, link, note, number, page, section, table, tag
from forecast.report.record_file import read_record_json
from forecast.stats.labels import EXPERIMENT_PAGE_COLUMNS

AXES = ("ticker", "model", "seed", "strategy", "params", "cost")
MAX_SMALL = 60  # small multiples drawn one by one; the rest only in the overlaid chart


def experiment_page(folder: Path, *, axes=None, max_small: int = MAX_SMALL) -> str:
    """The page's HTML for the experiment in `folder`.

    `axes`: the heatmap's two grid axes, (rows, columns) from `AXES` (a tuple or ``"a,b"``);
    default: the two with the most distinct values. `max_small`: at most this many small
    equity charts (the best by Sharpe); every curve is also drawn in one overlaid chart.
    """
    folder = Path(folder)
    doc = read_record_json(folder / "experiment.json", what="an experiment record")
    rows = doc.get("rows") or []
    order = ranked(rows)
    heat_axes = _choose_axes(rows, axes)
    sections = [
        _summary(doc),
        _verdict(doc),
        _ranked(doc, order, folder),
        _heatmap(rows, heat_axes),
        _curves(doc, order, folder, max(0, int(max_small))),
    ]
    spec = doc.get("spec") or {}
    subtitle = (f"experiment {doc.get('id', '')}: {len(rows)} configurations of "
                f"{len(spec.get('tickers') or [])} tickers")
    meta = [
        ("id", doc.get("id")), ("created", doc.get("created")),
        ("configurations", keyed(doc, "n_configurations", "int")),
        ("trials", keyed(doc, "n_trials", "int")),
        ("failed", keyed(doc, "n_failed", "int")),
        ("cache", _cache_text(doc)),
        ("executor", _executor_text(doc.get("executor") or {})),
        ("seconds", keyed(doc, "seconds", "num")),
        ("versions", ", ".join(f"{k} {v}" for k, v in (doc.get("versions") or {}).items())),
    ]
    return page(f"Experiment {doc.get('name') or ''}".strip(), subtitle=subtitle, meta=meta,
                sections=sections, kind="experiment",
                footer=f"Built from {folder.name}/experiment.json and runs/*/equity.csv.")


# --- reading ----------------------------------------------------------------------------------


_ABSENT = object()


def keyed(doc, dotted: str | None, kind: str, value=_ABSENT) -> Html:
    """`number()` of the value at the dotted path `dotted` of `doc`, keyed with that path.
    A path the document lacks prints as missing and carries no key (a key always names a
    value that is there). `dotted` None: a figure no path can address (a ticker with a dot),
    shown from `value` without a key."""
    if dotted is None:
        return number(None if value is _ABSENT else value, kind)
    node = doc
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return number(None, kind)
    if node is not None and (isinstance(node, bool) or not isinstance(node, int | float)):
        return number(None, kind)
    return number(node, kind, dotted)


def _finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def ranked(rows: list[dict]) -> list[int]:
    """Row indices best first by Sharpe (no Sharpe ranks last), failed rows after, in grid
    order: the order `ExperimentResult.ranked` gives."""
    ok = [i for i, r in enumerate(rows) if r.get("status") == "ok"]
    ok.sort(key=lambda i: -rows[i]["sharpe"] if _finite(rows[i].get("sharpe")) else math.inf)
    return ok + [i for i, r in enumerate(rows) if r.get("status") != "ok"]


def key(prefix: str, *names) -> str | None:
    """``prefix.name1.name2``, the dotted path of a value; None when a name holds a dot
    (a ticker such as BRK.B: no dotted path can address it)."""
    names = [str(n) for n in names]
    return None if any("." in n for n in names) else ".".join([prefix, *names])


def _kv(params: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items())


def axis_value(row: dict, axis: str) -> str:
    """The label of `row` on one grid axis (the heatmap's rows and columns)."""
    if axis == "ticker":
        return str(row.get("ticker"))
    if axis == "model":
        params = _kv(row.get("model_params"))
        return f"{row.get('model')}({params})" if params else str(row.get("model"))
    if axis == "seed":
        return str(row.get("seed"))
    if axis == "strategy":
        return str(row.get("strategy"))
    if axis == "params":
        return _kv(row.get("params")) or "defaults"
    if axis == "cost":
        return cost_label(row.get("commission"), row.get("slippage"))
    raise ConfigError(f"unknown heatmap axis {axis!r}: use {', '.join(AXES)}")


def cost_label(commission, slippage) -> str:
    def pct(x):
        return f"{x:.2%}" if _finite(x) else "?"

    return f"{pct(commission)}+{pct(slippage)}"


def _choose_axes(rows: list[dict], axes) -> tuple[str, str]:
    if axes is not None:
        chosen = tuple(a.strip() for a in axes.split(",")) if isinstance(axes, str) else tuple(axes)
        if len(chosen) != 2 or chosen[0] == chosen[1]:
            raise ConfigError(f"heatmap axes: two different names of {', '.join(AXES)}, got {axes!r}")
        for a in chosen:
            if a not in AXES:
                raise ConfigError(f"unknown heatmap axis {a!r}: use {', '.join(AXES)}")
        return chosen  # type: ignore[return-value]
    distinct = {a: len({axis_value(r, a) for r in rows}) for a in AXES}
    # Most distinct values first; ties keep AXES' order (stable sort).
    best = sorted(AXES, key=lambda a: -distinct[a])
    return best[0], best[1]


# --- sections ---------------------------------------------------------------------------------


def _cache_text(doc: dict) -> Html:
    if not (doc.get("cache") or {}).get("enabled", True):
        return esc("off")
    return join([keyed(doc, "cache.hits", "int"), " hits, ",
                 keyed(doc, "cache.trained", "int"), " trained"])


def _executor_text(executor: dict) -> str:
    if not executor:
        return ""
    name, workers = executor.get("name"), executor.get("workers")
    if name == "serial":
        return "serial, in this process"  # not "serial (1 workers)"
    if workers is None:
        return str(name)
    return f"{name} ({count(workers, 'worker') if isinstance(workers, int) else workers})"


def _summary(doc: dict) -> Html:
    spec = doc.get("spec") or {}
    costs = spec.get("costs") or {}
    grid = [
        ("configurations", keyed(doc, "n_configurations", "int")),
        # a spec with [tune] counts its tuning trials too (tests.tuning_trials)
        ("trials (configurations with returns" + (" + tuning trials)" if (doc.get("tests") or {}).get(
            "tuning_trials") else ")"), keyed(doc, "n_trials", "int")),
        ("failed", keyed(doc, "n_failed", "int")),
        ("days all trials share", keyed(doc, "tests.n_days", "int")),
        ("walk-forward runs from the cache", keyed(doc, "cache.hits", "int")),
        ("walk-forward runs trained", keyed(doc, "cache.trained", "int")),
        ("seconds", keyed(doc, "seconds", "num")),
        ("tickers", ", ".join(map(str, spec.get("tickers") or []))),
        ("models", ", ".join(_setting(m) for m in spec.get("models") or [])),
        ("strategies", ", ".join(_setting(s) for s in spec.get("strategies") or [])),
        ("seeds", ", ".join(map(str, spec.get("seeds") or []))),
        ("commission", ", ".join(f"{c:.2%}" for c in costs.get("commission") or [] if _finite(c))),
        ("slippage", ", ".join(f"{c:.2%}" for c in costs.get("slippage") or [] if _finite(c))),
        ("span asked", f"{spec.get('start') or 'first bar'} to {spec.get('end') or 'last bar'}"),
        ("cash", keyed(doc, "spec.cash", "money")),
        ("engine", spec.get("engine")),
        ("walk-forward", _kv(spec.get("walk_forward")) or "defaults"),
    ]
    spans = doc.get("tickers") or {}
    span_rows = [[t, s.get("start"), s.get("end"),
                  keyed(doc, key("tickers", t, "bars"), "int", s.get("bars")), s.get("source")]
                 for t, s in spans.items() if isinstance(s, dict)]
    return section(
        "summary", "Summary",
        table(["", ""], grid, cls="kv", numeric_from=1),
        table(["ticker", "first bar", "last bar", "bars", "source"], span_rows, numeric_from=3,
              caption="The data each ticker's configurations were run on.") if span_rows else "",
    )


def _setting(s) -> str:
    if isinstance(s, dict):
        params = _kv(s.get("params"))
        return f"{s.get('name')}({params})" if params else str(s.get("name"))
    return str(s)


MEANINGS = {
    "dsr": "Deflated Sharpe ratio: the probability that the best configuration's true Sharpe ratio "
           "is above zero once the number of trials is allowed for (0.95 or more is evidence).",
    "pbo": "Probability of backtest overfitting (CSCV): how often the configuration best in sample "
           "ranks below the median out of sample (0.5 is a coin toss; near 0 is good).",
    "spa": "Hansen's SPA test against buy-and-hold: the p-value of 'no configuration beats its "
           "buy-and-hold after costs' (below 0.05 is evidence of skill).",
}


def _verdict(doc: dict) -> Html:
    tests = doc.get("tests") or {}
    pbo = tests.get("pbo") or {}
    spa = tests.get("spa") or {}
    best = tests.get("best") or {}
    rank = _rank_text(doc.get("rows") or [], best.get("row"))
    line = doc.get("verdict") or tests.get("verdict") or "no verdict recorded"
    rows = [
        ["DSR of the best", keyed(doc, "tests.dsr", "num3"), MEANINGS["dsr"]],
        ["PBO, all configurations", keyed(doc, "tests.pbo.value", "num3"),
         MEANINGS["pbo"] + (f" {pbo['n_splits']} splits." if pbo.get("n_splits") else "")],
    ]
    for ticker, value in (pbo.get("by_ticker") or {}).items():
        rows.append([f"PBO, {ticker} only", keyed(doc, key("tests.pbo.by_ticker", ticker), "num3", value),
                     f"the same, among {ticker}'s configurations"])
    rows.append(["SPA p-value", keyed(doc, "tests.spa.pvalue", "num3"), MEANINGS["spa"]])
    if "lower" in spa or "upper" in spa:
        rows.append(["SPA p, lower / upper", join([keyed(doc, "tests.spa.lower", "num3"), " / ",
                                                   keyed(doc, "tests.spa.upper", "num3")]),
                     f"the consistent p bracketed by Hansen's lower and upper p-values; "
                     f"{spa.get('reps', '?')} stationary-bootstrap draws, seed {spa.get('seed', '?')}"])
    notes = [n for n in (pbo.get("note"), spa.get("note")) if n]
    best_line = ""
    if best:
        best_line = note(join(["best: ", best.get("label", ""), ", Sharpe ",
                               keyed(doc, "tests.best.sharpe", "num"), " ± ",
                               keyed(doc, "tests.best.sharpe_se", "num"), rank,
                               ", judged on ",
                               keyed(doc, "tests.n_trials", "int"), " trials over ",
                               keyed(doc, "tests.n_days", "int"), " shared days"]))
    return section(
        "verdict", "Verdict",
        tag("p", line, class_="verdict"),
        best_line,
        table(["test", "value", "what it means"], rows, numeric_from=1),
        join(note(n, "warn") for n in notes),
    )


def _rank_text(rows: list[dict], row) -> str:
    """" (#3 in the table)": the rank the ranked table shows for row index `row`."""
    order = ranked(rows)
    if not isinstance(row, int) or row not in order:
        return ""
    return f" (#{order.index(row) + 1} in the table)"


def row_label(row: dict, i: int) -> str:
    if row.get("label"):
        return str(row["label"])
    return (f"{row.get('ticker')} {axis_value(row, 'model')} {row.get('strategy')} "
            f"{_kv(row.get('params'))} {axis_value(row, 'cost')}").strip() or f"row {i}"


def run_href(folder: Path, run: str) -> str:
    """A configuration's page when it was built, else its folder (its files open from there)."""
    return f"{run}/report.html" if (folder / run / "report.html").is_file() else f"{run}/"


def _ranked(doc: dict, order: list[int], folder: Path) -> Html:
    rows = doc.get("rows") or []
    best = order[0] if order and rows[order[0]].get("status") == "ok" else None
    body = []
    for rank, i in enumerate(order, start=1):
        row = rows[i]
        label = row_label(row, i)
        run = row.get("run")
        cell = link(run_href(folder, run), label) if run and (folder / run).is_dir() else esc(label)
        ok = row.get("status") == "ok"
        figures = [keyed(doc, f"rows.{i}.{field}", kind) for field, _, kind in EXPERIMENT_PAGE_COLUMNS]
        status = esc("ok") if ok else tag("span", row.get("status") or "not run", class_="warn")
        body.append(tag("tr", tag("td", str(rank) if ok else "–", class_="r"), tag("td", cell),
                        *(tag("td", f, class_="r") for f in figures),
                        tag("td", row.get("cache") or ""), tag("td", status),
                        class_="best" if i == best else None, data_row=str(i)))
    head = tag("tr", tag("th", "#", class_="r"), tag("th", "configuration"),
               *(tag("th", h, class_="r") for _, h, _ in EXPERIMENT_PAGE_COLUMNS),
               tag("th", "cache"), tag("th", "status"))
    n_failed = sum(1 for r in rows if r.get("status") != "ok")
    runs = [r["run"] for r in rows if r.get("run") and (folder / r["run"]).is_dir()]
    unbuilt = [run for run in runs if not (folder / run / "report.html").is_file()]
    pages = ""
    if unbuilt:
        pages = note(f"{len(unbuilt)} of the {len(runs)} configuration pages are not built yet: "
                     f"`fcast report {folder.name}/{unbuilt[0]}` builds one.")
    return section(
        "ranked", "Configurations, best first",
        note(f"Ranked by Sharpe ratio (net of costs); failed configurations last with their error "
             f"({n_failed} failed).{_links_text(len(runs), len(unbuilt))}"),
        pages,
        tag("div", tag("table", tag("thead", head), tag("tbody", join(body)), class_="ranked"),
            class_="scroll"),
    )


def _links_text(n_runs: int, n_unbuilt: int) -> str:
    """What a configuration's label links to: nothing when no run folder is here (an
    experiment recorded without --output), its page, or its folder where none is built."""
    if not n_runs:
        return ""
    if not n_unbuilt:
        return " Each label opens that configuration's own page."
    if n_unbuilt == n_runs:
        return " Each label opens that configuration's folder."
    return " Each label opens that configuration's own page, or its folder where no page is built."


def heatmap_means(rows: list[dict], axes: tuple[str, str]) -> pd.DataFrame:
    """Mean Sharpe ratio of the finished rows for each (axes[0], axes[1]) cell, rows and
    columns in grid order (NaN: no finished row with a Sharpe ratio in that cell)."""
    y_axis, x_axis = axes
    ys, xs = _ordered(rows, y_axis), _ordered(rows, x_axis)
    records = [(axis_value(r, y_axis), axis_value(r, x_axis),
                r["sharpe"] if _finite(r.get("sharpe")) else math.nan)
               for r in rows if r.get("status") == "ok"]
    frame = pd.DataFrame.from_records(records, columns=["y", "x", "sharpe"])
    means = frame.groupby(["y", "x"])["sharpe"].mean().unstack("x") if len(frame) else pd.DataFrame()
    return means.reindex(index=ys, columns=xs).astype(float)


def _ordered(rows: list[dict], axis: str) -> list[str]:
    return list(dict.fromkeys(axis_value(r, axis) for r in rows))


def _heatmap(rows: list[dict], axes: tuple[str, str]) -> Html:
    from forecast.charts.cross import sharpe_heatmap

    y_axis, x_axis = axes
    means = heatmap_means(rows, axes)
    if means.empty or not means.notna().to_numpy().any():
        return section("heatmap", "Mean Sharpe by grid axes",
                       note("No finished configuration has a Sharpe ratio: nothing to average."))
    fig = sharpe_heatmap(means, x_label=x_axis, y_label=y_axis)
    head = tag("tr", tag("th", f"{y_axis} \\ {x_axis}"), *(tag("th", x, class_="r") for x in means.columns))
    body = join(
        tag("tr", tag("th", y), *(tag("td", number(means.at[y, x], "num"), class_="r", data_row=y, data_col=x)
                                  for x in means.columns))
        for y in means.index
    )
    return section(
        "heatmap", f"Mean Sharpe by {y_axis} and {x_axis}",
        note(f"Each cell: the mean Sharpe ratio of the finished configurations with that {y_axis} and "
             f"{x_axis}, over every other axis. Other axes: "
             f"{', '.join(a for a in AXES if a not in axes)} (the page option axes=(rows, columns))."),
        chart(fig, "sharpe-heatmap", f"mean Sharpe ratio by {y_axis} and {x_axis}"),
        tag("div", tag("table", tag("thead", head), tag("tbody", body), class_="heat",
                       data_rows=y_axis, data_cols=x_axis), class_="scroll"),
    )


def _read_equity(path: Path) -> pd.DataFrame | None:
    try:
        frame = pd.read_csv(path, index_col="date", parse_dates=True)
    except (OSError, ValueError):
        return None
    return frame if "strategy" in frame and len(frame) else None


def _curves(doc: dict, order: list[int], folder: Path, max_small: int) -> Html:
    from forecast.charts.curves import all_curves, growth_ticks, small_equity

    rows = doc.get("rows") or []
    curves: dict[int, pd.DataFrame] = {}
    missing = []
    for i in order:
        row = rows[i]
        if row.get("status") != "ok":
            continue
        frame = _read_equity(folder / row["run"] / "equity.csv") if row.get("run") else None
        if frame is None:
            missing.append(i)
        else:
            curves[i] = frame
    if not curves:
        return section("curves", "Equity curves", note("No configuration left an equity.csv to draw."))
    ranked_ok = [i for i in order if i in curves]
    best = ranked_ok[0]
    overlay = all_curves([curves[i]["strategy"] for i in ranked_ok], 0,
                                      title=f"All {len(ranked_ok)} configurations, growth of 1 (log scale); "
                                            "best by Sharpe in red")
    shown = ranked_ok[:max_small]
    growth = [c[col].dropna() / c[col].dropna().iloc[0] for i in shown for c in [curves[i]]
              for col in ("strategy", "benchmark") if col in c and len(c[col].dropna())]
    growth = [g for g in growth if (g > 0).all()]
    lo = min((float(g.min()) for g in growth), default=0.9) / 1.03
    hi = max((float(g.max()) for g in growth), default=1.1) * 1.03
    ticks = growth_ticks(lo, hi)
    cells = []
    for rank, i in enumerate(shown, start=1):
        c = curves[i]
        bench = c["benchmark"].dropna() if "benchmark" in c else None
        fig = small_equity(c["strategy"].dropna(), bench, ylim=(lo, hi), ticks=ticks,
                                        best=i == best)
        label = row_label(rows[i], i)
        run = rows[i]["run"]
        caption = tag("div", f"#{rank} ", link(run_href(folder, run), label), " Sharpe ",
                      keyed(doc, f"rows.{i}.sharpe", "num"), class_="cap",
                      style="font-size:12px")
        cells.append(tag("div", chart(fig, f"curve-{i}", f"equity of {label}"), caption,
                         class_="cell", data_row=str(i)))
    rest = len(ranked_ok) - len(shown)
    said = ["Growth of 1 on a log scale, strategy in blue and its buy-and-hold in grey, one chart per "
            "configuration best first, on a shared scale."]
    if rest > 0:
        said.append(f"Only the best {len(shown)} are drawn one by one; the other {rest} appear in the "
                    f"overlaid chart above only (the page stays small).")
    if missing:
        said.append(f"{len(missing)} finished configuration(s) left no readable equity.csv: "
                    + ", ".join(f"row {i}" for i in missing[:20]) + ("…" if len(missing) > 20 else ""))
    return section(
        "curves", "Equity curves",
        chart(overlay, "curves-overlay", "every configuration's equity curve, best highlighted"),
        note(" ".join(said)),
        tag("div", join(cells), class_="grid"),
    )
