"""`fcast portfolio` end to end on bundled tickers: the files it writes agree with its JSON,
with each other, and with independent computations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecast.cli.app import main

TICKERS = ["KO", "MSFT", "AAPL", "IBM", "XOM"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # Module-scoped, so conftest's per-test home and offline switch are not in place yet.
    root = tmp_path_factory.mktemp("portfolio")
    folder = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        code = main(["--home", str(root / "home"), "portfolio", *TICKERS, "--source", "bundled",
                     "--start", "2013-01-01", "--model", "logreg", "--strategy", "long-short",
                     "--param", "k=1", "--test-days", "252", "--output", str(folder), "--json"])
    return code, folder, root / "home"


@pytest.mark.slow
def test_portfolio_writes_every_file(run):
    code, folder, _ = run
    assert code == 0
    for name in ("metrics.json", "equity.csv", "weights.csv", "trades.csv", "predictions.csv", "ic.csv"):
        assert (folder / name).is_file(), name
    weights = pd.read_csv(folder / "weights.csv", index_col="date")
    assert sorted(weights.columns) == sorted(TICKERS)
    preds = pd.read_csv(folder / "predictions.csv")
    assert list(preds.columns) == ["date", "ticker", "prob_up", "realised_return"]


def test_metrics_agree_with_the_equity_file(run):
    _, folder, _ = run
    doc = json.loads((folder / "metrics.json").read_text())
    equity = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=True)
    for column, key in (("strategy", "strategy"), ("benchmark", "benchmark"), ("market", "market")):
        series = equity[column]
        assert doc[key]["total_return"] == pytest.approx(series.iloc[-1] / series.iloc[0] - 1, rel=1e-9)
    r = equity["strategy"].pct_change().dropna()
    assert doc["strategy"]["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(252), rel=1e-6)


def test_ic_file_matches_an_independent_rank_correlation(run):
    _, folder, _ = run
    preds = pd.read_csv(folder / "predictions.csv", parse_dates=["date"])
    ic = pd.read_csv(folder / "ic.csv", index_col="date", parse_dates=True)
    day = ic["rank_ic"].dropna().index[10]
    rows = preds[preds["date"] == day].dropna()
    expected = rows["prob_up"].rank().corr(rows["realised_return"].rank())
    assert ic.at[day, "rank_ic"] == pytest.approx(expected, abs=1e-12)
    doc = json.loads((folder / "metrics.json").read_text())
    assert doc["ic"]["mean_rank_ic"] == pytest.approx(ic["rank_ic"].mean(), abs=1e-12)


def test_dollar_neutral_long_short_weights(run):
    _, folder, _ = run
    weights = pd.read_csv(folder / "weights.csv", index_col="date")
    held = weights[(weights != 0).any(axis=1)]
    # One long and one short name, close to +-0.5 of the value (prices move within the day).
    assert (held.gt(0).sum(axis=1) <= 1).all() and (held.lt(0).sum(axis=1) <= 1).all()
    assert held.sum(axis=1).abs().max() < 0.2


def test_bad_input_is_one_line(capsys):
    assert main(["portfolio", "KO", "--universe", "dow30"]) != 0
    assert main(["portfolio", "KO", "MSFT", "--strategy", "nope"]) != 0
    assert main(["portfolio", "KO", "MSFT", "--target", "up"]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3


def test_the_run_is_recorded(run, capsys):
    from forecast.runs import list_runs

    _, folder, home = run
    (doc,) = list_runs(home)
    assert doc["kind"] == "portfolio" and doc["universe"] == TICKERS
    recorded = json.loads((folder / "metrics.json").read_text())
    assert doc["metrics"]["strategy"]["sharpe"] == recorded["strategy"]["sharpe"]
    assert main(["--home", str(home), "runs", "list"]) == 0
    assert "portfolio long-short" in capsys.readouterr().out


def test_top_minus_bottom_matches_a_pandas_computation():
    from forecast.portfolio.run import top_minus_bottom

    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2015-01-01", periods=60)
    prob = pd.DataFrame(rng.uniform(size=(60, 7)), index=idx, columns=list("ABCDEFG"))
    realized = pd.DataFrame(rng.normal(0, 0.01, size=(60, 7)), index=idx, columns=list("ABCDEFG"))
    prob.iloc[::7, 2] = np.nan
    realized.iloc[::5, 4] = np.nan
    spreads = []
    for date in idx:
        both = pd.concat([prob.loc[date], realized.loc[date]], axis=1, keys=["p", "r"]).dropna()
        ranked = both.sort_values("p", ascending=False)
        spreads.append(ranked["r"].iloc[:2].mean() - ranked["r"].iloc[-2:].mean())
    s = pd.Series(spreads)
    out = top_minus_bottom(prob, realized, 2)
    assert out["n_days"] == 60
    assert out["mean"] == pytest.approx(s.mean(), abs=1e-15)
    assert out["t_stat"] == pytest.approx(s.mean() / s.std(ddof=1) * np.sqrt(60), rel=1e-12)


@pytest.mark.slow
def test_a_repeated_portfolio_reads_its_forecasts_from_the_cache(run, tmp_path, capsys, count_calls):
    """The same command on the same data trains nothing and prints the same figures;
    --no-cache trains again."""
    import shutil

    from forecast.evaluate import pooled

    _, folder, home = run
    shutil.copytree(home / "cache", tmp_path / "home" / "cache")  # the first run's cache, no records
    args = ["--home", str(tmp_path / "home"), "portfolio", *TICKERS, "--source", "bundled",
            "--start", "2013-01-01", "--model", "logreg", "--strategy", "long-short", "--param", "k=1",
            "--test-days", "252", "--json"]
    calls = count_calls(pooled, "portfolio_walk_forward")
    capsys.readouterr()
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert calls == []
    first = json.loads((folder / "metrics.json").read_text())
    assert again["strategy"] == first["strategy"] and again["ic"] == first["ic"]
    assert main([*args[:-1], "--no-cache"]) == 0
    assert len(calls) == 1
