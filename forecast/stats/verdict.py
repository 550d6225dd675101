"""One line that sums up a search over configurations: the best one, and whether it is skill."""

from __future__ import annotations

import math
from collections.abc import Mapping

DSR_THRESHOLD = 0.95
PBO_THRESHOLD = 0.5


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "SPA p = n/a"
    return "SPA p < 0.01" if p < 0.01 else f"SPA p = {p:.2f}"


def verdict_line(
    best: Mapping,
    n_trials: int,
    dsr: float | None,
    pbo: float | None,
    spa_p: float | None,
    alpha: float = 0.05,
) -> str:
    """A one-line verdict, e.g.::

        best: MSFT lstm long-short Sharpe 0.91 ± 0.35; 48 trials: DSR 0.31, PBO 0.62, SPA p = 0.44:
        no evidence of skill beyond buy-and-hold after costs

    `best` holds ``label`` (or ``name``), the annualised ``sharpe`` and optionally its
    ``sharpe_se``. `dsr`, `pbo` and `spa_p` may be None (or NaN) when not computed; they
    print as "n/a".

    The rule: "evidence of skill" needs both DSR > 0.95 (the best Sharpe ratio is not
    explained by the number of trials) and the SPA p-value < `alpha` (some configuration
    beats buy-and-hold after costs, allowing for the search). A PBO >= 0.5 on top of that
    adds a warning that picking the winner in-sample is unreliable; a missing DSR or SPA
    p-value never counts as evidence.
    """
    label = best.get("label", best.get("name", "?"))
    sharpe, se = _num(best.get("sharpe")), _num(best.get("sharpe_se"))
    dsr, pbo, spa_p = _num(dsr), _num(pbo), _num(spa_p)
    head = f"best: {label} Sharpe {_fmt(sharpe)}"
    if se is not None:
        head += f" ± {se:.2f}"
    trials = f"{n_trials} trial{'' if n_trials == 1 else 's'}"
    stats = f"DSR {_fmt(dsr)}, PBO {_fmt(pbo)}, {_fmt_p(spa_p)}"

    skill = dsr is not None and dsr > DSR_THRESHOLD and spa_p is not None and spa_p < alpha
    if not skill:
        conclusion = "no evidence of skill beyond buy-and-hold after costs"
    elif pbo is not None and pbo >= PBO_THRESHOLD:
        conclusion = (
            "evidence of skill beyond buy-and-hold after costs, but the in-sample choice of the best "
            "configuration looks overfit (PBO >= 0.5)"
        )
    else:
        conclusion = "evidence of skill beyond buy-and-hold after costs"
    return f"{head}; {trials}: {stats}: {conclusion}"
