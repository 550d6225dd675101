"""Portfolios and the minimum fee (issue 20, items 7, 9, 13): orders whose fee is too large
a share of their value are skipped and counted, the rebalance band and the fee share can be
set from the command line and from experiment specs, a k the universe cannot fill is
refused, and the costs show as the drag they are."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from test_portfolio_engine import resimulate, universe

from forecast.cli.app import main
from forecast.errors import ConfigError
from forecast.experiment.spec import ExperimentSpec
from forecast.portfolio.engine import run_portfolio
from strategies.portfolio import LongShort, TopK

DUST = {"cash": 20_000.0, "commission": 0.002, "slippage": 0.002, "min_commission": 5.0}


@pytest.mark.slow
@pytest.mark.parametrize("share", [1.0, 0.5, 0.01])
def test_no_fill_pays_a_fee_above_the_stated_share(share):
    bars, prob = universe(seed=2)
    got = run_portfolio(bars, prob, LongShort, {"k": 2}, max_fee_share=share, **DUST)
    want = resimulate(bars, prob, LongShort, {"k": 2}, fee_share=share, **DUST)
    fills = got.fills
    assert len(fills) > 0
    assert (fills["commission"] <= share * fills["value"] * (1 + 1e-9)).all()
    # the skipped orders, counted by an independent re-simulation of the same rules
    assert got.metrics["strategy"]["orders_skipped_costs"] == want["skipped"]
    np.testing.assert_allclose(got.equity["strategy"], want["equity"]["strategy"], rtol=1e-9)
    if share < 1.0:
        assert want["skipped"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("cls, params", [(TopK, {"k": 3}), (LongShort, {"k": 2})])
def test_a_fee_share_equal_to_the_commission_skips_nothing(cls, params):
    # Without a minimum every fee is exactly the commission's share of its order: a stated share
    # equal to it lets every order through (floating-point rounding must not pick some to skip).
    bars, prob = universe(seed=2)
    costs = {"cash": 20_000.0, "commission": 0.001, "slippage": 0.002}
    at_share = run_portfolio(bars, prob, cls, params, max_fee_share=0.001, **costs)
    free = run_portfolio(bars, prob, cls, params, **costs)
    assert at_share.metrics["strategy"]["orders_skipped_costs"] == 0
    pd.testing.assert_frame_equal(at_share.fills, free.fills)
    want = resimulate(bars, prob, cls, params, fee_share=0.001, **costs)
    assert want["skipped"] == 0 and len(want["fills"]) == len(at_share.fills)


def test_without_the_rule_dust_pays_the_minimum():
    # What the issue saw: at 1% of value, fills under $500 would pay the $5 minimum.
    bars, prob = universe(seed=2)
    got = run_portfolio(bars, prob, LongShort, {"k": 2}, **DUST)
    assert (got.fills["value"] < 500).any()
    strict = run_portfolio(bars, prob, LongShort, {"k": 2}, max_fee_share=0.01, **DUST)
    assert (strict.fills["value"] >= 500 * (1 - 1e-9)).all()


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5, True])
def test_a_fee_share_that_cannot_be_meant_is_refused(share):
    bars, prob = universe()
    with pytest.raises(ConfigError, match="max_fee_share"):
        run_portfolio(bars, prob, TopK, {"k": 2}, max_fee_share=share)


SPEC = {
    "tickers": ["KO", "MSFT", "IBM"],
    "models": [{"name": "logreg"}],
    "portfolios": [{"name": "long-short", "params": {"k": 1}, "rebalance_band": 0.02}],
}


def test_the_band_round_trips_through_an_experiment_spec():
    spec = ExperimentSpec.from_dict(SPEC)
    (config,) = spec.expanded_portfolios()
    assert config.rebalance_band == 0.02 and "band 0.02" in config.label
    again = ExperimentSpec.from_dict({**spec.to_dict(), "tickers": SPEC["tickers"]})
    assert again.expanded_portfolios() == spec.expanded_portfolios()
    assert spec.to_dict()["portfolios"][0]["rebalance_band"] == 0.02
    with pytest.raises(ConfigError, match="rebalance_band"):
        ExperimentSpec.from_dict({**SPEC, "portfolios": [{"name": "top-k", "rebalance_band": 1.5}]})


def test_a_spec_k_the_universe_cannot_fill_is_refused():
    spec = {**SPEC, "portfolios": [{"name": "long-short", "params": {"k": [1, 2]}}]}
    with pytest.raises(ConfigError, match="needs 4 tickers, the universe has 3"):
        ExperimentSpec.from_dict(spec)


@pytest.mark.slow
def test_cli_refuses_a_k_the_universe_cannot_fill(tmp_path, capsys):
    code = main(["--home", str(tmp_path), "portfolio", "KO", "MSFT", "IBM", "--source", "bundled",
                 "--param", "k=5"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "LongShort with k=5 needs 10 tickers, the universe has 3" in err


@pytest.fixture(scope="module")
def banded(tmp_path_factory):
    root = tmp_path_factory.mktemp("banded")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("FCAST_OFFLINE", "1")
        code = main(["--home", str(root / "home"), "portfolio", "KO", "MSFT", "AAPL", "IBM", "--source",
                     "bundled", "--start", "2014-01-01", "--param", "k=1", "--test-days", "252",
                     "--min-commission", "5", "--cash", "20000", "--rebalance-band", "0.001",
                     "--max-fee-share", "0.05", "--output", str(root / "out")])
    return code, root / "out", printed.getvalue()


@pytest.mark.slow
def test_cli_options_round_trip_into_the_run(banded):
    code, folder, _ = banded
    assert code == 0
    doc = json.loads((folder / "metrics.json").read_text())
    assert doc["settings"]["rebalance_band"] == 0.001 and doc["settings"]["max_fee_share"] == 0.05
    fills = pd.read_csv(folder / "trades.csv")
    assert len(fills) and (fills["commission"] <= 0.05 * fills["value"] * (1 + 1e-9)).all()


def test_skipped_orders_and_costs_are_reported(banded):
    _, folder, printed = banded
    doc = json.loads((folder / "metrics.json").read_text())
    skipped, costs = doc["strategy"]["orders_skipped_costs"], doc["legs"]["costs"]
    assert skipped > 0 and costs > 0
    # the rule in force is --max-fee-share 0.05, not "the fee would exceed the order's value"
    assert f"orders skipped for costs: {skipped} (fees above 5% of their value)" in printed
    assert f"costs -{costs:.2%}" in printed  # the legs line, costs as the drag they are
    page = (folder / "report.html").read_text()
    assert f"-{costs:.2%}" in page and f"+{costs:.2%}" not in page


@pytest.mark.slow
def test_dust_paying_the_minimum_fee_is_warned_of(tmp_path, capsys):
    """With the default fee share (1), dust still pays the minimum fee: a warning line counts
    the fills whose fee is above 5% of their value, counted again here from trades.csv."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        code = main(["--home", str(tmp_path / "home"), "portfolio", "KO", "MSFT", "AAPL", "IBM",
                     "--source", "bundled", "--start", "2014-01-01", "--param", "k=1", "--test-days", "252",
                     "--min-commission", "5", "--cash", "20000", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 0
    fills = pd.read_csv(tmp_path / "out" / "trades.csv")
    dear = fills[fills["commission"] > 0.05 * fills["value"]]
    assert len(dear) > 0
    (line,) = [x for x in err.splitlines() if x.startswith("warning: ") and "of their value in fees" in x]
    assert line.startswith(f"warning: {len(dear):,} fill") and f"of {len(fills):,} paid" in line
    assert f"({dear['commission'].sum():,.2f} in all)" in line


def test_no_dust_warning_when_the_fee_share_is_stated(banded, capsys):
    from forecast.cli.portfolio_cmd import dear_fills_line

    _, folder, printed = banded
    assert "of their value in fees" not in printed
    assert dear_fills_line(pd.read_csv(folder / "trades.csv")) is None


def test_the_skipped_line_states_the_fee_share_in_force():
    from forecast.backtest.report import refused_lines

    counts = {"orders_skipped_costs": 3}
    assert refused_lines(counts, fee_share=1.0) == ["orders skipped for costs: 3 (fees above their value)"]
    assert refused_lines(counts, fee_share=0.001) == [
        "orders skipped for costs: 3 (fees above 0.1% of their value)"]
    assert refused_lines(counts)[0].startswith("orders skipped for costs: 3 (the fee would exceed")
