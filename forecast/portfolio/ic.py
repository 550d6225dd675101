"""Information coefficients: how well forecasts rank the tickers' realised returns each day.

The IC of a date is the Pearson correlation, across the tickers that have both, between
the forecast (`prob_up`) made at that date's close and the return the decision trades
(`traded_returns`: next open to the open after). The rank IC is the Spearman correlation
(Pearson on average ranks). Dates with fewer than `MIN_TICKERS` such tickers, or with no
spread in either side, get NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forecast.errors import ConfigError

MIN_TICKERS = 3


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def information_coefficients(prob: pd.DataFrame, realized: pd.DataFrame) -> pd.DataFrame:
    """Per date (rows of `prob`, date x ticker): `ic`, `rank_ic` and `n` (tickers used)."""
    if not isinstance(prob, pd.DataFrame) or not isinstance(realized, pd.DataFrame):
        raise ConfigError("information_coefficients needs two date x ticker DataFrames")
    realized = realized.reindex(index=prob.index, columns=prob.columns)
    p = prob.to_numpy(dtype="float64")
    r = realized.to_numpy(dtype="float64")
    rows = []
    for i in range(len(p)):
        ok = np.isfinite(p[i]) & np.isfinite(r[i])
        n = int(ok.sum())
        if n < MIN_TICKERS:
            rows.append((np.nan, np.nan, n))
            continue
        a, b = p[i, ok], r[i, ok]
        ranks_a = pd.Series(a).rank().to_numpy()
        ranks_b = pd.Series(b).rank().to_numpy()
        rows.append((_pearson(a, b), _pearson(ranks_a, ranks_b), n))
    out = pd.DataFrame(rows, index=prob.index, columns=["ic", "rank_ic", "n"])
    out["n"] = out["n"].astype("int64")
    out.index.name = "date"
    return out


def _stats(values: pd.Series, prefix: str) -> dict:
    v = values.dropna().to_numpy(dtype="float64")
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    std = float(v.std(ddof=1)) if n > 1 else float("nan")
    icir = mean / std if n > 1 and std > 0 else float("nan")
    return {
        f"mean_{prefix}": mean,
        f"{prefix}_std": std,
        f"{prefix}ir": icir,
        f"{prefix}_t_stat": icir * math.sqrt(n) if math.isfinite(icir) else float("nan"),
    }


def ic_summary(ic: pd.DataFrame) -> dict:
    """Mean, standard deviation (ddof 1), IR = mean / std and t-stat = IR * sqrt(n_days) of
    the daily IC and rank IC, over the dates where the IC is defined (`n_days`).

    Keys: mean_ic, ic_std, icir, t_stat, mean_rank_ic, rank_ic_std, rank_icir,
    rank_t_stat, n_days.
    """
    out = _stats(ic["ic"], "ic")
    out["t_stat"] = out.pop("ic_t_stat")
    rank = _stats(ic["rank_ic"], "rank_ic")
    out.update({
        "mean_rank_ic": rank["mean_rank_ic"],
        "rank_ic_std": rank["rank_ic_std"],
        "rank_icir": rank["rank_icir"],
        "rank_t_stat": rank["rank_ic_t_stat"],
    })
    out["n_days"] = int(ic["ic"].notna().sum())
    return out
