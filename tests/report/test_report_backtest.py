"""report.html of one backtest: rebuilt from its --output folder alone, self-contained, and
every printed figure traceable to the files.

One real backtest (logreg on bundled AAPL, about 1,660 bars) is written once for the
module; each test reads its folder or a copy it may damage.
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.formatting import fmt
from forecast.report import REPORT_FILE, write_report

SECTIONS = ["key-figures", "verdict", "equity", "drawdown", "exposure", "monthly", "yearly", "rolling-sharpe",
            "distribution", "trades", "forecast", "walk-forward"]
CHARTS = {"equity", "drawdown", "exposure", "monthly", "rolling-sharpe", "distribution", "calibration",
          "accuracy-by-year"}
MAX_BYTES = 5 * 1024 * 1024


# --- a small DOM, enough to find sections, tables and figures -------------------------------------

class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        found = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and all(c.attrs.get(k.rstrip("_").replace("_", "-")) == v
                                                         for k, v in attrs.items()):
                    found.append(c)
                found.extend(c.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]


class Tree(HTMLParser):
    """Parses strictly: every element but the void ones must close, in order."""

    VOID = {"meta", "img", "br", "hr", "input", "link"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {}, None)
        self.feed(text)
        self.close()
        assert self.current is self.root, f"<{self.current.tag}> never closed"

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag):
        assert tag == self.current.tag, f"</{tag}> closes <{self.current.tag}>"
        self.current = self.current.parent

    def handle_data(self, data):
        self.current.children.append(data)


def lookup(doc: dict, key: str):
    for part in key.split("."):
        doc = doc[part]
    return doc


def keyed_mismatches(page: Node, metrics: dict) -> tuple[int, list[str]]:
    """(how many keyed figures, the ones that disagree with metrics.json)."""
    spans = page.find_all("span", class_="n")
    keyed = [s for s in spans if "data-key" in s.attrs]
    bad = []
    for s in keyed:
        key, kind = s.attrs["data-key"], s.attrs["data-kind"]
        try:
            value = lookup(metrics, key)
        except (KeyError, TypeError):
            bad.append(f"{key}: not in metrics.json")
            continue
        if value is None:
            if "data-value" in s.attrs or s.text != fmt(None):
                bad.append(f"{key}: null in metrics.json, page shows {s.text!r}")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad.append(f"{key}: not a number in metrics.json ({value!r})")
            continue
        shown = float(s.attrs.get("data-value", "nan"))
        if not math.isclose(shown, value, rel_tol=1e-12, abs_tol=0.0):
            bad.append(f"{key}: data-value {shown!r} != {value!r}")
        if s.text != fmt(value, kind):
            bad.append(f"{key}: text {s.text!r} != {fmt(value, kind)!r}")
    return len(keyed), bad


def figures(node: Node) -> list[float | None]:
    """The raw values of the figures in `node`, in order (None for a blank one)."""
    return [float(s.attrs["data-value"]) if "data-value" in s.attrs else None
            for s in node.find_all("span", class_="n")]


# --- the run --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real backtest's --output folder with its report.html, and the bars it ran on."""
    import forecast.api as fc

    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("run") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_HOME", str(home))
        mp.setenv("FCAST_OFFLINE", "1")
        bars = fc.load("AAPL", source="bundled", home=home)
        result = fc.run_backtest(bars, model="logreg", strategy="long-only")
        result.write(folder, plot=False)
        write_report(folder)
    return folder, bars


@pytest.fixture(scope="module")
def built(run_dir):
    folder, _ = run_dir
    text = (folder / REPORT_FILE).read_text(encoding="utf-8")
    return text, Tree(text).root, json.loads((folder / "metrics.json").read_text())


def section(page: Node, sid: str) -> Node:
    return page.find("section", id=sid)


def copy_run(run_dir, tmp_path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(run_dir[0], folder)
    return folder


# --- the files the page needs ---------------------------------------------------------------------

@pytest.mark.slow
def test_the_run_writes_a_ledger_that_agrees_with_the_equity(run_dir):
    folder, _ = run_dir
    ledger = pd.read_csv(folder / "ledger.csv", index_col="date", parse_dates=["date"])
    equity = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=["date"])
    assert list(ledger.columns) == ["cash", "value", "position", "close"]
    assert ledger.index.equals(equity.index)
    np.testing.assert_allclose(ledger["value"], equity["strategy"], rtol=1e-12)
    # Value = cash + the position marked to the close, bar by bar.
    np.testing.assert_allclose(ledger["cash"] + ledger["position"] * ledger["close"], ledger["value"],
                               rtol=1e-9)
    assert (ledger["position"] != 0).any() and (ledger["position"] == 0).any()


def test_metrics_json_records_the_fcast_version_and_the_data(run_dir, built):
    from forecast.provenance import bars_fingerprint

    _, bars = run_dir
    _, page, metrics = built
    assert metrics["fcast_version"] == importlib.metadata.version("fcast")
    assert metrics["data"] == {"fingerprint": bars_fingerprint(bars), "source": "bundled"}
    header = page.find("header").text
    assert metrics["data"]["fingerprint"][:12] in header and "bundled" in header
    assert metrics["fcast_version"] in header


# --- the page -------------------------------------------------------------------------------------

def test_the_page_parses_and_has_every_section_in_order(built):
    _, page, _ = built
    ids = [s.attrs["id"] for s in page.find_all("section")]
    assert ids == SECTIONS
    assert [a.attrs["href"] for a in page.find("nav").find_all("a")] == [f"#{i}" for i in SECTIONS]
    assert page.find("body").attrs["data-kind"] == "backtest"


def test_every_keyed_figure_matches_metrics_json(built):
    _, page, metrics = built
    count, bad = keyed_mismatches(page, metrics)
    assert bad == []
    assert count >= 40
    keys = {s.attrs["data-key"] for s in page.find_all("span", class_="n") if "data-key" in s.attrs}
    both = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "exposure",
            "turnover")
    wanted = {f"{side}.{k}" for side in ("strategy", "benchmark") for k in both}
    wanted |= {f"strategy.{k}" for k in ("n_trades", "win_rate", "profit_factor", "avg_win", "avg_loss")}
    wanted |= {"forecast.accuracy", "forecast.accuracy_se", "forecast.majority_rate", "settings.cash",
               "settings.commission", "settings.slippage"}
    assert wanted <= keys
    # The key figures table holds both sides of each row, strategy first.
    table = section(page, "key-figures").find("table")
    sharpe = next(r for r in table.find_all("tr") if r.text.startswith("Sharpe"))
    assert figures(sharpe) == [metrics["strategy"]["sharpe"], metrics["benchmark"]["sharpe"]]


def test_the_verdict_is_the_project_statistics_of_equity_csv(run_dir, built):
    """Derived (unkeyed) figures of the verdict line: Sharpe SE, PSR vs 0, PSR vs buy-and-hold,
    recomputed here from equity.csv with forecast.stats."""
    from forecast.stats import probabilistic_sharpe_ratio, psr_vs_benchmark, sharpe_se

    _, page, metrics = built
    equity = pd.read_csv(run_dir[0] / "equity.csv", index_col="date", parse_dates=["date"])
    r = equity.pct_change().dropna()  # risk-free 0 in this run
    assert metrics["settings"]["risk_free"] == 0.0
    line = section(page, "verdict").find("p", class_="verdict")
    s, b = r["strategy"], r["benchmark"]
    expected = [metrics["strategy"]["sharpe"], sharpe_se(s), probabilistic_sharpe_ratio(s),
                metrics["benchmark"]["sharpe"], psr_vs_benchmark(s, b)]
    np.testing.assert_allclose(figures(line), expected, rtol=1e-12)
    conclusion = "beats buy-and-hold" if expected[4] > 0.95 else "no evidence the strategy beats buy-and-hold"
    assert conclusion in line.text
    assert re.search(r"Sharpe -?\d\.\d\d ± \d\.\d\d; PSR vs 0 \d\.\d\d", line.text)


def test_yearly_returns_match_an_independent_computation(run_dir, built):
    _, page, metrics = built
    equity = pd.read_csv(run_dir[0] / "equity.csv", index_col="date", parse_dates=["date"])
    # Each year compounds its own daily returns; the first year's start from the first value.
    daily = equity.pct_change().fillna(0.0)
    expected = (1 + daily).groupby(daily.index.year).prod() - 1
    rows = section(page, "yearly").find("tbody").find_all("tr")
    assert len(rows) == len(expected) + 1  # and the whole run
    for row, (year, want) in zip(rows, expected.iterrows(), strict=False):
        cells = row.find_all("td")
        assert cells[0].text.startswith(str(year))
        strategy, benchmark, difference = figures(row)
        assert strategy == pytest.approx(want["strategy"], rel=1e-9, abs=1e-12)
        assert benchmark == pytest.approx(want["benchmark"], rel=1e-9, abs=1e-12)
        assert difference == pytest.approx(want["strategy"] - want["benchmark"], rel=1e-9, abs=1e-12)
    assert "(partial)" in rows[0].text and "(partial)" in rows[-2].text  # April 2011 to November 2017
    total = (1 + expected["strategy"]).prod() - 1
    assert total == pytest.approx(metrics["strategy"]["total_return"], rel=1e-9)


def test_the_monthly_grid_compounds_to_the_yearly_returns(run_dir):
    from forecast.report import tables

    equity = pd.read_csv(run_dir[0] / "equity.csv", index_col="date", parse_dates=["date"])
    grid = tables.monthly_grid(equity["strategy"])
    months = (1 + grid.drop(columns="year").fillna(0.0)).prod(axis=1) - 1
    np.testing.assert_allclose(months, grid["year"], rtol=1e-9)
    assert grid.shape == (7, 13) and grid.loc[2011, [1, 2, 3]].isna().all()


def test_the_trade_list_matches_trades_csv(run_dir, built):
    _, page, metrics = built
    trades = pd.read_csv(run_dir[0] / "trades.csv", parse_dates=["entry_date", "exit_date"])
    listing = section(page, "trades").find("div", class_="scroll")
    rows = listing.find("tbody").find_all("tr")
    assert len(rows) == len(trades) == metrics["strategy"]["n_trades"] > 20
    for row, t in zip(rows, trades.itertuples(), strict=True):
        cells = [c.text for c in row.find_all("td")]
        assert cells[1:4] == [str(t.entry_date.date()), str(t.exit_date.date()), t.direction]
        ret, days, _bars = figures(row)
        assert ret == pytest.approx(t.pnl_net / (abs(t.size) * t.entry_price), rel=1e-12)
        assert days == (t.exit_date - t.entry_date).days
        assert (cells[-1] == "open") == bool(t.open)


def test_forecast_quality_agrees_with_the_scored_metrics(run_dir, built):
    """The per-year accuracies and the calibration bins, computed from predictions.csv, add
    up to what metrics.json says of all the forecasts."""
    from forecast.report import tables

    _, page, metrics = built
    preds = pd.read_csv(run_dir[0] / "predictions.csv", parse_dates=["date"])
    by_year = tables.accuracy_by_year(preds)
    fc = metrics["forecast"]
    assert by_year["n"].sum() == fc["n"]
    assert (by_year["accuracy"] * by_year["n"]).sum() / fc["n"] == pytest.approx(fc["accuracy"], rel=1e-12)
    bins = tables.calibration(preds)
    assert bins["n"].sum() == fc["n"] and len(bins) == 10
    assert (bins["freq"] * bins["n"]).sum() / fc["n"] == pytest.approx(fc["base_rate"], rel=1e-12)
    assert bins["prob"].is_monotonic_increasing
    rows = section(page, "forecast").find("table", class_="by-year").find("tbody").find_all("tr")
    assert [r.find("td").text for r in rows] == [str(y) for y in by_year.index]
    first = by_year.iloc[0][["n", "accuracy", "se", "majority", "difference"]].to_numpy(dtype=float)
    np.testing.assert_allclose(figures(rows[0]), first, rtol=1e-12)


def test_walk_forward_settings_are_listed(built):
    _, page, metrics = built
    cells = {r.find_all("td")[0].text: r.find_all("td")[1].text
             for r in section(page, "walk-forward").find("tbody").find_all("tr")}
    wf = metrics["walk_forward"]
    assert cells["window"] == str(wf["window"]) and cells["seed"] == str(wf["seed"])
    assert cells["label_definition"] == wf["label_definition"]
    assert cells["spec.return_lags"] == ", ".join(str(v) for v in wf["spec"]["return_lags"])


def external_references(text: str) -> list[str]:
    page = Tree(text).root
    bad = [m.group(0) for m in re.finditer(r"https?://", text)]
    for node in page.find_all():
        for attr in ("src", "href"):
            value = node.attrs.get(attr) or ""
            if value.startswith("//") or "://" in value:
                bad.append(f"<{node.tag} {attr}={value[:40]}>")
        if node.tag == "link" and "stylesheet" in (node.attrs.get("rel") or ""):
            bad.append("<link rel=stylesheet>")
        if node.tag == "script" and "src" in node.attrs:
            bad.append("<script src>")
    return bad


def test_the_page_reaches_for_nothing_outside_itself(built):
    text, _, _ = built
    assert external_references(text) == []


def test_every_chart_is_a_valid_png_and_the_page_is_small(run_dir, built):
    from PIL import Image

    text, page, _ = built
    images = page.find_all("img")
    assert {i.attrs["data-chart"] for i in images} == CHARTS and len(images) == len(CHARTS)
    assert text.count("data:image/png;base64,") == text.count("data-chart=") == len(CHARTS)
    for img in images:
        src = img.attrs["src"]
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.partition(",")[2], validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(raw)) as im:
            im.verify()
        with Image.open(io.BytesIO(raw)) as im:
            assert im.width >= 400 and im.height >= 200
            assert len(im.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20  # not blank
        assert img.attrs["alt"]
    assert (run_dir[0] / REPORT_FILE).stat().st_size < MAX_BYTES


def test_the_forecast_charts_are_full_width_and_not_squeezed_into_columns(built):
    """The reliability and accuracy-by-year charts were 5.2 in wide, shown in a grid of 270-px
    columns: about half their size, text unreadable. They are as wide as the equity chart
    now and sit in no grid, so the page shows them at their own size (at most 100%)."""
    from PIL import Image

    _, page, _ = built

    def width(name: str) -> int:
        img = page.find("img", data_chart=name)
        with Image.open(io.BytesIO(base64.b64decode(img.attrs["src"].partition(",")[2]))) as im:
            return im.width

    for name in ("calibration", "accuracy-by-year"):
        assert width(name) == width("equity") == 960, name
        node = page.find("img", data_chart=name)
        while node is not None:
            assert "grid" not in node.attrs.get("class", "").split(), f"{name} sits in a grid"
            node = node.parent


def test_an_older_run_without_ledger_or_forecasts_still_gets_its_page(run_dir, tmp_path):
    folder = copy_run(run_dir, tmp_path)
    (folder / "ledger.csv").unlink()
    metrics = json.loads((folder / "metrics.json").read_text())
    for key in ("forecast", "walk_forward", "fcast_version", "data"):
        del metrics[key]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    page = Tree(write_report(folder).read_text()).root
    assert [s.attrs["id"] for s in page.find_all("section")] == SECTIONS
    assert "ledger.csv is not in this folder" in section(page, "exposure").text
    assert "No forecasts were scored" in section(page, "forecast").text
    assert "no walk-forward settings" in section(page, "walk-forward").text
    assert "unknown (older run)" in page.find("header").text
    assert {i.attrs["data-chart"] for i in page.find_all("img")} == CHARTS - {"exposure", "calibration",
                                                                                "accuracy-by-year"}
    count, bad = keyed_mismatches(page, metrics)
    assert bad == [] and count >= 30


@pytest.mark.slow
def test_a_run_without_trades_gets_its_page(run_dir, tmp_path):
    folder = copy_run(run_dir, tmp_path)
    trades = pd.read_csv(folder / "trades.csv")
    trades.iloc[:0].to_csv(folder / "trades.csv", index=False)
    page = Tree(write_report(folder).read_text()).root
    assert "made no trades" in section(page, "trades").text


@pytest.mark.parametrize("damage", ["metrics", "html"])
def test_the_figure_check_catches_a_wrong_figure(run_dir, built, tmp_path, damage):
    """The checks above can fail: a figure that disagrees with metrics.json is reported."""
    text, _, metrics = built
    metrics = json.loads(json.dumps(metrics))
    if damage == "metrics":  # the file says one thing, the page another
        metrics["strategy"]["sharpe"] *= 1.0 + 1e-9
    else:  # the page's text no longer says what its value is
        text, n = re.subn(r'(data-key="benchmark\.cagr"[^>]*>)([^<]*)<', r"\g<1>\g<2>0<", text, count=1)
        assert n == 1
    _, bad = keyed_mismatches(Tree(text).root, metrics)
    assert bad and all(("strategy.sharpe" if damage == "metrics" else "benchmark.cagr") in b for b in bad)


def test_the_url_check_catches_an_external_reference(built):
    text, _, _ = built
    assert external_references(text.replace("</body>", '<img src="//cdn.example/x.png"></body>')) != []
    assert external_references(text.replace("</head>", '<link rel="stylesheet" href="s.css"></head>')) != []
