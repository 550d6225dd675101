"""Figures the backtest page derives from a run's CSVs (pandas only, no matplotlib).

Each function takes what a run folder holds (equity.csv, trades.csv, ledger.csv,
predictions.csv, read by `read_run`) and returns a small frame or dict; the page and the
charts only lay them out. Returns, drawdowns and period returns come from
`forecast.stats.returns`, with the backtest metrics' conventions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.stats.returns import daily_rate, monthly_returns, yearly_returns

ROLLING_BARS = 126  # six months of trading days


@dataclass
class RunFiles:
    """What a backtest's --output folder holds; the optional files are None when absent."""

    metrics: dict
    equity: pd.DataFrame  # date index; strategy, benchmark
    trades: pd.DataFrame | None
    predictions: pd.DataFrame | None
    ledger: pd.DataFrame | None


def read_run(folder: Path) -> RunFiles:
    """Read a backtest folder. metrics.json and equity.csv are required; the rest is optional
    (older runs have no ledger.csv) and the page says what it could not show."""
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
        equity = pd.read_csv(folder / "equity.csv", index_col="date", parse_dates=["date"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{folder} is not a readable backtest folder: {exc}") from None
    if not {"strategy", "benchmark"} <= set(equity.columns) or len(equity) < 2:
        raise ConfigError(f"{folder / 'equity.csv'} needs columns strategy, benchmark and two rows")

    def optional(name: str, dates: list[str], index: str | None = None) -> pd.DataFrame | None:
        path = folder / name
        if not path.is_file():
            return None
        return pd.read_csv(path, parse_dates=dates, index_col=index)

    return RunFiles(
        metrics=metrics,
        equity=equity.astype(float),
        trades=optional("trades.csv", ["entry_date", "exit_date"]),
        predictions=optional("predictions.csv", ["date"]),
        ledger=optional("ledger.csv", ["date"], "date"),
    )


def monthly_grid(equity: pd.Series) -> pd.DataFrame:
    """Monthly returns as years x months 1..12 (NaN outside the run), plus the year's total."""
    grid = monthly_returns(equity)
    grid["year"] = yearly_returns(equity)
    return grid


def moments(rets: pd.Series) -> dict:
    """Mean, standard deviation (ddof=1), skewness, excess kurtosis, best and worst day."""
    r = rets.dropna()
    return {"mean": float(r.mean()), "std": float(r.std(ddof=1)), "skew": float(r.skew()),
            "kurtosis": float(r.kurt()), "best": float(r.max()), "worst": float(r.min())}


def significance(rets: pd.DataFrame, risk_free: float | None) -> dict:
    """The strategy's Sharpe ratio, its standard error (Mertens 2002) and the PSR against 0
    and against buy-and-hold's Sharpe ratio over the same days, on excess daily returns
    (the same statistics an experiment's rows carry, `forecast.experiment.judge`)."""
    from forecast.stats import probabilistic_sharpe_ratio, psr_vs_benchmark, sharpe_ratio, sharpe_se

    both = (rets - daily_rate(risk_free)).dropna()
    s, b = both["strategy"], both["benchmark"]
    return {"sharpe": sharpe_ratio(s), "sharpe_se": sharpe_se(s), "psr": probabilistic_sharpe_ratio(s),
            "psr_vs_benchmark": psr_vs_benchmark(s, b), "n": len(s)}


def exposure(ledger: pd.DataFrame) -> pd.Series:
    """Position value over portfolio value at each close (negative when short)."""
    value = ledger["value"].where(ledger["value"] != 0)
    return (ledger["position"] * ledger["close"] / value).fillna(0.0)


def trade_list(trades: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per trade: dates, direction, net return on the entry notional, holding period
    in calendar days and in bars (of `dates`, the run's bars), and whether it is still open."""
    notional = (trades["size"].abs() * trades["entry_price"]).where(lambda x: x > 0)
    return pd.DataFrame({
        "entry": trades["entry_date"],
        "exit": trades["exit_date"],
        "direction": trades["direction"],
        "ret": trades["pnl_net"] / notional,
        "days": (trades["exit_date"] - trades["entry_date"]).dt.days,
        "bars": dates.searchsorted(trades["exit_date"]) - dates.searchsorted(trades["entry_date"]),
        "open": trades["open"].astype(str).str.lower().isin(["true", "1"]),
    })


def scored(predictions: pd.DataFrame) -> pd.DataFrame:
    """The predictions whose outcome is known (the last bars' labels are not)."""
    return predictions.dropna(subset=["prob_up", "actual_up"])


def calibration(predictions: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Reliability table: prob_up cut into (at most) `bins` equal-count bins; per bin its
    range, count, mean predicted probability, observed frequency of up and that frequency's
    standard error. Equal counts, not equal widths: a model's probabilities bunch near 0.5.
    Equal forecasts share a bin (the first their value falls in), so a model with few distinct
    probabilities (a baseline's constant base rate) gets one point per value, not bins split
    among ties in date order."""
    p = scored(predictions)
    if p.empty:
        return pd.DataFrame(columns=["low", "high", "n", "prob", "freq", "se"])
    cut = pd.qcut(p["prob_up"].rank(method="first"), min(bins, len(p)), labels=False)
    cut = cut.groupby(p["prob_up"]).transform("min")
    g = p.groupby(cut)
    out = pd.DataFrame({"low": g["prob_up"].min(), "high": g["prob_up"].max(), "n": g.size(),
                        "prob": g["prob_up"].mean(), "freq": g["actual_up"].mean()})
    out["se"] = np.sqrt(out["freq"] * (1 - out["freq"]) / out["n"])
    return out.reset_index(drop=True)


def accuracy_by_year(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per calendar year: scored forecasts, accuracy of prob_up > 0.5 against actual_up, its
    standard error sqrt(a(1-a)/n), and the year's majority-class rate (hindsight baseline)."""
    p = scored(predictions)
    p = p.assign(date=pd.to_datetime(p["date"]))  # an empty predictions.csv reads as text
    hit = ((p["prob_up"] > 0.5) == (p["actual_up"] > 0.5)).astype(float)
    up = (p["actual_up"] > 0.5).astype(float)
    year = p["date"].dt.year
    out = pd.DataFrame({"n": hit.groupby(year).size(), "accuracy": hit.groupby(year).mean()})
    out["se"] = np.sqrt(out["accuracy"] * (1 - out["accuracy"]) / out["n"])
    base = up.groupby(year).mean()
    out["majority"] = np.maximum(base, 1 - base)
    out["difference"] = out["accuracy"] - out["majority"]
    out.index.name = "year"
    return out
