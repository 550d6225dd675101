"""End to end through `fcast portfolio --universe`: a universe imported with a membership
file, then the same universe with one ticker's bars changed after a date D. Nothing dated
D or earlier may move (forecasts, targets, weights), and no non-member ever holds a weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_run import run

from forecast.data.synthetic import random_walk_bars
from forecast.data.universe_import import import_universe

pytestmark = pytest.mark.slow

TICKERS = ("AAA", "BBB", "CCC", "DDD", "EEE")
# BBB leaves for six weeks inside the test span; AAA joins in it.
MEMBERSHIP = ("ticker,start,end\nAAA,2003-06-16,\nBBB,2001-01-01,2003-05-31\nBBB,2003-07-15,\n"
              "CCC,2001-01-01,\nDDD,2001-01-01,\nEEE,2001-01-01,\n")
D = pd.Timestamp("2003-07-01")


def member(day, ticker) -> bool:
    """MEMBERSHIP, by hand."""
    if ticker == "BBB":
        return not (pd.Timestamp("2003-06-01") <= day <= pd.Timestamp("2003-07-14"))
    return ticker != "AAA" or day >= pd.Timestamp("2003-06-16")


def import_into(folder, home, perturb: str | None) -> None:
    frames = []
    for i, ticker in enumerate(TICKERS):
        one = random_walk_bars(700, seed=i, start="2001-01-02")
        if ticker == perturb:
            later = one.index > D
            scale = np.random.default_rng(9).uniform(0.6, 1.6, later.sum())
            for col in ("open", "high", "low", "close"):
                one.loc[later, col] = one.loc[later, col].to_numpy() * scale
            one.loc[later, "volume"] = one.loc[later, "volume"].to_numpy() * 3
        one = one.reset_index()
        one.insert(0, "ticker", ticker)
        frames.append(one)
    folder.mkdir()
    pd.concat(frames).to_parquet(folder / "bars.parquet", index=False)
    (folder / "members.csv").write_text(MEMBERSHIP)
    import_universe("held", folder / "bars.parquet", folder / "members.csv", home=home)


def portfolio(capsys, home, out):
    code, _, err = run(capsys, "--home", home, "portfolio", "--universe", "held", "--model", "logreg",
                       "--strategy", "long-short", "--param", "k=1", "--test-days", "150",
                       "--retrain-every", "50", "--commission", "0.001", "--output", out)
    assert code == 0, err
    read = {name: pd.read_csv(out / f"{name}.csv", parse_dates=["date"])
            for name in ("weights", "predictions")}
    return read["weights"].set_index("date"), read["predictions"].set_index(["date", "ticker"])


def test_a_perturbation_after_d_moves_nothing_dated_d_or_before(tmp_path, capsys):
    import_into(tmp_path / "a", tmp_path / "home_a", perturb=None)
    import_into(tmp_path / "b", tmp_path / "home_b", perturb="CCC")
    wa, pa = portfolio(capsys, tmp_path / "home_a", tmp_path / "out_a")
    wb, pb = portfolio(capsys, tmp_path / "home_b", tmp_path / "out_b")

    pd.testing.assert_frame_equal(wa.loc[:D], wb.loc[:D])
    early = pa.index.get_level_values("date") <= D
    # prob_up only: the realised return and the label of a decision at t are outcomes
    # (opens after t), written beside it for scoring.
    pd.testing.assert_series_equal(pa.loc[early, "prob_up"], pb.loc[early, "prob_up"])
    assert not pa.loc[~early, "prob_up"].equals(pb.loc[~early, "prob_up"])
    assert wa.loc[:D].abs().to_numpy().sum() > 0  # something was held before D
    # The perturbation reached what came after D (the check is not vacuous).
    assert not wa.loc[D:].iloc[1:].equals(wb.loc[D:].iloc[1:])

    for weights in (wa, wb):
        held = [(d, t) for d, row in weights.iterrows() for t, w in row.items() if abs(w) > 1e-12]
        assert held and all(member(d, t) for d, t in held)
    # AAA and BBB trade while members, so the check above saw them.
    assert (wa["AAA"].abs() > 0).any()


def test_the_check_catches_a_planted_read_ahead(tmp_path, capsys, monkeypatch):
    """The engine fed the probabilities of five days later: weights dated before D move."""
    import forecast.portfolio.engine as engine

    real = engine.run_portfolio
    def leaky(bars, prob, *args, **kwargs):
        return real(bars, prob.shift(-5), *args, **kwargs)

    monkeypatch.setattr(engine, "run_portfolio", leaky)
    import_into(tmp_path / "a", tmp_path / "home_a", perturb=None)
    import_into(tmp_path / "b", tmp_path / "home_b", perturb="CCC")
    wa, _ = portfolio(capsys, tmp_path / "home_a", tmp_path / "out_a")
    wb, _ = portfolio(capsys, tmp_path / "home_b", tmp_path / "out_b")
    assert not wa.loc[:D].equals(wb.loc[:D])
