"""forecast.stats.returns and .labels: the one home of the return statistics and metric
labels that the engine, the pages and the terminal share."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecast.stats import labels
from forecast.stats.returns import (
    daily_rate,
    daily_returns,
    drawdown,
    monthly_returns,
    period_returns,
    rolling_sharpe,
    yearly_comparison,
    yearly_returns,
)


def curve(values, start="2020-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


def test_daily_rate_compounds_to_the_annual_rate():
    assert (1 + daily_rate(0.05)) ** 252 == pytest.approx(1.05, rel=1e-12)
    assert daily_rate(None) == 0.0 and daily_rate(0.0) == 0.0
    assert (1 + daily_rate(0.12, periods=12)) ** 12 == pytest.approx(1.12, rel=1e-12)


def test_daily_returns_after_a_ruin_are_zero_for_the_engine_and_as_written_for_the_pages():
    equity = curve([100.0, 50.0, 0.0, 0.0])
    assert daily_returns(equity).tolist() == [-0.5, -1.0, 0.0]
    as_written = daily_returns(equity, ruin_as_zero=False)
    assert as_written.iloc[:2].tolist() == [-0.5, -1.0] and math.isnan(as_written.iloc[2])


def test_drawdown_and_rolling_sharpe():
    assert drawdown(curve([100, 120, 90, 130])).tolist() == pytest.approx([0, 0, -0.25, 0])
    r = pd.DataFrame({"strategy": [0.01, -0.02, 0.03, 0.0], "benchmark": [0.0, 0.01, 0.02, -0.01]})
    roll = rolling_sharpe(r, None, 3)
    assert roll.iloc[:2].isna().all().all()
    window = r["strategy"].iloc[1:4]
    assert roll["strategy"].iloc[3] == pytest.approx(window.mean() / window.std() * math.sqrt(252))


def test_period_returns_start_from_the_first_value_and_skip_missing_values():
    # Two years: 100 -> 110 at the end of 2020, 121 at the end of 2021; NaN before the start.
    idx = pd.to_datetime(["2019-12-30", "2020-01-02", "2020-12-31", "2021-06-30", "2021-12-31"])
    s = pd.Series([np.nan, 100.0, 110.0, 50.0, 121.0], index=idx)
    years = yearly_returns(s)
    assert list(years.index) == [2020, 2021]
    assert years.tolist() == pytest.approx([0.10, 0.10])
    assert period_returns(pd.Series([np.nan, np.nan], index=idx[:2]), "YE").empty


def test_monthly_returns_compound_to_the_yearly_ones():
    rng = np.random.default_rng(3)
    s = curve(100 * np.cumprod(1 + rng.normal(0, 0.01, 600)), start="2020-03-10")
    months = monthly_returns(s)
    assert months.shape == (3, 12) and months.loc[2020, [1, 2]].isna().all()
    compounded = (1 + months.fillna(0.0)).prod(axis=1) - 1
    np.testing.assert_allclose(compounded, yearly_returns(s).to_numpy(), rtol=1e-12)


def test_yearly_comparison_marks_partial_years_at_either_end():
    eq = pd.DataFrame({"strategy": 1.0, "benchmark": 1.0}, index=pd.bdate_range("2011-04-07", "2013-11-20"))
    years = yearly_comparison(eq)
    assert years["starts_late"].tolist() == [True, False, False]
    assert years["ends_early"].tolist() == [False, False, True]
    assert years["partial"].tolist() == [True, False, True]
    whole = pd.DataFrame({"strategy": 1.0, "benchmark": 1.0},
                         index=pd.bdate_range("2012-01-02", "2012-12-31"))
    assert not yearly_comparison(whole)["partial"].any()


def test_the_engine_and_the_pages_use_one_sharpe_ratio():
    from forecast.backtest import metrics
    from forecast.stats import sharpe

    assert metrics.sharpe_ratio is sharpe.sharpe_ratio
    r = pd.Series([0.02, -0.01, 0.01, 0.0])
    daily = daily_rate(0.05)
    assert sharpe.sharpe_ratio(r, risk_free=0.05) == pytest.approx(sharpe.sharpe_ratio(r - daily))


@pytest.mark.parametrize("name", [n for n in dir(labels) if n.isupper() and n != "TRADE_KEYS"])
def test_label_tables_name_each_key_once_with_a_known_format(name):
    table = getattr(labels, name)
    keys = [key for key, _, _ in table]
    assert len(keys) == len(set(keys))
    # None: a text column (ticker, model, ...), printed as it is
    assert {kind for _, _, kind in table} <= {"pct", "spct", "num", "num3", "int", "money", None}


def test_importing_forecast_stats_imports_neither_scipy_nor_matplotlib():
    code = ("import sys, forecast.stats, forecast.stats.labels, forecast.stats.sharpe; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib', 'arch'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
