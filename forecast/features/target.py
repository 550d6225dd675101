"""Direction labels for a forecast horizon, on the return that is actually traded.

A decision taken on bar t's close fills at bar t+1's open, so the return it earns over a
horizon of h bars is open[t+1] -> open[t+1+h]: the "open" label, the default. The classic
close[t] -> close[t+h] ("close") is kept as an option; on real daily stocks the two agree
in sign on only about three days in four, so a model scored on one is not scored on what
the backtest trades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError, DataError

# Label name -> (price column, bars between the decision and the return's first price).
LABELS = {"open": ("open", 1), "close": ("close", 0)}
# Returns smaller than this are the rounding of an adjustment factor, not a move: two equal
# opens scaled by a factor computed per bar (adj_close / close) differ in their last bit, so
# their return is +-1e-16 and its direction a coin toss that a later dividend, rescaling
# the history before it, can flip. Snapped to 0 they are "not up" whatever the scale.
ZERO_RETURN = 1e-12


def snap_zero(returns):
    """`returns` with every |r| < ZERO_RETURN set to exactly 0 (NaN kept)."""
    return returns.mask(returns.abs() < ZERO_RETURN, 0.0)
DEFAULT_LABEL = defaults.LABEL


def check_label(label: str) -> str:
    if label not in LABELS:
        raise ConfigError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    return label


def label_lookahead(horizon: int, label: str = DEFAULT_LABEL) -> int:
    """How many bars after the decision bar t the label reads: h (close) or h + 1 (open).

    A label at t is known only once bar t + lookahead has closed, so it may only train a
    model used at or after that bar; fold planning and early-stopping gaps use this.
    """
    return int(horizon) + LABELS[check_label(label)][1]


def describe_label(horizon: int = 1, label: str = DEFAULT_LABEL, threshold: float = 0.0) -> str:
    """The label's definition in one line, for reports and metrics.json."""
    col, lag = LABELS[check_label(label)]
    first = f"{col}[t+{lag}]" if lag else f"{col}[t]"
    return f"up if {col}[t+{lag + horizon}] / {first} - 1 > {threshold:g}"


def forward_return(
    bars: pd.DataFrame | pd.Series, horizon: int = 1, label: str = DEFAULT_LABEL
) -> pd.Series:
    """The simple return a label is made of, indexed by the decision bar t.

    ``open``: open[t+1+h] / open[t+1] - 1 (what a position entered at the fill after t's
    close and held h bars earns); ``close``: close[t+h] / close[t] - 1. NaN where the
    prices are not known yet (the last `label_lookahead` bars).
    """
    col, lag = LABELS[check_label(label)]
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon must be a positive integer, not {horizon!r}")
    if isinstance(bars, pd.Series) and col == "close":
        price = bars
    elif isinstance(bars, pd.DataFrame) and col in bars.columns:
        price = bars[col]
    else:
        need = "a bars DataFrame with an open column" if col == "open" else (
            "a bars DataFrame with a close column or a Series"
        )
        raise DataError(f"the {label!r} label needs {need}")
    price = price.astype("float64")
    entry = price.shift(-lag)
    return snap_zero(price.shift(-(lag + int(horizon))) / entry - 1.0).rename("forward_return")


def make_target(
    bars: pd.DataFrame | pd.Series,
    horizon: int = 1,
    threshold: float = 0.0,
    *,
    symmetric: bool = False,
    label: str = DEFAULT_LABEL,
) -> pd.Series:
    """Label each decision bar t by the sign of its `forward_return` r.

      * default: 1.0 if r > threshold else 0.0;
      * ``symmetric=True`` (a dead zone, needs threshold >= 0): 1.0 if r > threshold,
        0.0 if r < -threshold, NaN in between, so small moves are neither trained on
        nor scored.
    The last `label_lookahead(horizon, label)` rows are NaN: their outcome is not known yet.
    """
    if not isinstance(bars, (pd.DataFrame, pd.Series)):
        raise DataError("make_target needs a bars DataFrame (or, for the close label, a Series)")
    if not np.isfinite(threshold):
        raise ConfigError(f"threshold must be a finite number, not {threshold!r}")
    if symmetric and threshold < 0:
        raise ConfigError("a symmetric (dead-zone) threshold must be >= 0")
    fwd = forward_return(bars, horizon, label)
    up = (fwd > threshold).astype("float64")
    if symmetric:
        up = up.where((fwd > threshold) | (fwd < -threshold))
    return up.where(fwd.notna()).rename("target")


# What a single ticker's walk-forward learns (a universe adds more, see universe_target).
TARGETS = ("direction", "return")


def check_target(target: str) -> str:
    if target not in TARGETS:
        more = " (rank is a universe's target: fcast portfolio)" if target == "rank" else ""
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {target!r}{more}")
    return target


def is_regression(target: str) -> bool:
    """Whether a target is a number to predict (return, rank) rather than a direction."""
    return target in defaults.REGRESSION_TARGETS


def make_labels(bars: pd.DataFrame | pd.Series, horizon: int = 1, threshold: float = 0.0, *,
                symmetric: bool = False, label: str = DEFAULT_LABEL,
                target: str = defaults.TARGET) -> pd.Series:
    """What a model trains on for each decision bar t: `make_target`'s 0/1 direction, or
    with ``target="return"`` the `forward_return` that direction is the sign of (the same
    prices, so the same look-ahead). A threshold or dead zone belongs to the direction
    label and is refused with a return target."""
    if not is_regression(check_target(target)):
        return make_target(bars, horizon, threshold, symmetric=symmetric, label=label)
    if threshold != 0.0 or symmetric:
        raise ConfigError("threshold and symmetric shape the direction label; "
                          "the return target takes neither")
    return forward_return(bars, horizon, label).rename("target")
