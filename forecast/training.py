"""Fit one model on a whole span, save it, and predict later dates with it.

Walk-forward evaluation refits per fold (`forecast.evaluate`); this module is for the
"train once, predict forward" workflow of `fcast train` and `fcast backtest --model-path`.
A saved model carries its fitted feature scaling in its JSON manifest (no pickles: the
model file is .keras or .skops), and predicts only dates after its training span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast import defaults
from forecast.errors import ConfigError
from forecast.features import FeaturePipeline, FeatureSpec, make_target
from forecast.features.target import DEFAULT_LABEL, check_label, label_lookahead
from forecast.features.windows import decision_windows
from forecast.models.fitting import fit_model, predict_up, purge_validation_overlap


@dataclass
class TrainedModel:
    """A fitted model with the fitted feature pipeline and the span it learnt from."""

    model: Any
    pipeline: FeaturePipeline
    window: int
    horizon: int
    threshold: float
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    n_samples: int
    ticker: str | None = None
    metrics: dict = field(default_factory=dict)
    label: str = DEFAULT_LABEL

    @property
    def name(self) -> str:
        from forecast.models.registry import model_reference

        return model_reference(self.model)

    def metadata(self) -> dict:
        """What the JSON sidecar records beside the model."""
        return {
            "feature_spec": self.pipeline.spec_.to_dict(),
            "pipeline_state": self.pipeline.state_dict(),
            "window": self.window,
            "horizon": self.horizon,
            "label": self.label,
            "threshold": self.threshold,
            "train_start": self.train_start.date().isoformat(),
            "train_end": self.train_end.date().isoformat(),
            "n_samples": self.n_samples,
            "ticker": self.ticker,
            "metrics": self.metrics,
        }


def _windows(pipeline: FeaturePipeline, bars: pd.DataFrame, window: int):
    """Complete feature windows and their decision positions (warm-up rows dropped)."""
    return decision_windows(pipeline.transform(bars).to_numpy(dtype="float64"), window)


def train_model(
    bars: pd.DataFrame,
    model: str | Any = "lstm",
    *,
    model_params: dict | None = None,
    spec: FeatureSpec | dict | None = None,
    window: int = defaults.WINDOW,
    horizon: int = defaults.HORIZON,
    threshold: float = 0.0,
    label: str = defaults.LABEL,
    callbacks=None,
) -> TrainedModel:
    """Fit the feature pipeline and `model` on every labelled window of `bars`.

    The last `label_lookahead(horizon, label)` bars have no label and are not trained on;
    `train_end` is the last bar whose price any label used, so predictions must start
    after it.
    """
    from forecast.models.registry import make_model

    est = make_model(model, **(model_params or {})) if isinstance(model, str) else model
    est = purge_validation_overlap(est, model_params, label_lookahead(horizon, check_label(label)))
    pipeline = FeaturePipeline(spec).fit(bars)
    X, positions = _windows(pipeline, bars, window)
    labels = make_target(bars, horizon, threshold, label=label).to_numpy()[positions]
    known = ~np.isnan(labels)
    if known.sum() < 50:
        raise ConfigError(
            f"{len(bars)} bars give {int(known.sum())} labelled windows; need at least 50 "
            f"(feature warm-up {pipeline.warmup} + window {window})"
        )
    fit_model(est, X[known], labels[known].astype(int), callbacks)
    return TrainedModel(
        model=est,
        pipeline=pipeline,
        window=window,
        horizon=horizon,
        threshold=threshold,
        label=label,
        train_start=bars.index[0],
        train_end=bars.index[-1],
        n_samples=int(known.sum()),
        ticker=bars.attrs.get("ticker"),
    )


def predict(trained: TrainedModel, bars: pd.DataFrame, start=None) -> pd.DataFrame:
    """Predictions (contract shape) for decision dates after the training span.

    `bars` may begin before `train_end` (the feature windows need history), but every
    predicted date is later than `train_end`; asking for an earlier `start` is an error.
    """
    first_allowed = trained.train_end + pd.Timedelta(days=1)
    if start is not None and pd.Timestamp(start) <= trained.train_end:
        raise ConfigError(
            f"the model was trained on bars up to {trained.train_end.date()}; predictions must "
            f"start after it (got start {pd.Timestamp(start).date()})"
        )
    begin = pd.Timestamp(start) if start is not None else first_allowed
    X, positions = _windows(trained.pipeline, bars, trained.window)
    dates = bars.index[positions]
    keep = dates >= begin
    if not keep.any():
        raise ConfigError(
            f"no bars after the model's training span (ends {trained.train_end.date()}) to "
            f"predict; the data ends {bars.index[-1].date()}"
        )
    proba = predict_up(trained.model, X[keep])
    actual = make_target(bars, trained.horizon, trained.threshold, label=trained.label).reindex(
        dates[keep]
    )
    out = pd.DataFrame(
        {"prob_up": proba, "actual_up": actual.to_numpy(), "fold": 0}, index=dates[keep]
    )
    out.index.name = "date"
    out.attrs.update(model=trained.name, ticker=bars.attrs.get("ticker"), horizon=trained.horizon,
                     label=trained.label, threshold=trained.threshold)
    return out


def save_trained(trained: TrainedModel, path: str | Path) -> Path:
    """Save model + sidecar; returns the sidecar path."""
    from forecast.models.persistence import save_model

    return save_model(trained.model, path, trained.metadata())


def load_trained(path: str | Path, expected_spec: FeatureSpec | dict | None = None) -> TrainedModel:
    """Load a model saved by `save_trained` (Keras safe mode; spec checked when given)."""
    from forecast.models.persistence import load_model

    model, side = load_model(path, expected_spec=expected_spec)
    if "pipeline_state" not in side:
        raise ConfigError(f"{path} was not saved by `fcast train` (no feature scaling stored)")
    pipeline = FeaturePipeline.from_state(side["feature_spec"], side["pipeline_state"])
    return TrainedModel(
        model=model,
        pipeline=pipeline,
        window=int(side["window"]),
        horizon=int(side.get("horizon", 1)),
        threshold=float(side.get("threshold", 0.0)),
        train_start=pd.Timestamp(side["train_start"]),
        train_end=pd.Timestamp(side["train_end"]),
        n_samples=int(side.get("n_samples", 0)),
        ticker=side.get("ticker"),
        metrics=side.get("metrics") or {},
        # Models saved before labels were named were trained on close-to-close moves.
        label=side.get("label", "close"),
    )


# The name the package exports (`fc.predict_forward`); `fc.predict` is the main path's step.
predict_forward = predict
