"""An equal-weight ensemble of forecasts: the mean of several models' out-of-sample P(up).

Krauss, Do & Huck (2017) average their deep net's, gradient-boosted trees' and random
forest's probabilities ("ENS"). Averaging predictions that are each out of sample adds no
look-ahead, so the ensemble is built from the members' walk-forward frames (one ticker,
indexed by date, or a universe, by date and ticker) instead of being trained: each member
keeps its own cache entry, early-stopping gap and seed. `ensemble_walk_forward` is the
`ens:a,b,c` shorthand (forecast/models/ensemble_name.py) built on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.models.ensemble_name import ensemble_label, ensemble_members, ensemble_params

# Columns every member must agree on: what happened, not what was forecast.
_OUTCOMES = ("actual_up", "realized", "fold")


def ensemble_predictions(members: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The equal-weight mean of the members' `prob_up` (or `score`, for a return or rank
    target), on the rows they all forecast.

    `members`: model name -> predictions frame (walk-forward output). The frames must
    describe the same forecasts: the same rows (index) and the same outcomes (`actual_up`,
    and `realized`/`fold` where present), else ConfigError. Attrs: the first member's
    provenance, `model` = "ensemble(a+b+...)" and `members`.
    """
    if len(members) < 2:
        raise ConfigError(f"an ensemble needs at least 2 members, got {len(members)}")
    names = list(members)
    first = members[names[0]]
    for name in names[1:]:
        other = members[name]
        if not first.index.equals(other.index):
            raise ConfigError(
                f"ensemble: {name}'s forecasts cover other rows than {names[0]}'s "
                f"({len(other)} against {len(first)}); run the members on the same data and schedule"
            )
        for col in _OUTCOMES:
            if (col in first.columns) != (col in other.columns):
                raise ConfigError(f"ensemble: column {col!r} is in only one of {names[0]} and {name}")
            if col in first.columns and not first[col].equals(other[col]):
                raise ConfigError(
                    f"ensemble: {name} and {names[0]} disagree on {col!r}: not the same forecasts"
                )
    # A return or rank target's members average their predicted scores.
    column = "score" if "score" in first.columns else "prob_up"
    if any(column not in members[n].columns for n in names):
        raise ConfigError(f"ensemble: every member needs a {column!r} column (one target for all)")
    probs = np.column_stack([members[n][column].to_numpy(dtype="float64") for n in names])
    out = first.copy()
    # NaN when any member has none: an average of fewer members would be another model.
    out[column] = probs.mean(axis=1)
    out.attrs = {**first.attrs, "model": f"ensemble({'+'.join(names)})", "members": names}
    return out


def ensemble_walk_forward(run: Callable[..., pd.DataFrame], inputs: Any, name: str, *,
                          model_params: Mapping | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          **kwargs: Any) -> pd.DataFrame:
    """The `ens:a,b,c` shorthand: each member through `run` (`walk_forward`,
    `portfolio_walk_forward`, or a cache's, so each member keeps its own entry) with the same
    `kwargs`, then `ensemble_predictions`. Attrs: `model` = the canonical name, `members`,
    `member_params`."""
    members = ensemble_members(name)
    params = ensemble_params(name, model_params)
    frames = {}
    for i, member in enumerate(members):
        hook = None
        if progress is not None:
            def hook(k: int, n: int, _i: int = i) -> None:
                progress(_i * n + k, n * len(members))
        frames[member] = run(inputs, member, model_params=params[member] or None, progress=hook, **kwargs)
    out = ensemble_predictions(frames)
    out.attrs.update(model=ensemble_label(name), members=members, member_params=params)
    return out
