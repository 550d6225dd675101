"""Simple prediction-driven strategies: thresholds, probability sizing, buy-and-hold."""

from __future__ import annotations

import numpy as np

from forecast.errors import ConfigError
from strategies.base import PredictionStrategy


def _prob(frame) -> np.ndarray:
    return frame["prob_up"].to_numpy(dtype="float64")


def _check_band(lower, upper) -> None:
    if lower > upper:
        raise ConfigError(f"long-short needs lower <= upper (got lower={lower}, upper={upper})")


class LongOnly(PredictionStrategy):
    """All in when `prob_up` is above `threshold`, flat otherwise."""

    params = (("threshold", 0.5),)

    def target_exposure(self) -> float:
        return 1.0 if self.prob_up[0] > self.p.threshold else 0.0

    @classmethod
    def vector_targets(cls, frame, params) -> np.ndarray:
        p = _prob(frame)
        return cls.decided(p, np.where(p > params["threshold"], 1.0, 0.0))


class LongShort(PredictionStrategy):
    """Long above `upper`, short below `lower`, flat in between."""

    params = (("upper", 0.55), ("lower", 0.45))

    def __init__(self):
        super().__init__()
        _check_band(self.p.lower, self.p.upper)

    def target_exposure(self) -> float:
        p = self.prob_up[0]
        if p > self.p.upper:
            return 1.0
        if p < self.p.lower:
            return -1.0
        return 0.0

    @classmethod
    def vector_targets(cls, frame, params) -> np.ndarray:
        _check_band(params["lower"], params["upper"])
        p = _prob(frame)
        return cls.decided(p, np.where(p > params["upper"], 1.0, np.where(p < params["lower"], -1.0, 0.0)))


class ProbabilitySized(PredictionStrategy):
    """Exposure `gain * (2 * prob_up - 1)`, capped at `cap` (and at 0 unless `allow_short`).

    With the defaults the position grows linearly from flat at 0.5 to fully long at 0.75.
    """

    params = (("gain", 2.0), ("cap", 1.0), ("allow_short", False))

    def target_exposure(self) -> float:
        raw = self.p.gain * (2.0 * self.prob_up[0] - 1.0)
        low = -self.p.cap if self.p.allow_short else 0.0
        return min(self.p.cap, max(low, raw))

    @classmethod
    def vector_targets(cls, frame, params) -> np.ndarray:
        cap = params["cap"]
        raw = params["gain"] * (2.0 * _prob(frame) - 1.0)
        low = -cap if params["allow_short"] else 0.0
        floored = np.where(raw > low, raw, low)  # Python's max(low, raw), then min(cap, .)
        return cls.decided(_prob(frame), np.where(floored < cap, floored, cap))


class BuyAndHold(PredictionStrategy):
    """Always fully long on prediction bars (with the broker's costs, unlike the benchmark)."""

    def target_exposure(self) -> float:
        return 1.0

    @classmethod
    def vector_targets(cls, frame, params) -> np.ndarray:
        return cls.decided(_prob(frame), 1.0)
