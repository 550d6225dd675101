"""Statistics that judge backtests against the number of trials behind them.

- :mod:`~forecast.stats.sharpe`: Sharpe ratio, its standard error (Mertens 2002, Lo 2002)
  and the Probabilistic Sharpe Ratio (Bailey & López de Prado 2012).
- :mod:`~forecast.stats.deflated`: the Deflated Sharpe Ratio (Bailey & López de Prado 2014).
- :mod:`~forecast.stats.pbo`: the Probability of Backtest Overfitting by CSCV (Bailey,
  Borwein, López de Prado & Zhu 2017).
- :mod:`~forecast.stats.spa`: Hansen's (2005) SPA test against buy-and-hold (via ``arch``).
- :mod:`~forecast.stats.verdict`: the one-line summary.
- :mod:`~forecast.stats.returns`: daily rate, returns, Sortino, rolling Sharpe, drawdown,
  yearly and monthly returns of equity curves (what the engine and the pages share).
- :mod:`~forecast.stats.labels`: how the terminal and the pages name each metric.

Sharpe ratios at every boundary are annualised (``periods`` a year, 252 by default);
returns are per period.
"""

import importlib

# Loaded on first use: the backtest engine imports forecast.stats.returns on every run, and
# must not pull scipy or arch (spa, pbo) in with this package.
_WHERE = {
    "PBOResult": "pbo",
    "SPAResult": "spa",
    "deflated_sharpe_ratio": "deflated",
    "expected_max_sharpe": "deflated",
    "newey_west_lags": "sharpe",
    "probabilistic_sharpe_ratio": "sharpe",
    "probability_of_backtest_overfitting": "pbo",
    "psr_from_moments": "sharpe",
    "psr_vs_benchmark": "sharpe",
    "sharpe_ratio": "sharpe",
    "sharpe_se": "sharpe",
    "sortino_ratio": "returns",
    "spa_test": "spa",
    "verdict_line": "verdict",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
