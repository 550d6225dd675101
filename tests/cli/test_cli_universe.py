"""`fcast universe ...` as a user runs it: one summary, one line on failure, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest
from cli_run import run

from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars


def universe_files(tmp_path):
    frames = []
    for i, ticker in enumerate(("AAA", "BBB", "CCC", "DDD")):
        bars = random_walk_bars(600, seed=i, start="2001-01-02").reset_index()
        bars.insert(0, "Symbol", ticker)
        frames.append(bars)
    frames[3].loc[5, "high"] = 0.001  # DDD: refused
    frames[2].loc[100:, ["open", "high", "low", "close"]] *= 3  # CCC: an extreme move, kept
    pd.concat(frames).to_csv(tmp_path / "bars.csv", index=False)
    (tmp_path / "m.csv").write_text("year,rank,ticker,dollar_volume\n2001,1,AAA,5\n2001,2,BBB,4\n"
                                    "2002,1,BBB,5\n2002,2,CCC,4\n2003,1,ZZZ,9\n")
    return tmp_path / "bars.csv", tmp_path / "m.csv"


def test_import_prints_one_summary(capsys, tmp_path):
    bars, members = universe_files(tmp_path)
    code, out, err = run(capsys, "universe", "import", "mine", bars, "--membership", members)
    assert code == 0, err
    assert "imported universe mine: 3 tickers, 1,800 bars, 2001-01-02 to 2003-04-21" in out
    assert "membership: by calendar year" in out
    assert "refused 1 ticker:\n  DDD: high below max(open, close) on 2001-01-09" in out
    assert "warning: extreme move: 1 ticker (CCC)" in out
    assert "warning: 1 member without bars: ZZZ" in out
    assert sorted(i.ticker for i in Store().list()) == ["AAA", "BBB", "CCC"]


@pytest.mark.slow
def test_list_show_check(capsys, tmp_path):
    bars, members = universe_files(tmp_path)
    assert run(capsys, "universe", "import", "mine", bars, "--membership", members)[0] == 0
    code, out, _ = run(capsys, "universe", "list")
    assert code == 0 and "dow30" in out and "mine" in out and "2001-2003" in out
    code, out, _ = run(capsys, "universe", "show", "mine")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("│ 200")]
    # 2001: AAA and BBB are members 365 days each, their bars start on Jan 2: 728 / 730
    assert [[c.strip() for c in r.split("│")[1:5]] for r in rows] == [
        ["2001", "2", "2", f"{728 / 730:.1%}"], ["2002", "2", "2", "100.0%"], ["2003", "1", "0", "0.0%"]]
    code, out, _ = run(capsys, "universe", "show", "mine", "--year", "2002")
    assert code == 0 and "2 members in 2002" in out and "│ BBB " in out and "│ AAA " not in out
    code, out, _ = run(capsys, "universe", "check", "mine")
    assert code == 0
    assert "extreme move: 1 ticker\n  warning: CCC: 1 one-day close move" in out
    assert "ZZZ: a member without bars" in out and "DDD: high below" in out


def test_bad_input_is_one_line_and_writes_nothing(capsys, tmp_path):
    bars, _ = universe_files(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("year,who\n2001,AAA\n")
    code, _, err = run(capsys, "universe", "import", "mine", bars, "--membership", bad)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: membership file bad.csv: needs the columns")
    assert Store().list() == []
    code, _, err = run(capsys, "universe", "show", "nope")
    assert code == 1 and err.startswith("error: unknown universe 'nope' (known: dow30, bundled)")
    code, _, err = run(capsys, "universe", "import", "mine", tmp_path / "missing.parquet")
    assert code == 1 and "file not found" in err and err.count("\n") == 1


@pytest.mark.slow
def test_show_bundled_dow30(capsys):
    code, out, _ = run(capsys, "universe", "show", "dow30", "--year", "2017")
    assert code == 0 and "30 members in 2017" in out and "survivorship-biased" in out
