"""Training windows cut on demand from one feature array, for pooled training that streams.

A universe's pooled training set is hundreds of thousands of windows of `window` rows each;
gathered at once it is `window` times the size of the feature rows it is cut from (375,000
LSTM sequences of 240 days: 240 copies of every row). A `WindowSource` holds the rows once
and the row each window ends at; a Keras model fed one (`KerasForecaster.fit`) cuts each
batch when it trains on it, so the peak memory is the feature rows plus one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.errors import DataError
from forecast.features.windows import complete_windows, gather_windows


@dataclass(frozen=True)
class WindowSource:
    """Sample i is the window of feature rows `ends[i] - window + 1 .. ends[i]`."""

    features: np.ndarray  # (rows, n_features)
    ends: np.ndarray  # one row number per sample, in the samples' (time) order
    window: int

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def shape(self) -> tuple[int, int, int]:
        """The shape the gathered windows would have: `(samples, window, features)`."""
        return (len(self.ends), self.window, self.features.shape[1])

    def take(self, idx) -> np.ndarray:
        """The windows of samples `idx` (an index array or slice), as float64 like `check_X`."""
        return gather_windows(self.features, self.window, self.ends[idx]).astype(np.float64, copy=False)

    def check(self) -> WindowSource:
        """Raise DataError as `check_X` would on the gathered windows; returns self."""
        if self.features.ndim != 2 or not np.issubdtype(self.features.dtype, np.number):
            raise DataError(f"window source features must be a 2-D numeric array, got shape "
                            f"{self.features.shape} and dtype {self.features.dtype}")
        if len(self.ends) == 0:
            raise DataError("X holds no samples")
        ends = np.asarray(self.ends, dtype="int64")
        if ends.min() < self.window - 1 or ends.max() >= len(self.features):
            raise DataError(f"window ends must lie in {self.window - 1} .. {len(self.features) - 1}")
        # Rows some window covers must be finite (checked without cutting a window).
        if not complete_windows(self.features, self.window, ends).all():
            raise DataError("X holds NaN or inf; drop the feature warm-up rows before windowing")
        return self


def streams_windows(estimator) -> bool:
    """Whether `estimator.fit` takes a WindowSource for X (fcast's Keras forecasters)."""
    return bool(getattr(estimator, "streams_windows", False))
