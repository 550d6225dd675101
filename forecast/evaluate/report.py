"""Evaluate a model against baselines on identical out-of-sample dates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from forecast.errors import ConfigError
from forecast.evaluate.metrics import metrics_table
from forecast.evaluate.predictions import label_returns
from forecast.evaluate.walkforward import walk_forward
from forecast.jsonsafe import json_safe

DEFAULT_BASELINES = ("majority", "momentum", "logreg", "gbm")
# Next-day direction on real markets is close to a coin flip: more than this is suspect.
LEAK_SUSPECT_ACCURACY = 0.60


@dataclass
class EvaluationReport:
    """Predictions and scores of one model and its baselines.

    `predictions` maps model name to a predictions frame (the model first); `metrics` has
    one row per model (index `model`) and the columns of `METRIC_KEYS` (of
    `SCORE_METRIC_KEYS` for a return target's scores).
    """

    ticker: str | None
    model: str
    predictions: dict[str, pd.DataFrame]
    metrics: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def baselines(self) -> list[str]:
        """Names of the baseline models, in order."""
        return [m for m in self.predictions if m != self.model]

    def verdict(self) -> list[str]:
        """One line on whether the model beats the majority class (95% interval), and a
        warning line when its accuracy is implausibly high for daily direction."""
        row = self.metrics.loc[self.model]
        acc, se, base = row["accuracy"], row["accuracy_se"], row["majority_rate"]
        if not all(pd.notna(v) for v in (acc, se, base)):
            return []
        lo, hi = acc - 1.96 * se, acc + 1.96 * se
        beats = "beats" if lo > base else "does not beat"
        lines = [f"{self.model} accuracy {acc:.3f} (95% CI {lo:.3f}-{hi:.3f}) {beats} the "
                 f"majority-class rate {base:.3f}; p = {row['p_value']:.3g}."]
        if "ic" in row.index and pd.notna(row["ic"]):
            lines.append(f"{self.model} predicted returns: IC {row['ic']:.3f}, rank IC {row['rank_ic']:.3f} "
                         "against the realised traded return.")
        if acc > LEAK_SUSPECT_ACCURACY:
            lines.append(f"warning: accuracy above {LEAK_SUSPECT_ACCURACY:.2f} on daily direction "
                         "is more often a leak than skill; check the data and features.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: the model's metrics at top level, baselines nested.

        Keys: ticker, model, n_predictions (all out-of-sample rows), n_scored (rows with
        a known outcome), start, end (ISO dates), every metric column (`METRIC_KEYS`; a
        return target: "target" and `SCORE_METRIC_KEYS`),
        baselines {name: metric keys}, settings. NaN becomes None.
        """
        pred = self.predictions[self.model]
        out: dict[str, Any] = {
            "ticker": self.ticker,
            "model": self.model,
            "n_predictions": int(len(pred)),
            "n_scored": int(pred["actual_up"].notna().sum()),
            "start": pred.index[0].date().isoformat() if len(pred) else None,
            "end": pred.index[-1].date().isoformat() if len(pred) else None,
        }
        if "score" in pred.columns:
            out["target"] = "return"
        out.update(_row(self.metrics, self.model))
        out["baselines"] = {b: _row(self.metrics, b) for b in self.baselines}
        out["settings"] = json_safe(self.settings)
        return out


def evaluate(
    bars: pd.DataFrame,
    model: Any,
    *,
    baselines: tuple[str, ...] | list[str] = DEFAULT_BASELINES,
    baseline_params: dict[str, dict] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: Any = None,
    tune: Any = None,
    **walk_forward_kwargs: Any,
) -> EvaluationReport:
    """Walk `model` and every baseline forward on the same dates and score them.

    `walk_forward_kwargs` (window, horizon, test_days, seed, ...) are shared;
    `model_params` among them goes to `model` only, `baseline_params[name]` to a baseline.
    A baseline with the model's own name is skipped. `progress(done, total)` counts folds
    across all models. `cache`: a `forecast.cache.PredictionCache` to read and keep
    every model's walk-forward predictions (None: no cache). `tune` (a
    `forecast.tune.TuneSettings`): the model is tuned inside its walk-forward; the
    baselines are not, and the untuned model is one of them when it is a baseline.
    """
    baseline_params = dict(baseline_params or {})
    model_params = walk_forward_kwargs.pop("model_params", None)
    unknown = set(baseline_params) - set(baselines)
    if unknown:
        raise ConfigError(f"baseline_params names unknown baseline(s): {', '.join(sorted(unknown))}")

    runs: list[tuple[Any, dict | None]] = [(model, model_params)]
    runs += [(b, baseline_params.get(b)) for b in baselines if b != model or tune is not None]
    predictions: dict[str, pd.DataFrame] = {}
    for m, (spec_model, params) in enumerate(runs):
        hook = None
        if progress is not None:

            def hook(k: int, n_folds: int, _m: int = m) -> None:
                progress(_m * n_folds + k, n_folds * len(runs))

        run = walk_forward if cache is None else cache.walk_forward
        extra = {"tune": tune} if tune is not None and m == 0 else {}
        pred = run(bars, spec_model, model_params=params, progress=hook, **extra, **walk_forward_kwargs)
        name = pred.attrs["model"]
        if name in predictions:
            raise ConfigError(f"two models are named {name!r}; give distinct names")
        predictions[name] = pred

    first = next(iter(predictions.values()))
    for name, pred in predictions.items():
        # Same schedule, same dates: anything else would make the comparison unfair.
        if not pred.index.equals(first.index):
            raise ConfigError(f"model {name} was evaluated on different dates than the others")

    table = metrics_table(predictions, label_returns(bars, first))
    settings = {k: v for k, v in first.attrs.items() if k not in ("model", "ticker")}
    return EvaluationReport(
        ticker=bars.attrs.get("ticker"),
        model=first.attrs["model"],
        predictions=predictions,
        metrics=table,
        settings=settings,
    )


def _row(table: pd.DataFrame, name: str) -> dict[str, Any]:
    return {k: json_safe(table.loc[name, k]) for k in table.columns}
