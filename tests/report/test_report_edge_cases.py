"""report.html of unusual but valid runs: a strategy that never trades, a baseline model with
one probability, equity that reaches 0, thousands of trades, older or hand-made files.

Two cheap real backtests (the majority baseline on bundled KO, 60 test days) are written
once for the module; each test damages a copy of one, as a user's run would differ, and
checks that the page still builds, parses, keeps every section and says what happened.
"""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.charts import backtest as charts
from forecast.report import build_report, tables
from forecast.report.backtest_page import MAX_LISTED

BACKTEST_SECTIONS = ["key-figures", "verdict", "equity", "drawdown", "exposure", "monthly", "yearly",
                     "rolling-sharpe", "distribution", "trades", "forecast", "walk-forward"]
EXPERIMENT_SECTIONS = ["summary", "verdict", "ranked", "heatmap", "curves"]


def _cli(root: Path, *args) -> int:
    from forecast.cli.app import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        mp.setenv("FCAST_HOME", str(root / "home"))
        return main(["--home", str(root / "home"), *map(str, args)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{"trades": a run that is long from its first bar on, "idle": one that never trades
    (threshold 0.99)}: the majority baseline forecasts one probability per fold."""
    root = tmp_path_factory.mktemp("edge_runs")
    common = ["KO", "--source", "bundled", "--model", "majority", "--start", "2016-01-01",
              "--test-days", "60"]
    assert _cli(root, "backtest", *common, "--output", root / "trades") == 0
    assert _cli(root, "backtest", *common, "--param", "threshold=0.99", "--output", root / "idle") == 0
    return {"trades": root / "trades", "idle": root / "idle"}


def copy_of(runs, name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(runs[name], folder)
    return folder


def edit_metrics(folder: Path, change) -> None:
    path = folder / "metrics.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


# --- a strict parse of the page: every element closes, in order --------------------------------

class Page(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "input", "link"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self.current: str | None = None
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed: {self.stack}"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.ids.append(self.current)
            self.sections[self.current] = []
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.sections[self.current].append(data)

    def text(self, section: str) -> str:
        return " ".join("".join(self.sections[section]).split())


def built(folder: Path, sections=BACKTEST_SECTIONS) -> tuple[str, Page]:
    text = build_report(folder)
    page = Page(text)
    assert page.ids == sections
    return text, page


# --- backtests ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_strategy_that_never_trades(runs):
    metrics = json.loads((runs["idle"] / "metrics.json").read_text())
    assert metrics["strategy"]["n_trades"] == 0 and metrics["strategy"]["sharpe"] is None
    _, page = built(runs["idle"])
    assert "made no trades" in page.text("trades")
    assert "Sharpe – ± –" in page.text("verdict")
    assert "invested on 0.00% of bars" in page.text("exposure")


def test_a_baseline_with_one_probability_gets_one_calibration_point(runs):
    # The majority baseline forecasts its training base rate: one value per fold. Equal-count
    # bins used to split those ties in date order into 10 points that mean nothing.
    predictions = pd.read_csv(runs["trades"] / "predictions.csv", parse_dates=["date"])
    scored = tables.scored(predictions)
    table = tables.calibration(predictions)
    assert len(table) == scored["prob_up"].nunique() < 10
    assert table["n"].sum() == len(scored)
    for row in table.itertuples():
        same = scored[scored["prob_up"] == row.low]
        assert row.low == row.high and row.n == len(same)
        assert row.freq == pytest.approx(same["actual_up"].mean())
    built(runs["trades"])


def test_a_constant_forecast_is_one_calibration_bin(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    predictions = pd.read_csv(folder / "predictions.csv")
    predictions.assign(prob_up=0.5).to_csv(folder / "predictions.csv", index=False)
    table = tables.calibration(pd.read_csv(folder / "predictions.csv", parse_dates=["date"]))
    assert len(table) == 1 and table["n"].iloc[0] == predictions["actual_up"].notna().sum()
    built(folder)


def test_a_short_run_has_several_equity_labels(runs):
    # 60 bars within a few percent: a log axis ticked at 1..9 x 10^k labels one value at most.
    equity = pd.read_csv(runs["trades"] / "equity.csv", index_col="date", parse_dates=["date"])
    assert equity.max().max() / equity.min().min() < 1.5
    ax = charts.equity(equity, None).axes[0]
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    shown = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert ax.get_yscale() == "log" and len(shown) >= 3


def test_equity_that_reaches_zero_is_drawn_on_a_linear_scale(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    equity = pd.read_csv(folder / "equity.csv", index_col="date")
    equity.iloc[len(equity) // 2:, equity.columns.get_loc("strategy")] = 0.0
    equity.to_csv(folder / "equity.csv")
    _, page = built(folder)
    assert "linear scale" in page.text("equity")
    curves = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=["date"])
    assert charts.equity(curves, None).axes[0].get_yscale() == "linear"


@pytest.mark.slow
def test_thousands_of_trades_are_listed_up_to_a_cap(runs, tmp_path):
    # A strategy flipping daily over the bundled decades makes ~12,000 trades: listed one by
    # one they took the page past 5 MB.
    folder = copy_of(runs, "trades", tmp_path)
    trades = pd.read_csv(folder / "trades.csv")
    n = MAX_LISTED + 500
    pd.concat([trades] * n, ignore_index=True).to_csv(folder / "trades.csv", index=False)
    text, page = built(folder)
    listing = text[text.index('<table class="trades">'):text.index("</table>", text.index('class="trades"'))]
    assert listing.count("<tr>") == MAX_LISTED + 1  # and the header
    assert f"first {MAX_LISTED:,} of the {n:,} trades" in page.text("trades")


@pytest.mark.slow
def test_only_an_open_trade(runs):
    trades = pd.read_csv(runs["trades"] / "trades.csv")
    assert len(trades) == 1 and bool(trades["open"].iloc[0])
    text, page = built(runs["trades"])
    assert "open" in page.text("trades") and "exit (0)" not in text


@pytest.mark.slow
def test_an_empty_predictions_file(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    pd.read_csv(folder / "predictions.csv").iloc[:0].to_csv(folder / "predictions.csv", index=False)
    _, page = built(folder)
    assert "no forecast has a known outcome" in page.text("forecast")


def test_forecasts_whose_outcomes_are_all_unknown(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    predictions = pd.read_csv(folder / "predictions.csv")
    predictions.assign(actual_up=np.nan).to_csv(folder / "predictions.csv", index=False)
    _, page = built(folder)
    assert "no forecast has a known outcome" in page.text("forecast")


def test_an_equity_column_without_values(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    equity = pd.read_csv(folder / "equity.csv", index_col="date")
    equity.assign(benchmark=np.nan).to_csv(folder / "equity.csv")
    _, page = built(folder)
    assert "whole run" in page.text("yearly")


def test_hand_supplied_predictions_are_not_called_no_forecasts(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)
    edit_metrics(folder, lambda m: (m.update(model=None), m.pop("walk_forward")))
    text, page = built(folder)
    header = text[text.index("<header>"):text.index("</header>")]
    assert "supplied by hand" in header and "no forecasts" not in header
    assert "no walk-forward settings" in page.text("walk-forward")


def test_an_older_run_missing_keys_and_ledger(runs, tmp_path):
    folder = copy_of(runs, "idle", tmp_path)
    edit_metrics(folder, lambda m: [m.pop(k) for k in ("data", "fcast_version", "forecast", "walk_forward",
                                                       "settings", "engine", "first_trade")])
    (folder / "ledger.csv").unlink()
    text, page = built(folder)
    assert "unknown (older run)" in text and "not recorded" in text
    assert "ledger.csv is not in this folder" in page.text("exposure")
    assert "No forecasts were scored" in page.text("forecast")


def test_html_in_names_and_parameters_is_escaped(runs, tmp_path):
    folder = copy_of(runs, "trades", tmp_path)

    def evil(m):
        m["ticker"] = "<b>BRK.B&</b>"
        m["model"] = 'x"<y>'
        m["strategy"]["params"]["note"] = "<script>alert(1)</script>"

    edit_metrics(folder, evil)
    text, _ = built(folder)
    assert "<script>alert" not in text and "<b>BRK" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;BRK.B&amp;&lt;/b&gt;" in text


# --- experiments ---------------------------------------------------------------------------------

def test_an_experiment_where_every_configuration_failed(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "all fail"\ntickers = ["ZZZZ", "YYYY"]\n\n[[models]]\nname = "majority"\n')
    assert _cli(tmp_path, "experiment", "run", spec, "--source", "bundled", "--output", tmp_path / "out") == 1
    _, page = built(tmp_path / "out", EXPERIMENT_SECTIONS)
    assert "2 failed" in page.text("ranked")
    assert "nothing to average" in page.text("heatmap")
    assert "No configuration left an equity.csv" in page.text("curves")
