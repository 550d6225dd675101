"""Statistics that judge backtests against the number of trials behind them.

- :mod:`~forecast.stats.sharpe`: Sharpe ratio, its standard error (Mertens 2002, Lo 2002)
  and the Probabilistic Sharpe Ratio (Bailey & López de Prado 2012).
- :mod:`~forecast.stats.deflated`: the Deflated Sharpe Ratio (Bailey & López de Prado 2014).
- :mod:`~forecast.stats.pbo`: the Probability of Backtest Overfitting by CSCV (Bailey,
  Borwein, López de Prado & Zhu 2017).
- :mod:`~forecast.stats.spa`: Hansen's (2005) SPA test against buy-and-hold (via ``arch``).
- :mod:`~forecast.stats.verdict`: the one-line summary.

Sharpe ratios at every boundary are annualised (``periods`` a year, 252 by default);
returns are per period.
"""

from forecast.stats.deflated import deflated_sharpe_ratio, expected_max_sharpe
from forecast.stats.pbo import PBOResult, probability_of_backtest_overfitting
from forecast.stats.sharpe import (
    newey_west_lags,
    probabilistic_sharpe_ratio,
    psr_from_moments,
    psr_vs_benchmark,
    sharpe_ratio,
    sharpe_se,
)
from forecast.stats.spa import SPAResult, spa_test
from forecast.stats.verdict import verdict_line

__all__ = [
    "PBOResult",
    "SPAResult",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "newey_west_lags",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "psr_from_moments",
    "psr_vs_benchmark",
    "sharpe_ratio",
    "sharpe_se",
    "spa_test",
    "verdict_line",
]
