"""Qlib's benchmark book, for a like-for-like comparison with its table: TopkDropoutStrategy.

Each day, after the scores of day t are known: rank the held names and the best unheld ones
together; sell the held names that fall in the bottom `n_drop` of that list; buy as many of
the best unheld names as keep `k` held (Qlib's `TopkDropoutStrategy.generate_trade_decision`).
Buys split the cash equally; holdings then drift with their returns (no daily reweighting);
a buy pays `buy_cost`, a sale `sell_cost`, of the value traded (Qlib's benchmark: 0.05% and
0.15%). The benchmark is the day's equal-weight average of the ranked names (Qlib compares
with the index), so the excess return is the book's daily return minus that average.
Returns traded on day t are `realized[t]` (the decision's traded return, open t+1 to t+2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def topk_dropout(score: pd.DataFrame, realized: pd.DataFrame, *, k: int = 50, n_drop: int = 5,
                 buy_cost: float = 0.0005, sell_cost: float = 0.0015) -> pd.DataFrame:
    """Daily `ret` (the book, after costs), `bench` (equal-weight ranked names), `excess`
    and `turnover` (value traded over the book's value) of the top-k/drop-n book."""
    realized = realized.reindex(index=score.index, columns=score.columns)
    S, R = score.to_numpy(dtype=float), realized.to_numpy(dtype=float)
    value = np.zeros(S.shape[1])  # money in each name
    cash = 1.0
    rows, days = [], []
    for i in range(S.shape[0]):
        ok = np.isfinite(S[i]) & np.isfinite(R[i])
        if ok.sum() < k + n_drop:
            continue
        start = cash + value.sum()
        held = np.flatnonzero(value > 0)
        held = held[ok[held]]  # a held name without a score today cannot be ranked: kept
        unheld = np.flatnonzero(ok & (value == 0))
        best_unheld = unheld[np.argsort(-S[i, unheld], kind="stable")][: n_drop + k - held.size]
        comb = np.concatenate([held, best_unheld])
        comb = comb[np.argsort(-S[i, comb], kind="stable")]
        sell = np.intersect1d(held, comb[-n_drop:]) if comb.size > n_drop else np.empty(0, int)
        n_buy = len(sell) + k - np.count_nonzero(value > 0)
        buy = best_unheld[: max(0, n_buy)]
        traded = value[sell].sum()
        cash += value[sell].sum() * (1 - sell_cost)
        value[sell] = 0.0
        if buy.size:
            each = cash / buy.size / (1 + buy_cost)
            value[buy] = each
            traded += each * buy.size
            cash = 0.0
        value = value * (1 + np.nan_to_num(R[i]) * (value > 0))
        end = cash + value.sum()
        rows.append((end / start - 1, float(np.nanmean(R[i, ok])), traded / start))
        days.append(score.index[i])
    out = pd.DataFrame(rows, columns=["ret", "bench", "turnover"], index=pd.DatetimeIndex(days, name="date"))
    out["excess"] = out["ret"] - out["bench"]
    return out


def qlib_figures(book: pd.DataFrame) -> dict:
    """Qlib's report figures: annualised excess return (252 x mean) and its information ratio."""
    excess = book["excess"]
    sd = excess.std(ddof=1)
    return {"excess_return": 252 * float(excess.mean()),
            "information_ratio": float(excess.mean() / sd * np.sqrt(252)) if sd > 0 else float("nan"),
            "turnover": float(book["turnover"].mean())}
