"""Seeds as an axis: the same run for seeds s, s+1, ..., s+N-1, each an independent run
(its own walk-forward and cache entry), summarised as Qlib reports its 20 seeds: the mean
and the spread (sample standard deviation, min and max) of every headline figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

from forecast.errors import ConfigError


def seed_list(seed: int, n_seeds: int) -> list[int]:
    """seed, seed+1, ..., seed+n_seeds-1; ConfigError (one line) for a bad count."""
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"--seeds must be a whole number of runs, 1 or more, got {n_seeds!r}")
    return list(range(seed, seed + n_seeds))


def headline_figures(doc: Mapping, sections: Sequence[str | None]) -> dict[str, float]:
    """The numbers of a run's JSON document: its top-level ones (section None) and those of
    each named sub-object, keyed `section.name`. Booleans and missing values are left out."""
    out = {}
    for section in sections:
        part = doc if section is None else doc.get(section)
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if isinstance(value, Real) and not isinstance(value, bool) and value is not None:
                out[key if section is None else f"{section}.{key}"] = float(value)
    return out


def seed_summary(figures: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float | None]]:
    """Figure -> mean, std (sample, n-1; None for one seed), min, max over the seeds that
    have it finite; a figure some seed lacks is summarised over the others, `n` says how many."""
    names = list(dict.fromkeys(k for f in figures for k in f))
    out = {}
    for name in names:
        values = [f[name] for f in figures if name in f and math.isfinite(f[name])]
        if not values:
            continue
        mean = math.fsum(values) / len(values)
        std = (math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
               if len(values) > 1 else None)
        out[name] = {"mean": mean, "std": std, "min": min(values), "max": max(values), "n": len(values)}
    return out


def over_seeds(run: Callable[[int], Mapping], seed: int, n_seeds: int,
               sections: Sequence[str | None] = (None,)) -> dict[str, Any]:
    """`run(seed)` (a run's JSON document) for each seed: {"seeds", "per_seed" (the documents),
    "summary" (figure -> mean/std/min/max over the seeds)}."""
    seeds = seed_list(seed, n_seeds)
    docs = [run(s) for s in seeds]
    return {"seeds": seeds, "per_seed": docs,
            "summary": seed_summary([headline_figures(d, sections) for d in docs])}
