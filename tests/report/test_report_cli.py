"""`fcast report RUN_ID_OR_DIR`: the page rebuilt from a run's files alone, the same bytes as
the run wrote, with nothing else touched; a recorded run by id; bad input in one line."""

from __future__ import annotations

import json
import shutil

import pytest

from forecast.cli.app import main


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["backtest", "experiment", "portfolio"])
def test_rebuilt_page_equals_the_one_the_run_wrote(kind, request, tmp_path, capsys):
    source = request.getfixturevalue(f"{kind}_output")
    folder = tmp_path / kind / source.name  # the page names its folder
    shutil.copytree(source, folder)
    written = (folder / "report.html").read_bytes()
    (folder / "report.html").unlink()
    before = _files(folder)
    assert main(["report", str(folder)]) == 0
    assert f"wrote {folder / 'report.html'}" in capsys.readouterr().out
    assert (folder / "report.html").read_bytes() == written  # same files, same page
    after = _files(folder)
    del after["report.html"]
    assert after == before  # nothing else read-write touched


@pytest.mark.slow
def test_a_recorded_run_by_id_prefix(backtest_output, tmp_path, capsys, monkeypatch):
    """A backtest recorded under runs/<id> (no report.html there) gets its page by id."""
    from forecast.runs import list_runs

    home = tmp_path / "home"
    assert main(["--home", str(home), "backtest", "KO", "--source", "bundled", "--model", "logreg",
                 "--start", "2014-01-01"]) == 0
    (run,) = list_runs(home)
    capsys.readouterr()
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert main(["--home", str(home), "report", run["id"][:12], "--open"]) == 0
    page = f"{run['path']}/report.html"
    assert capsys.readouterr().out.strip() == f"wrote {page}"
    text = open(page, encoding="utf-8").read()
    metrics = json.loads(open(f"{run['path']}/metrics.json").read())
    assert 'data-kind="backtest"' in text and metrics["ticker"] == "KO" and "KO" in text
    assert opened == [f"file://{page}"]


@pytest.mark.parametrize("args, message", [
    (["report", "no/such/folder"], "error: no such folder: no/such/folder"),
    (["report", "nosuchid"], "error: no run 'nosuchid'"),
])
def test_bad_run_is_one_line(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_a_folder_without_a_run_and_bad_axes_are_one_line(tmp_path, backtest_output, experiment_output,
                                                         capsys):
    assert main(["report", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path} holds no run: no metrics.json or experiment.json\n"
    assert main(["report", str(backtest_output), "--axes", "strategy,cost"]) == 1
    assert capsys.readouterr().err == "error: --axes applies to experiments only\n"
    assert main(["report", str(experiment_output), "--axes", "strategy"]) == 1
    assert "--axes takes two comma-separated axes" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind, names", [
    ("backtest", {"strategy": "strategy", "benchmark": "buy-and-hold"}),
    ("portfolio", {"strategy": "strategy", "benchmark": "equal-weight B&H", "market": "SPY B&H"}),
])
def test_the_interactive_chart_carries_the_equity_file(kind, names, request):
    """The zoomable chart's inline data is equity.csv: every date, every value to the cent."""
    import re

    import numpy as np
    import pandas as pd

    folder = request.getfixturevalue(f"{kind}_output")
    text = (folder / "report.html").read_text()
    (payload,) = re.findall(r"fcastLineChart\(document\.getElementById\('chart-equity-interactive'\), "
                            r"(\{.*?\})\);</script>", text)
    data = json.loads(payload)
    equity = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=True)
    assert data["dates"] == [int(t.value // 1_000_000) for t in equity.index]
    assert data["log"] is True
    columns = [c for c in names if c in equity]
    assert [s["name"] for s in data["series"]] == [names[c] for c in columns]
    for series, column in zip(data["series"], columns, strict=True):
        values = np.array([np.nan if v is None else v for v in series["values"]], dtype=float)
        np.testing.assert_allclose(values, equity[column].to_numpy(), atol=0.005, rtol=0)
