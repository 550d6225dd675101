"""Cross-sectional normalisation: each date, a feature's rank or z-score across the universe's
members on that date (FeatureSpec option `cross_section`).

A ticker's raw features are trailing (its value at t reads its bars up to t), and the
transform of date t reads the raw values of date t only, so a normalised value dated t reads
no bar after t, of any ticker. Nothing is fitted: there is no statistic from another date,
let alone a later one.

Who forms the cross-section of date t: the tickers that are members on t (a membership
is a schedule fixed before each year, never a price) and have a value on t (a bar, past
their warm-up). A ticker that is not a member on t is normalised against the members but
never moves them:
  * ``"rank"``: the average rank r (ties share it) of the value among the n members with a
    value, the ticker itself counted in (a non-member as one more, n + 1), mapped to
    ``((r - 0.5) / n - 0.5) * sqrt(12)``: centred, about unit spread, as Qlib's CSRankNorm.
  * ``"zscore"``: ``(x - mean) / std`` with the members' mean and sample standard deviation
    (ddof 1); 0 when they have no spread (fewer than two members, or all equal).
A date without a member with a value leaves every ticker's value NaN (a warm-up row).

Which columns: every scaled column but `ret_1` and the levels (`columns`); `ret_1` keeps its
per-ticker scaling (the contract: its sign survives) and unscaled encodings (day of week) stay
as they are. `log_volume` is a level in shares: split-adjusted history (us_liquid's, Yahoo's)
multiplies every volume before a split by its ratio, a constant per-ticker centring takes out
but a comparison across tickers keeps, so its rank dated t would say the ticker splits after t;
it keeps the per-ticker scaling (tests/features/test_cross_section.py, the split test).
The per-ticker scaling of the pipeline is skipped for the normalised columns: it would take
each ticker's own mean back out of a comparison across tickers.
"""

from __future__ import annotations

import numpy as np

from forecast.errors import ConfigError

# Levels that split adjustment rescales by later splits (see the module docstring).
LEVELS = ("log_volume",)
RANK_SCALE = float(np.sqrt(12.0))  # the standard deviation of a uniform on (-0.5, 0.5) is 1/sqrt(12)


def columns(spec) -> list[str]:
    """The columns `spec` normalises across tickers (none when `cross_section` is "none")."""
    if spec.cross_section == "none":
        return []
    return [c for f in spec.features() if f.scaled for c in f.column_names(spec)
            if c != "ret_1" and c not in LEVELS]


def normalise(values: np.ndarray, members: np.ndarray, mode: str) -> np.ndarray:
    """`values` (dates x tickers, NaN where a ticker has no value) normalised per date across
    the members (`members`, same shape, booleans), by `mode` ("rank" or "zscore")."""
    x = np.array(values, dtype=np.float64)
    m = np.array(members, dtype=np.bool_)
    if x.ndim != 2 or x.shape != m.shape:
        raise ConfigError(f"cross-section values {x.shape} and members {m.shape} must be one 2-D shape")
    from forecast.features import cross_section_kernels as kernels  # numba: loaded when used

    if mode == "rank":
        # numpy's sort is the fast part (vectorised); the loop assigns ranks from it.
        order = np.argsort(np.where(m, x, np.nan), axis=1)
        return kernels.centred_rank(x, m, order) * RANK_SCALE
    if mode == "zscore":
        return kernels.zscore(x, m)
    raise ConfigError(f"cross_section mode must be rank or zscore, not {mode!r}")


def universe_columns(raw: list[dict[str, np.ndarray]], positions: list[np.ndarray], n_dates: int,
                     members: np.ndarray | None, spec) -> list[dict[str, np.ndarray]]:
    """Each ticker's columns (`raw[i]`, over its own bars at calendar `positions[i]`) with the
    `columns(spec)` ones normalised across tickers; `members`: dates x tickers booleans
    (None: every ticker with a bar is a member)."""
    names = columns(spec)
    out = [dict(r) for r in raw]
    if not names:
        return out
    n = len(raw)
    member = np.ones((n_dates, n), dtype=bool) if members is None else np.asarray(members, dtype=bool)
    if member.shape != (n_dates, n):
        raise ConfigError(f"membership has shape {member.shape}, the universe {(n_dates, n)}")
    grid = np.full((n_dates, n), np.nan)
    for name in names:
        grid.fill(np.nan)
        for i, (cols, pos) in enumerate(zip(raw, positions, strict=True)):
            grid[pos, i] = cols[name]
        normed = normalise(grid, member, spec.cross_section)
        for i, pos in enumerate(positions):
            out[i][name] = normed[pos, i]
    return out
