"""The tuning page's chart: every trial's inner-validation score, fold by fold.

Drawn from a tune run's trials.csv (fold, trial, state, value, chosen): one panel per
walk-forward fold, trials in the order they ran, pruned trials hollow (scored on the
blocks they reached), the trial the fold chose as a star, and the running best as a step
line, so a reader sees how much the search moved and how many tries it took.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from forecast.charts.base import figure, style
from forecast.charts.curves import COLOURS

MAX_PANELS = 12  # folds drawn side by side; more are drawn as the first and last ones


def trial_scores(trials: pd.DataFrame, *, metric: str, maximize: bool):
    """One panel per fold (at most `MAX_PANELS`: the first and the last folds)."""
    folds = sorted(trials["fold"].unique())
    if len(folds) > MAX_PANELS:
        half = MAX_PANELS // 2
        folds = folds[:half] + folds[-half:]
    n = max(1, len(folds))
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = figure(9.0, 1.2 + 2.0 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    better = np.fmax if maximize else np.fmin
    for ax, fold in zip(axes, folds, strict=False):
        t = trials[trials["fold"] == fold].sort_values("trial")
        x, y = t["trial"].to_numpy() + 1, t["value"].to_numpy(dtype=float)
        done = (t["state"] == "complete").to_numpy()
        ax.scatter(x[done], y[done], s=14, color=COLOURS["strategy"], label="complete", zorder=3)
        ax.scatter(
            x[~done], y[~done], s=14, facecolors="none", edgecolors="#8c959f", label="pruned", zorder=3
        )
        best = better.accumulate(np.where(done, y, np.nan if maximize else np.inf))
        best = np.where(np.isfinite(best), best, np.nan)
        ax.step(x, best, where="post", color="#444c56", linewidth=0.9, label="best so far")
        chosen = t["chosen"].astype(bool).to_numpy()
        ax.scatter(x[chosen], y[chosen], marker="*", s=90, color=COLOURS["short"], label="chosen", zorder=4)
        ax.set_title(f"fold {int(fold) + 1}", fontsize=8)
        ax.set_xlabel("trial", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        style(ax)
    for ax in axes[len(folds) :]:
        ax.set_visible(False)
    axes[0].set_ylabel(
        f"{metric.replace('_', ' ')} ({'higher' if maximize else 'lower'} is better)", fontsize=8
    )
    axes[0].legend(fontsize=7, frameon=False, loc="best")
    return fig
