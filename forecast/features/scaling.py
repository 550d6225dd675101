"""Per-column standardisation learnt with scikit-learn and kept as plain arrays.

`StandardScaler` does the fitting; its mean and scale are then held here and applied
directly, so a saved scaling is restored from its numbers without rebuilding the
scaler's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import StandardScaler

from forecast.errors import ConfigError


@dataclass(frozen=True)
class Standardisation:
    """`(x - mean) / scale` per column, or `x / scale` when `centre` is False.

    `var` is kept only so saved state keeps the form it always had.
    """

    mean: np.ndarray | None
    scale: np.ndarray
    var: np.ndarray | None
    centre: bool = True

    @classmethod
    def fit(cls, values: np.ndarray, centre: bool = True) -> Standardisation:
        """Learn mean and scale of each column of `values` (constant columns get scale 1)."""
        s = StandardScaler(with_mean=centre).fit(values)
        return cls(mean=s.mean_, scale=s.scale_, var=s.var_, centre=centre)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The standardised copy of `values` (same operations as StandardScaler.transform)."""
        if values.ndim != 2 or values.shape[1] != len(self.scale):
            raise ConfigError(
                f"saved feature scaling is for {len(self.scale)} column(s), got {values.shape[-1]}"
            )
        out = values.astype("float64", copy=True)
        if self.centre:
            out -= self.mean
        out /= self.scale
        return out

    def to_dict(self) -> dict:
        """JSON-able form (`mean_`, `scale_`, `var_`), as saved models store it."""
        return {
            "mean_": None if self.mean is None else self.mean.tolist(),
            "scale_": self.scale.tolist(),
            "var_": None if self.var is None else self.var.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict, centre: bool) -> Standardisation:
        """Inverse of `to_dict`; `centre` says which role the saved scaling had."""
        mean = data["mean_"]
        if centre and mean is None:
            raise ConfigError("saved feature scaling has no means to centre with")
        var = data.get("var_")
        return cls(
            mean=None if mean is None else np.asarray(mean, dtype="float64"),
            scale=np.asarray(data["scale_"], dtype="float64"),
            var=None if var is None else np.asarray(var, dtype="float64"),
            centre=centre,
        )
