"""`Predictions`: out-of-sample forecasts together with where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Keys of a walk-forward frame's attrs that describe the forecaster, not the forecasts.
_NOT_PROVENANCE = ("model", "ticker")


@dataclass(frozen=True)
class Predictions:
    """Out-of-sample predictions and their provenance.

    `frame`: indexed by decision date, columns `prob_up`, `actual_up` (the realised label,
    NaN while unknown) and optionally `fold` (docs/CONTRACTS.md). `model`: the name of the
    model that made them (None for hand-made ones). `provenance`: how they were made, e.g.
    the walk-forward settings (window, horizon, label, folds, seed, ...) or `model_path`.
    """

    frame: pd.DataFrame
    model: str | None = None
    provenance: dict = field(default_factory=dict)
    # (bars, metrics) of the last `metrics` call: an experiment re-scores one Predictions for
    # many strategies and costs, and the metrics depend only on the forecasts and the bars.
    _scored: list = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, bars: pd.DataFrame, **extra) -> Predictions:
        """Wrap a predictions frame (a walk-forward run's, or a hand-made one).

        Its attrs give the model and provenance. A frame without `actual_up` is scored on
        the label its attrs declare (horizon, threshold, label), else the default label:
        the direction of the return traded after each decision.
        """
        made = {k: v for k, v in frame.attrs.items() if k not in _NOT_PROVENANCE}
        made.update(extra)
        if "actual_up" not in frame.columns:
            from forecast.features.target import DEFAULT_LABEL, make_target

            actual = make_target(bars, int(made.get("horizon", 1)), made.get("threshold", 0.0),
                                 symmetric=made.get("symmetric", False),
                                 label=made.get("label", DEFAULT_LABEL))
            frame = frame.assign(actual_up=actual.reindex(frame.index))
        return cls(frame=frame, model=frame.attrs.get("model"), provenance=made)

    def label_returns(self, bars: pd.DataFrame) -> pd.Series:
        """The return each prediction's label is made of: by default the very return traded."""
        from forecast.features.target import DEFAULT_LABEL, forward_return

        made = self.provenance
        ret = forward_return(bars, int(made.get("horizon", 1)), made.get("label", DEFAULT_LABEL))
        return ret.reindex(self.frame.index).rename("next_return")

    def metrics(self, bars: pd.DataFrame) -> dict:
        """Direction metrics (`direction_metrics`) against the label and its return; for a
        return target's scores, `score_metrics`."""
        from forecast.evaluate.metrics import prediction_metrics

        # Holding `bars` keeps its id from being reused: `is` cannot match another frame.
        if self._scored and self._scored[0][0] is bars:
            return dict(self._scored[0][1])
        scored = prediction_metrics(self.frame, self.label_returns(bars))
        self._scored[:] = [(bars, scored)]
        return dict(scored)


def label_returns(bars: pd.DataFrame, predictions: pd.DataFrame) -> pd.Series:
    """The return each prediction's label is made of (horizon and label from the frame's
    attrs; none given: one bar of the traded return)."""
    return Predictions.from_frame(predictions, bars).label_returns(bars)
