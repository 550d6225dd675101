"""`Feature`: one small object per feature, declaring everything the pipeline needs.

A feature is a trailing function of the bars: its value at bar t may read bars up to
and including t only. The look-ahead tests hold every standard feature to this; other
features are checked on their fit span by `check_trailing` when the pipeline is fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, FcastError
from forecast.user_code import one_line


def _identity(state: Any) -> Any:
    return state


@dataclass(frozen=True)
class Feature:
    """A feature: its name, output columns, inputs, warm-up, computation and scaling.

    * `columns`: output column names, or a function of the `FeatureSpec` giving them.
    * `compute(bars, spec)` returns the columns: a mapping of name to Series, a
      DataFrame, or (for a single column) a Series, indexed like `bars`. Features with
      `fit` are called as `compute(bars, spec, state)` with what `fit` returned.
    * `inputs`: the bar columns it reads (checked before computing).
    * `warmup`: leading bars its columns are NaN for, or a function of the spec.
    * `scaled`: whether the pipeline z-scores its columns (False for bounded encodings).
    * `fit(bars, spec) -> state`: learn parameters on the fit span only (e.g. GARCH);
      `dump`/`load` turn that state into JSON-able data and back for saved models.
    * `min_fit`: the fewest bars `fit` can learn from (a universe ticker with less history
      before a fold is left out of that fold instead of failing the run).
    * `switch`: for the standard features only, the FeatureSpec option that turns it on
      (None: always on). Other features are turned on by naming them in `extra`.
    * `start_invariant`: its value at bar t is the same to the last bit whichever bar the
      series starts at (given its warm-up): pointwise and fixed-lag functions, not rolling
      sums or exponential averages, whose rounding carries from the first bar. A walk-forward
      with a rolling training window reuses such a feature's precomputed values for the
      fit span (forecast.evaluate.fold_windows); others are recomputed on it.
    """

    name: str
    columns: Sequence[str] | Callable[[Any], Sequence[str]]
    compute: Callable[..., Any]
    inputs: tuple[str, ...] = ("close",)
    warmup: int | Callable[[Any], int] = 0
    scaled: bool = True
    fit: Callable[[pd.DataFrame, Any], Any] | None = None
    dump: Callable[[Any], Any] = _identity
    load: Callable[[Any], Any] = _identity
    switch: str | None = None
    min_fit: int = 0
    start_invariant: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ConfigError(f"feature name must be an identifier, got {self.name!r}")
        if not callable(self.compute):
            raise ConfigError(f"feature {self.name}: compute must be a function")
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def fit_state(self, bars: pd.DataFrame, spec) -> Any:
        """What `fit` learns from `bars` (None for a feature without `fit`)."""
        return None if self.fit is None else self._call(self.fit, bars, spec)

    def _call(self, fn: Callable, *args: Any) -> Any:
        try:
            return fn(*args)
        except FcastError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failure in (user) feature code is one line
            raise ConfigError(f"feature {self.name} failed: {one_line(exc)}") from None

    def column_names(self, spec) -> list[str]:
        """The output columns for `spec`."""
        cols = self.columns(spec) if callable(self.columns) else self.columns
        return [cols] if isinstance(cols, str) else list(cols)

    def warmup_bars(self, spec) -> int:
        """Leading bars whose value is NaN for `spec`."""
        w = self.warmup(spec) if callable(self.warmup) else self.warmup
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise ConfigError(f"feature {self.name}: warm-up must be a non-negative integer, not {w!r}")
        return w

    def values(self, bars: pd.DataFrame, spec, state: Any = None) -> dict[str, Any]:
        """The computed columns by name, in declared order, checked against the declaration."""
        args = (bars, spec) if self.fit is None else (bars, spec, state)
        out = self._call(self.compute, *args)
        names = self.column_names(spec)
        if isinstance(out, pd.Series):
            if len(names) != 1:
                raise ConfigError(f"feature {self.name} returned one Series for columns {names}")
            out = {names[0]: out}
        elif isinstance(out, pd.DataFrame):
            out = {c: out[c] for c in out.columns}
        elif not isinstance(out, Mapping):
            raise ConfigError(
                f"feature {self.name} must return a Series, DataFrame or mapping, not {type(out).__name__}"
            )
        if sorted(out) != sorted(names):
            raise ConfigError(f"feature {self.name} returned columns {sorted(out)}, declared {names}")
        for col, values in out.items():
            # DataFrame construction would align a Series on its index and hide a shift.
            if isinstance(values, pd.Series) and not values.index.equals(bars.index):
                raise ConfigError(f"feature {self.name}: column {col} is not indexed like the bars")
            if len(values) != len(bars):
                raise ConfigError(
                    f"feature {self.name}: column {col} has {len(values)} rows, the bars {len(bars)}"
                )
        return {c: out[c] for c in names}

    def check_trailing(self, bars: pd.DataFrame, spec, state: Any = None) -> None:
        """Raise ConfigError if values on the first half of `bars` change when the second
        half is dropped, i.e. if the feature reads bars after t (a shift(-1), a centred
        window, a full-sample mean). A cheap net for user code, not a proof."""
        cut = len(bars) // 2
        full = self.values(bars, spec, state)
        half = self.values(bars.iloc[:cut], spec, state)
        for col in full:
            a = np.asarray(full[col], dtype="float64")[:cut]
            b = np.asarray(half[col], dtype="float64")
            if not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
                raise ConfigError(
                    f"feature {self.name} looks ahead: its column {col} before a date changes "
                    "with bars after that date"
                )
