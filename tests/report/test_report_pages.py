"""report.html for an experiment and for a portfolio run: built from the run's folder only,
every keyed figure equals its JSON value and prints as `fmt` prints it, nothing reaches the
network, every chart decodes, the page stays under 5 MB; the experiment's ranked rows link
to their runs and its heatmap equals an independent groupby; the portfolio's contributions
equal metrics.json. One test tampers with a page to show the checker catches it."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.formatting import MISSING, fmt
from forecast.report import build_report, write_report

MAX_BYTES = 5 * 1024 * 1024
VOID = {"meta", "img", "br", "hr", "input", "link", "col", "source", "area", "base", "wbr"}
EXPERIMENT_SECTIONS = ("summary", "verdict", "ranked", "heatmap", "curves")
PORTFOLIO_SECTIONS = ("key-figures", "verdict", "equity", "drawdown", "ic", "spread", "legs", "weights",
                      "contributions", "monthly")


# --- the checker ------------------------------------------------------------------------------


class Page(HTMLParser):
    """What the tests read from a page: sections, keyed figures, images, links, scripts, and
    whether every element closed in order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.sections: list[str] = []
        self.section: str | None = None
        self.numbers: list[dict] = []  # span.n: attrs, text, section
        self._span: dict | None = None
        self.images: list[dict] = []
        self.anchors: list[dict] = []  # href, section, row (the enclosing tr's data-row)
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.rows: list[dict] = []  # every tr with data-row: section, row, class
        self.cells: list[dict] = []  # td with data-row and data-col: row, col, section
        self._row: str | None = None
        self._cell: dict | None = None
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed elements at the end: {self.stack}")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "section":
            self.section = a.get("id")
            self.sections.append(a.get("id"))
        elif tag == "span" and "n" in (a.get("class") or "").split():
            self._span = {"attrs": a, "text": "", "section": self.section}
        elif tag == "img":
            self.images.append({**a, "section": self.section})
        elif tag == "a":
            self.anchors.append({"href": a.get("href"), "section": self.section, "row": self._row})
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "link":
            self.links.append(a)
        elif tag == "tr":
            self._row = a.get("data-row")
            if self._row is not None:
                self.rows.append({"section": self.section, "row": self._row, "class": a.get("class")})
        elif tag == "td" and "data-col" in a:
            self._cell = {"row": a.get("data-row"), "col": a.get("data-col"), "section": self.section,
                          "value": None}
            self.cells.append(self._cell)
        if self._cell is not None and tag == "span" and self._span is not None:
            self._cell["value"] = self._span

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "span" and self._span is not None:
            self.numbers.append(self._span)
            self._span = None
        elif tag == "section":
            self.section = None
        elif tag == "tr":
            self._row = None
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._span is not None:
            self._span["text"] += data


def resolve(doc, dotted: str):
    """The value at a dotted path (``rows.3.sharpe``: a number indexes a list)."""
    value = doc
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            if part not in value:
                raise KeyError(dotted)
            value = value[part]
        else:
            raise KeyError(dotted)
    return value


def page_problems(text: str, doc: dict, *, min_keyed: int) -> list[str]:
    """Everything wrong with a page, as lines (empty: the page passes)."""
    from PIL import Image

    problems = []
    if len(text.encode("utf-8")) >= MAX_BYTES:
        problems.append(f"page is {len(text.encode()) / 1e6:.1f} MB")
    parsed = Page(text)
    problems += [f"HTML: {e}" for e in parsed.errors]
    keyed = 0
    for span in parsed.numbers:
        attrs, shown = span["attrs"], span["text"]
        kind, raw, dotted = attrs.get("data-kind", "num"), attrs.get("data-value"), attrs.get("data-key")
        if dotted is None:
            expected = fmt(float(raw), kind) if raw is not None else MISSING
            if shown != expected:
                problems.append(f"unkeyed figure shows {shown!r}, its value prints {expected!r}")
            continue
        keyed += 1
        try:
            value = resolve(doc, dotted)
        except (KeyError, IndexError, ValueError):
            problems.append(f"{dotted}: not in the JSON document")
            continue
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            if raw is not None or shown != MISSING:
                problems.append(f"{dotted}: JSON null, page shows {shown!r} ({raw})")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{dotted}: not a number in the JSON ({value!r})")
            continue
        if raw is None or not math.isclose(float(raw), value, rel_tol=1e-12, abs_tol=0.0):
            problems.append(f"{dotted}: page value {raw}, JSON {value!r}")
        if shown != fmt(value, kind):
            problems.append(f"{dotted}: page shows {shown!r}, fmt gives {fmt(value, kind)!r}")
    if keyed < min_keyed:
        problems.append(f"only {keyed} keyed figures (at least {min_keyed} expected)")
    # Nothing from the network.
    for m in re.finditer(r"""\b(src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)""", text, flags=re.I):
        problems.append(f"external {m.group(1)}: {m.group(2)[:60]}")
    if re.search(r"url\(\s*['\"]?\s*(?:https?:)?//|@import", text, flags=re.I):
        problems.append("external CSS resource")
    problems += [f"script with src {s['src']}" for s in parsed.scripts if s.get("src")]
    problems += [f"stylesheet link {lk.get('href')}" for lk in parsed.links
                 if "stylesheet" in (lk.get("rel") or "").lower() or lk.get("href")]
    # Every chart decodes as a PNG, and every image is a chart.
    charts = [img for img in parsed.images if img.get("data-chart")]
    if len(charts) != len(parsed.images):
        problems.append(f"{len(parsed.images) - len(charts)} image(s) without data-chart")
    names = [img["data-chart"] for img in charts]
    if len(set(names)) != len(names):
        problems.append("chart names repeat")
    pngs = 0
    for img in parsed.images:
        src = img.get("src") or ""
        if not src.startswith("data:image/png;base64,"):
            problems.append(f"chart {img.get('data-chart')}: not an embedded PNG")
            continue
        try:
            with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True))) as im:
                im.load()
                if im.format != "PNG" or min(im.size) < 20:
                    raise ValueError(f"{im.format} {im.size}")
            pngs += 1
        except Exception as exc:  # noqa: BLE001 - any failure to decode is the finding
            problems.append(f"chart {img.get('data-chart')}: does not decode ({exc})")
    if pngs != text.count("data-chart="):
        problems.append(f"{pngs} PNGs decode, {text.count('data-chart=')} data-chart attributes")
    return problems


def numbers_in(parsed: Page, section: str) -> dict[str, dict]:
    return {s["attrs"]["data-key"]: s for s in parsed.numbers
            if s["section"] == section and s["attrs"].get("data-key")}


# --- an experiment ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def experiment(experiment_output):
    """The session's 12-row experiment (ZZZZ unknown: its 4 rows fail), its page rebuilt."""
    folder = experiment_output
    began = time.perf_counter()
    path = write_report(folder)
    seconds = time.perf_counter() - began
    doc = json.loads((folder / "experiment.json").read_text())
    return folder, doc, path.read_text(encoding="utf-8"), seconds


def test_experiment_page_passes_the_checker(experiment):
    folder, doc, text, seconds = experiment
    assert len(doc["rows"]) == 12 and doc["n_failed"] == 4
    assert page_problems(text, doc, min_keyed=12 * 11 + 10) == []
    parsed = Page(text)
    assert [s for s in parsed.sections if s] == list(EXPERIMENT_SECTIONS)
    assert '<body data-kind="experiment"' in text


def test_experiment_header_and_verdict_figures(experiment):
    _, doc, text, _ = experiment
    parsed = Page(text)
    summary = numbers_in(parsed, "summary")
    for dotted in ("n_configurations", "n_trials", "n_failed", "cache.hits", "cache.trained", "seconds"):
        assert dotted in summary, dotted
    verdict = numbers_in(parsed, "verdict")
    assert {"tests.dsr", "tests.pbo.value", "tests.spa.pvalue", "tests.best.sharpe"} <= set(verdict)
    for ticker, value in doc["tests"]["pbo"]["by_ticker"].items():  # PBO per ticker when judged
        assert verdict[f"tests.pbo.by_ticker.{ticker}"]["text"] == fmt(value, "num3")
    assert doc["verdict"] in text.replace("&#x27;", "'")


def test_ranked_rows_are_best_first_and_link_to_their_runs(experiment):
    folder, doc, text, _ = experiment
    rows = doc["rows"]
    parsed = Page(text)
    order = [int(r["row"]) for r in parsed.rows if r["section"] == "ranked"]
    assert sorted(order) == list(range(len(rows)))
    ok = [i for i in order if rows[i]["status"] == "ok"]
    failed = [i for i in order if rows[i]["status"] != "ok"]
    assert order == ok + failed  # failed rows last
    sharpes = [rows[i]["sharpe"] if rows[i]["sharpe"] is not None else -math.inf for i in ok]
    assert sharpes == sorted(sharpes, reverse=True)
    assert [r["class"] for r in parsed.rows if r["section"] == "ranked"][0] == "best"
    links = {int(a["row"]): a["href"] for a in parsed.anchors if a["section"] == "ranked"}
    assert set(links) == set(ok)
    # --run-pages 2: the two best configurations' pages were built and are linked; the
    # others link to their folders
    for rank, i in enumerate(ok):
        built = (folder / rows[i]["run"] / "report.html").is_file()
        assert built == (rank < 2)
        assert links[i] == (f"{rows[i]['run']}/report.html" if built else f"{rows[i]['run']}/")
    for i, href in links.items():
        assert href.startswith("runs/") and (folder / rows[i]["run"]).is_dir()
        assert (folder / rows[i]["run"] / "equity.csv").is_file()
    for i in failed:  # each failed row says why
        assert "ZZZZ" in rows[i]["status"]
        assert rows[i]["status"].replace("'", "&#x27;") in text or rows[i]["status"] in text
    ranked = numbers_in(parsed, "ranked")
    for i in ok:
        assert ranked[f"rows.{i}.sharpe"]["text"] == fmt(rows[i]["sharpe"], "num")


def _groupby_means(rows, y_axis, x_axis) -> dict[tuple[str, str], float]:
    """Mean Sharpe per cell, from experiment.json's rows with pandas alone."""
    frame = pd.DataFrame(rows)
    frame = frame[frame["status"] == "ok"].copy()
    frame["cost"] = [f"{c:.2%}+{s:.2%}" for c, s in zip(frame["commission"], frame["slippage"], strict=True)]
    frame["sharpe"] = frame["sharpe"].astype(float)
    return frame.groupby([y_axis, x_axis])["sharpe"].mean().to_dict()


def _heat_cells(text: str) -> dict[tuple[str, str], float]:
    parsed = Page(text)
    out = {}
    for cell in parsed.cells:
        if cell["section"] == "heatmap":
            raw = cell["value"]["attrs"].get("data-value")
            out[(cell["row"], cell["col"])] = float(raw) if raw is not None else math.nan
    return out


@pytest.mark.parametrize("axes", [None, ("strategy", "cost")])
def test_heatmap_cells_equal_an_independent_groupby(experiment, axes):
    folder, doc, text, _ = experiment
    if axes is not None:
        text = build_report(folder, axes=axes)
    y_axis, x_axis = axes or ("ticker", "strategy")  # the default: the axes with most values
    assert f"Mean Sharpe by {y_axis} and {x_axis}" in text
    expected = _groupby_means(doc["rows"], y_axis, x_axis)
    cells = {k: v for k, v in _heat_cells(text).items() if not math.isnan(v)}
    assert set(cells) == set(expected)
    for cell, value in expected.items():
        assert cells[cell] == pytest.approx(value, rel=1e-12, abs=0), cell


def test_bad_heatmap_axes_are_config_errors(experiment):
    from forecast.errors import ConfigError

    folder = experiment[0]
    with pytest.raises(ConfigError, match="unknown heatmap axis"):
        build_report(folder, axes=("strategy", "colour"))
    with pytest.raises(ConfigError, match="two different"):
        build_report(folder, axes=("cost", "cost"))


def test_every_finished_configuration_has_a_curve(experiment):
    _, doc, text, _ = experiment
    parsed = Page(text)
    curves = {img["data-chart"] for img in parsed.images if img["section"] == "curves"}
    ok = {i for i, r in enumerate(doc["rows"]) if r["status"] == "ok"}
    assert curves == {f"curve-{i}" for i in ok} | {"curves-overlay"}


# --- a large faked experiment: the page stays small -------------------------------------------


def fake_experiment(folder: Path, n: int, days: int = 300, seed: int = 0) -> dict:
    """experiment.json with `n` rows (a grid of 6 tickers x 5 strategies x 3 params x 4 costs
    for n = 360) and each row's equity.csv; every tenth row failed."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2016-01-04", periods=days)
    rows = []
    for i in range(n):
        ticker, strategy = f"T{i % 6}", f"s{(i // 6) % 5}"
        params, cost = {"k": (i // 30) % 3}, (i // 90) % 4
        row = {"label": f"{ticker} logreg {strategy}(k={params['k']}) fee {cost / 1000:.2%}",
               "ticker": ticker, "model": "logreg", "model_params": {}, "seed": 0, "strategy": strategy,
               "params": params, "commission": cost / 1000, "slippage": 0.0005, "status": "ok"}
        if i % 10 == 9:
            row.update(status="error: boom", sharpe=None)
            rows.append(row)
            continue
        r = rng.normal(0.0003, 0.01, days)
        r[0] = 0.0
        strat = 100_000 * np.cumprod(1 + r)
        bench = 100_000 * np.cumprod(1 + np.r_[0.0, rng.normal(0.0003, 0.01, days - 1)])
        run = f"runs/{i:03d}-{ticker}-logreg-{strategy}"
        (folder / run).mkdir(parents=True)
        pd.DataFrame({"strategy": strat, "benchmark": bench}, index=pd.Index(dates, name="date")).to_csv(
            folder / run / "equity.csv", date_format="%Y-%m-%d")
        daily = np.diff(strat) / strat[:-1]
        drawdown = float((strat / np.maximum.accumulate(strat)).min() - 1)
        row.update(total_return=strat[-1] / strat[0] - 1, cagr=None,
                   sharpe=float(daily.mean() / daily.std(ddof=1) * math.sqrt(252)), sharpe_se=0.9,
                   psr=0.5, psr_vs_benchmark=0.5, max_drawdown=drawdown, n_trades=10, accuracy=0.5,
                   benchmark_return=bench[-1] / bench[0] - 1, benchmark_sharpe=1.0, cache="hit",
                   engine="vector", run=run)
        rows.append(row)
    doc = {"name": "fake", "id": "fake-1", "n_trials": sum(r["status"] == "ok" for r in rows),
           "n_configurations": n, "n_failed": sum(r["status"] != "ok" for r in rows),
           "cache": {"hits": n, "trained": 0, "enabled": True}, "seconds": 1.0, "tickers": {},
           "spec": {"tickers": [f"T{j}" for j in range(6)]},
           "tests": {"n_trials": 0, "n_days": days, "dsr": 0.4, "pbo": {"value": 0.5, "by_ticker": {}},
                     "spa": {"pvalue": 0.7}, "verdict": "fake"}, "verdict": "fake", "rows": rows}
    (folder / "experiment.json").write_text(json.dumps(doc))
    return doc


@pytest.mark.slow
def test_a_360_configuration_page_stays_small(tmp_path):
    doc = fake_experiment(tmp_path, 360)
    text = write_report(tmp_path).read_text(encoding="utf-8")  # its build time: bench/bench_report.py
    assert page_problems(text, doc, min_keyed=324 * 11) == []
    parsed = Page(text)
    small = [img for img in parsed.images if img["data-chart"].startswith("curve-")]
    assert len(small) == 60 and "the other 264 appear in the" in text
    assert len(text.encode()) < MAX_BYTES
    # The heatmap picks the two axes with the most values: ticker (6) and strategy (5).
    assert "Mean Sharpe by ticker and strategy" in text
    expected = _groupby_means(doc["rows"], "ticker", "strategy")
    cells = _heat_cells(text)
    assert all(cells[k] == pytest.approx(v, rel=1e-12) for k, v in expected.items())


def _ranked_note(folder: Path) -> str:
    text = write_report(folder).read_text(encoding="utf-8")
    ranked = re.search(r'<section id="ranked">(.*?)</section>', text, re.S).group(1)
    return re.search(r'<p class="note">(Ranked by .*?)</p>', ranked, re.S).group(1).replace("&#x27;", "'")


@pytest.mark.slow
def test_the_ranked_note_promises_links_only_where_there_are_some(tmp_path):
    """An experiment recorded without --output (what `fcast report ID` rebuilds) has no run
    folders, so no label links anywhere; the note said each one "opens" a page all the same."""
    recorded = tmp_path / "recorded"
    fake_experiment(recorded, 12)
    shutil.rmtree(recorded / "runs")
    assert "opens" not in _ranked_note(recorded)
    folders = tmp_path / "folders"  # run folders, no page built in any: a label opens a folder
    fake_experiment(folders, 12)
    note = _ranked_note(folders)
    assert "opens that configuration's folder" in note and "page" not in note
    first = sorted((folders / "runs").iterdir())[0]
    (first / "report.html").write_text("<html></html>")  # one page built: pages or folders
    assert "own page, or its folder" in _ranked_note(folders)


@pytest.mark.slow
@pytest.mark.parametrize(("executor", "shown", "never"), [
    ({"name": "serial", "workers": 1}, "serial, in this process", "1 workers"),
    ({"name": "ray", "workers": 1}, "ray (1 worker)", "1 workers"),
    ({"name": "ray", "workers": 4}, "ray (4 workers)", "4 worker)"),
])
def test_the_executor_line_counts_workers_in_words(tmp_path, executor, shown, never):
    doc = fake_experiment(tmp_path, 4)
    doc["executor"] = executor
    (tmp_path / "experiment.json").write_text(json.dumps(doc))
    text = write_report(tmp_path).read_text(encoding="utf-8")
    assert shown in text and never not in text


# --- a portfolio run --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def portfolio(portfolio_output):
    folder = portfolio_output
    began = time.perf_counter()
    path = write_report(folder)
    seconds = time.perf_counter() - began
    doc = json.loads((folder / "metrics.json").read_text())
    return folder, doc, path.read_text(encoding="utf-8"), seconds


@pytest.mark.slow
def test_portfolio_page_passes_the_checker(portfolio):
    _, doc, text, seconds = portfolio
    assert page_problems(text, doc, min_keyed=60) == []
    parsed = Page(text)
    assert [s for s in parsed.sections if s] == list(PORTFOLIO_SECTIONS)
    charts = {img["data-chart"] for img in parsed.images}
    assert {"equity", "drawdown", "ic", "spread", "exposure-turnover", "books", "weights", "contributions",
            "monthly"} <= charts
    assert '<body data-kind="portfolio"' in text


def test_portfolio_header_key_figures_and_verdict(portfolio):
    _, doc, text, _ = portfolio
    parsed = Page(text)
    header = {s["attrs"]["data-key"] for s in parsed.numbers
              if s["section"] is None and s["attrs"].get("data-key")}
    assert {"settings.cash", "settings.commission", "settings.slippage"} <= header
    assert doc["survivorship_biased"] and "survivorship-biased" in text
    figures = numbers_in(parsed, "key-figures")
    for curve in ("strategy", "benchmark", "market"):
        for field in ("total_return", "cagr", "sharpe", "max_drawdown"):
            assert f"{curve}.{field}" in figures, (curve, field)
    verdict = numbers_in(parsed, "verdict")
    assert {"strategy.sharpe", "statistics.sharpe_se", "statistics.psr",
            "statistics.psr_vs_benchmark"} <= set(verdict)
    ic = numbers_in(parsed, "ic")
    assert {"ic.mean_ic", "ic.icir", "ic.t_stat", "ic.mean_rank_ic", "ic.rank_icir",
            "ic.rank_t_stat"} <= set(ic)
    assert {"spread.mean", "spread.t_stat", "strategy.turnover"} <= set(numbers_in(parsed, "spread"))


def test_portfolio_contributions_table_equals_metrics(portfolio):
    _, doc, text, _ = portfolio
    parsed = Page(text)
    table = {s["attrs"]["data-key"]: s for s in parsed.numbers if s["section"] == "contributions"
             and (s["attrs"].get("data-key") or "").startswith("contributions.")}
    assert set(table) == {f"contributions.{t}" for t in doc["contributions"]}
    for ticker, value in doc["contributions"].items():
        span = table[f"contributions.{ticker}"]
        assert float(span["attrs"]["data-value"]) == value and span["text"] == fmt(value, "money")
    # The rows run best first.
    shown = [float(s["attrs"]["data-value"]) for s in parsed.numbers if s in table.values()]
    assert shown == sorted(doc["contributions"].values(), reverse=True)


def test_portfolio_derived_series_agree_with_metrics(portfolio):
    """The spread and turnover the page draws from the CSVs are the ones metrics.json sums up."""
    from forecast.report.portfolio_page import daily_spread, daily_turnover

    folder, doc, _, _ = portfolio
    preds = pd.read_csv(folder / "predictions.csv", parse_dates=["date"])
    spread = daily_spread(preds, doc["spread"]["k"])
    assert len(spread) == doc["spread"]["n_days"]
    assert spread.mean() == pytest.approx(doc["spread"]["mean"], rel=1e-9)
    equity = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=True)
    trades = pd.read_csv(folder / "trades.csv", parse_dates=["date"])
    turnover = daily_turnover(trades, equity["strategy"])
    assert turnover.iloc[1:].mean() == pytest.approx(doc["strategy"]["turnover"], rel=1e-9)


@pytest.mark.slow
def test_portfolio_legs_drawn_from_the_run_and_missing_ones_said(portfolio, tmp_path):
    folder, doc, text, _ = portfolio
    legs = pd.read_csv(folder / "legs.csv", index_col="date")
    for leg in ("long", "short", "costs"):  # metrics.json sums legs.csv's days
        assert doc["legs"][leg] == pytest.approx(legs[leg].sum(), rel=1e-12, abs=1e-15)
    parsed = Page(text)
    assert "legs" in {img["data-chart"] for img in parsed.images}
    assert {"legs.long", "legs.short", "legs.costs"} <= set(numbers_in(parsed, "legs"))
    assert "no daily legs" not in text
    # An older run without legs says so, and shows the books from weights.csv instead.
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    (copy / "legs.csv").unlink()
    del doc["legs"]
    (copy / "metrics.json").write_text(json.dumps(doc))
    page = build_report(copy)
    assert page_problems(page, doc, min_keyed=40) == []
    assert "no daily legs" in page
    assert "legs" not in {img["data-chart"] for img in Page(page).images}


# --- the checker fails when it should ---------------------------------------------------------


def test_the_checker_reports_a_tampered_page(experiment, portfolio):
    _, doc, text, _ = experiment
    assert page_problems(text, doc, min_keyed=10) == []
    # A figure that differs from the JSON, in value and in print.
    span = re.search(r'data-key="rows\.(\d+)\.sharpe" data-kind="num" data-value="([^"]+)">([^<]+)<', text)
    i, raw, shown = span.groups()
    forged = text.replace(span.group(0), span.group(0).replace(f'data-value="{raw}">{shown}<',
                                                                f'data-value="{float(raw) + 1e-6!r}">9.99<'))
    found = page_problems(forged, doc, min_keyed=10)
    assert any(f"rows.{i}.sharpe: page value" in p for p in found)
    assert any(f"rows.{i}.sharpe: page shows '9.99'" in p for p in found)
    # The JSON changed under the page.
    altered = json.loads(json.dumps(doc))
    altered["tests"]["dsr"] = 0.123456
    assert any(p.startswith("tests.dsr") for p in page_problems(text, altered, min_keyed=10))
    # A network reference, a broken chart, a missing figure count, an unclosed element.
    bad = text.replace("</head>", '<script src="https://cdn.example.com/x.js"></script>'
                       '<link rel="stylesheet" href="//example.com/s.css"></head>')
    bad = re.sub(r"(data:image/png;base64,)[A-Za-z0-9+/]{40}", r"\1" + "A" * 40, bad, count=1)
    found = page_problems(bad + "<div>", doc, min_keyed=10 ** 6)
    for expected in ("external src: https://cdn.example.com", "external href: //example.com",
                     "script with src", "stylesheet link", "does not decode", "keyed figures",
                     "unclosed elements"):
        assert any(expected in p for p in found), (expected, found)
    # A portfolio figure printed under the wrong key.
    _, pdoc, ptext, _ = portfolio
    swapped = ptext.replace('data-key="strategy.sharpe"', 'data-key="benchmark.sharpe"', 1)
    assert any(p.startswith("benchmark.sharpe") for p in page_problems(swapped, pdoc, min_keyed=10))


@pytest.mark.slow
def test_contribution_shares_are_of_the_gross_pnl_with_their_sign(portfolio, tmp_path):
    """A losing run's shares keep each ticker's sign (shares of a negative net total would not)."""
    folder, doc, _, _ = portfolio
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    doc = json.loads(json.dumps(doc))
    tickers = list(doc["contributions"])
    doc["contributions"] = {t: 0.0 for t in tickers}
    doc["contributions"].update({tickers[0]: 300.0, tickers[1]: -700.0})  # net -400, gross 1,000
    (copy / "metrics.json").write_text(json.dumps(doc))
    text = build_report(copy)
    table_html = text[text.index('class="contributions"'):]
    table_html = table_html[:table_html.index("</table>")]
    shares = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table_html):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        if cells:
            shares[cells[0]] = float(re.search(r'data-value="([^"]+)"', cells[2]).group(1))
    assert shares[tickers[0]] == pytest.approx(0.3) and shares[tickers[1]] == pytest.approx(-0.7)
