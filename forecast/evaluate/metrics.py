"""Scores for out-of-sample direction probabilities, and for the scores of a return target."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from forecast.errors import ConfigError

METRIC_KEYS = (
    "n",
    "accuracy",
    "accuracy_se",
    "balanced_accuracy",
    "roc_auc",
    "log_loss",
    "brier",
    "base_rate",
    "majority_rate",
    "p_value",
    "mean_ret_up",
    "mean_ret_down",
)


def direction_metrics(
    prob_up: pd.Series | np.ndarray,
    actual_up: pd.Series | np.ndarray,
    next_return: pd.Series | np.ndarray | None = None,
) -> dict[str, float]:
    """Score probabilities of an up move against the outcomes.

    Rows whose `actual_up` is NaN (outcome unknown, or inside a dead zone) are left out.
    A prediction is "up" when prob_up > 0.5 (ties go down, like sklearn's argmax).

    Returns a dict with the keys of `METRIC_KEYS`:
      n, accuracy and its standard error sqrt(acc (1 - acc) / n), balanced_accuracy,
      roc_auc (NaN when the outcomes hold one class only), log_loss, brier,
      base_rate (share of up outcomes), majority_rate (max(base_rate, 1 - base_rate)),
      p_value (one-sided binomial test that accuracy exceeds majority_rate; the rate is
      the scored span's own, so it is the hindsight best constant guess),
      mean_ret_up / mean_ret_down (mean of `next_return` on rows predicted up / down;
      NaN when `next_return` is not given or no row falls in the group).

    The standard error and p-value treat outcomes as independent. With a horizon h > 1
    consecutive labels overlap (they share h - 1 daily moves), so both overstate the
    evidence; divide the sample size by about h for a rough correction.
    """
    p = np.asarray(prob_up, dtype="float64")
    y = np.asarray(actual_up, dtype="float64")
    if p.shape != y.shape or p.ndim != 1:
        raise ConfigError("prob_up and actual_up must be 1-D and of equal length")
    r = None if next_return is None else np.asarray(next_return, dtype="float64")
    if r is not None and r.shape != p.shape:
        raise ConfigError("next_return must be aligned with prob_up")
    known = ~np.isnan(y)
    if np.isnan(p[known]).any() or ((p[known] < 0) | (p[known] > 1)).any():
        raise ConfigError("prob_up must hold probabilities in [0, 1]")
    p, y = p[known], y[known]
    if r is not None:
        r = r[known]
    n = len(y)
    out = dict.fromkeys(METRIC_KEYS, math.nan)
    out["n"] = n
    if n == 0:
        return out
    pred = (p > 0.5).astype("float64")
    correct = int((pred == y).sum())
    acc = accuracy_score(y, pred)
    base = float(y.mean())
    majority = max(base, 1.0 - base)
    both = 0.0 < base < 1.0
    out.update(
        accuracy=acc,
        accuracy_se=math.sqrt(acc * (1.0 - acc) / n),
        balanced_accuracy=balanced_accuracy_score(y, pred) if both else math.nan,
        roc_auc=roc_auc_score(y, p) if both else math.nan,
        log_loss=log_loss(y, p, labels=[0.0, 1.0]),
        brier=brier_score_loss(y, p, pos_label=1.0),
        base_rate=base,
        majority_rate=majority,
        p_value=binomtest(correct, n, majority, alternative="greater").pvalue if majority < 1.0 else 1.0,
    )
    if r is not None:
        up, down = pred == 1.0, pred == 0.0
        rr_up, rr_down = r[up & ~np.isnan(r)], r[down & ~np.isnan(r)]
        out["mean_ret_up"] = float(rr_up.mean()) if len(rr_up) else math.nan
        out["mean_ret_down"] = float(rr_down.mean()) if len(rr_down) else math.nan
    return {k: float(v) if k != "n" else int(v) for k, v in out.items()}


SCORE_METRIC_KEYS = (
    "n",
    "ic",
    "rank_ic",
    "accuracy",
    "accuracy_se",
    "base_rate",
    "majority_rate",
    "p_value",
    "mean_ret_up",
    "mean_ret_down",
)


def score_metrics(
    score: pd.Series | np.ndarray,
    actual_up: pd.Series | np.ndarray,
    realized: pd.Series | np.ndarray,
    cut: float = 0.0,
) -> dict[str, float]:
    """Score predicted returns (a return target) against what happened, over the rows whose
    outcome is known.

    Keys of `SCORE_METRIC_KEYS`: n; ic (Pearson correlation of score and `realized`, the
    label's return) and rank_ic (Spearman), over time for one ticker, NaN without spread;
    accuracy of the sign call "up when score > `cut`" against `actual_up` and its standard
    error, base_rate, majority_rate and the one-sided binomial p-value against it (as
    `direction_metrics`); mean_ret_up / mean_ret_down, the mean realized return on rows
    called up / down. The same independence caveat as `direction_metrics` applies.
    """
    s = np.asarray(score, dtype="float64")
    y = np.asarray(actual_up, dtype="float64")
    r = np.asarray(realized, dtype="float64")
    if not (s.shape == y.shape == r.shape) or s.ndim != 1:
        raise ConfigError("score, actual_up and realized must be 1-D and of equal length")
    known = ~np.isnan(y) & ~np.isnan(r)
    if not np.isfinite(s[known]).all():
        raise ConfigError("score must hold finite numbers where the outcome is known")
    s, y, r = s[known], y[known], r[known]
    out = dict.fromkeys(SCORE_METRIC_KEYS, math.nan)
    out["n"] = n = len(y)
    if n == 0:
        return out
    if n > 2 and s.std() > 0 and r.std() > 0:
        out["ic"] = float(np.corrcoef(s, r)[0, 1])
        ranks = pd.DataFrame({"s": s, "r": r}).rank()
        out["rank_ic"] = float(np.corrcoef(ranks["s"], ranks["r"])[0, 1])
    pred = (s > cut).astype("float64")
    correct = int((pred == y).sum())
    acc = correct / n
    base = float(y.mean())
    majority = max(base, 1.0 - base)
    out.update(
        accuracy=acc,
        accuracy_se=math.sqrt(acc * (1.0 - acc) / n),
        base_rate=base,
        majority_rate=majority,
        p_value=binomtest(correct, n, majority, alternative="greater").pvalue if majority < 1.0 else 1.0,
        mean_ret_up=float(r[pred == 1.0].mean()) if (pred == 1.0).any() else math.nan,
        mean_ret_down=float(r[pred == 0.0].mean()) if (pred == 0.0).any() else math.nan,
    )
    return {k: float(v) if k != "n" else int(v) for k, v in out.items()}


def prediction_metrics(pred: pd.DataFrame, next_return: pd.Series | None = None) -> dict[str, float]:
    """`score_metrics` of a frame with a `score` (a return target), else `direction_metrics`."""
    if "score" in pred.columns:
        return score_metrics(pred["score"], pred["actual_up"], pred["realized"])
    r = None if next_return is None else next_return.reindex(pred.index)
    return direction_metrics(pred["prob_up"], pred["actual_up"], r)


def next_day_returns(bars: pd.DataFrame, label: str = "close") -> pd.Series:
    """The one-bar return a label is made of, indexed by its decision bar t.

    ``close``: close[t] -> close[t+1]; ``open``: open[t+1] -> open[t+2], the return a
    decision on t's close earns once filled at the next open (see `forward_return`).
    """
    from forecast.features.target import forward_return

    return forward_return(bars, 1, label).rename("next_return")


def metrics_table(predictions: dict[str, pd.DataFrame], next_return: pd.Series | None = None) -> pd.DataFrame:
    """One row of `direction_metrics` per model, from predictions frames (contract shape);
    of `score_metrics` when they hold scores (a return target)."""
    rows = {name: prediction_metrics(pred, next_return) for name, pred in predictions.items()}
    scores = any("score" in pred.columns for pred in predictions.values())
    keys = SCORE_METRIC_KEYS if scores else METRIC_KEYS
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(keys))
    table.index.name = "model"
    return table
