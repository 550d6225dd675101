"""FeaturePipeline: trailing features plus a scaling learnt on the training span only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from forecast.errors import ConfigError
from forecast.features import cross_section
from forecast.features.builtin import STANDARD
from forecast.features.feature import Feature
from forecast.features.indicators import check_bars, rolling_zscore
from forecast.features.registry import is_builtin
from forecast.features.scaling import Standardisation
from forecast.features.spec import FeatureSpec, as_spec


def raw_features(
    bars: pd.DataFrame, spec: FeatureSpec | dict | None, states: dict | None = None
) -> pd.DataFrame:
    """Unscaled features of `spec`, indexed like `bars`, in column order.

    Features with a `fit` (GARCH) need their fitted state in `states`, keyed by feature
    name (a fitted pipeline's `states_`).
    """
    spec = as_spec(spec)
    check_bars(bars, spec)
    return _compute(bars, spec, states or {})


def precomputable(spec: FeatureSpec) -> list[Feature]:
    """Features whose whole-series values can be computed once and sliced for any fold: the
    built-in ones (held to being trailing by the test suite) without fitted state."""
    return [f for f in spec.features() if f.fit is None and is_builtin(f)]


def precompute(bars: pd.DataFrame, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """The raw columns of `precomputable(spec)` over all of `bars`, by column name.

    A row at t reads bars up to t only, and (trailing computations run from the first bar)
    equals to the last bit what the pipeline computes on any prefix of `bars`; rows from a
    later start equal it only for `start_invariant` features.
    """
    check_bars(bars, spec)
    cols: dict = {}
    for feature in precomputable(spec):
        cols.update(feature.values(bars, spec))
    return {c: np.asarray(v, dtype="float64") for c, v in cols.items()}


def precomputed_span(bars: pd.DataFrame, spec: FeatureSpec, cached: dict, start: int, stop: int) -> dict:
    """The columns of `cached` (`precompute(bars, spec)`) that equal, to the last bit, what
    computing on `bars[start:stop]` alone gives, for that span.

    From the first bar every precomputed column qualifies (a prefix). From a later start only
    `start_invariant` features do, and their first warm-up rows, NaN when computed on the
    span alone, are computed on those few bars.
    """
    out: dict = {}
    for feature in precomputable(spec):
        names = feature.column_names(spec)
        if start == 0:
            out.update({c: cached[c][:stop] for c in names})
        elif feature.start_invariant:
            head = min(feature.warmup_bars(spec), stop - start)
            first = feature.values(bars.iloc[start : start + head], spec) if head else {}
            for c in names:
                rest = cached[c][start + head : stop]
                out[c] = np.concatenate([np.asarray(first[c], dtype="float64"), rest]) if head else rest
    return out


def _compute(bars: pd.DataFrame, spec: FeatureSpec, states: dict, raw=None) -> pd.DataFrame:
    cols: dict = {}
    for feature in spec.features():
        names = feature.column_names(spec)
        if raw is not None and all(c in raw for c in names):
            cols.update({c: raw[c] for c in names})  # precomputed for these very bars
            continue
        if feature.fit is not None and states.get(feature.name) is None:
            raise ConfigError(f"feature {feature.name} needs to be fitted first (FeaturePipeline.fit)")
        cols.update(feature.values(bars, spec, states.get(feature.name)))
    return pd.DataFrame(cols, index=bars.index, dtype="float64")


def _check_raw(bars: pd.DataFrame, raw) -> None:
    if raw is not None and any(len(v) != len(bars) for v in raw.values()):
        raise ConfigError("precomputed features must have one row per bar")


def _centred_columns(spec: FeatureSpec) -> list[str]:
    """Columns z-scored on the fit span: every scaled column but `ret_1` (scaled, not centred)
    and those normalised across a universe's tickers instead (`cross_section`)."""
    across = set(cross_section.columns(spec))
    return [c for f in spec.features() if f.scaled for c in f.column_names(spec)
            if c != "ret_1" and c not in across]


def _check_cross_section(spec: FeatureSpec, raw) -> None:
    """Cross-sectional columns come normalised from the universe walk-forward (`raw`); the
    pipeline alone sees one ticker and cannot make them."""
    missing = [c for c in cross_section.columns(spec) if raw is None or c not in raw]
    if missing:
        raise ConfigError(
            f"feature option cross_section = {spec.cross_section!r} normalises across a universe's "
            "tickers each day: use it in a universe walk-forward (fcast portfolio), not on one ticker"
        )


def _stateful_features(spec: FeatureSpec) -> list[Feature]:
    """Features with fitted state: the standard ones (saved even when off) and the spec's."""
    by_name = {f.name: f for f in (*STANDARD, *spec.features()) if f.fit is not None}
    return list(by_name.values())


class FeaturePipeline(BaseEstimator):
    """Compute the features of a `FeatureSpec` and normalise them without look-ahead.

    `fit(bars)` learns everything data-dependent (scaling statistics, features' own
    fitted state such as GARCH parameters) from `bars` alone; `transform(bars)` then
    applies it unchanged. Because every raw feature is trailing, the transformed row at
    t depends on bars up to t and on what `fit` saw, never on bars after t.

    Fitted attributes: `spec_` (the spec as a FeatureSpec), `columns_`, `states_`
    (feature name -> fitted state), `scaler_` and `ret_scaler_` (`Standardisation`,
    None with rolling normalisation).
    """

    def __init__(self, spec: FeatureSpec | dict | None = None) -> None:
        self.spec = spec

    @property
    def warmup(self) -> int:
        """Leading bars whose features are NaN."""
        spec = self.spec_ if hasattr(self, "spec_") else as_spec(self.spec)
        return spec.warmup

    def fit(self, bars: pd.DataFrame, y=None, *, raw: dict | None = None) -> FeaturePipeline:
        """Learn features' fitted state and scaling statistics from `bars` (the training span) only.

        `raw`: columns already computed for exactly these bars (column name -> values, e.g.
        slices of `precompute`); the features they cover are not computed again.
        """
        spec = as_spec(self.spec)
        check_bars(bars, spec)
        _check_raw(bars, raw)
        _check_cross_section(spec, raw)
        states = {f.name: f.fit_state(bars, spec) for f in spec.features() if f.fit is not None}
        for f in spec.features():
            if not is_builtin(f):  # the test suite holds the built-in ones to it
                f.check_trailing(bars, spec, states.get(f.name))
        raw = _compute(bars, spec, states, raw)
        valid = raw.notna().all(axis=1).to_numpy()
        if valid.sum() < 2:
            raise ConfigError(
                f"feature fit span has {len(bars)} bars; the features need more than "
                f"{spec.warmup + 1} (warm-up {spec.warmup})"
            )
        scaler = ret_scaler = None
        if spec.normalize == "fit":
            centred = _centred_columns(spec)
            # A spec may have no column to centre (only ret_1, maybe day-of-week).
            scaler = Standardisation.fit(raw.loc[valid, centred].to_numpy()) if centred else None
            # ret_1 is divided by its standard deviation but not centred: the sign survives.
            ret_scaler = Standardisation.fit(raw.loc[valid, ["ret_1"]].to_numpy(), centre=False)
        return self._set_fitted(spec, states, scaler, ret_scaler)

    def _set_fitted(self, spec, states, scaler, ret_scaler) -> FeaturePipeline:
        """The fitted state, whether learnt by `fit` or restored by `from_state`."""
        self.spec_ = spec
        self.columns_ = spec.columns()
        self.states_ = states
        self.scaler_ = scaler
        self.ret_scaler_ = ret_scaler
        return self

    def transform(self, bars: pd.DataFrame, *, raw: dict | None = None) -> pd.DataFrame:
        """Scaled features indexed like `bars`, `ret_1` first, NaN in warm-up rows.

        `raw`: precomputed columns for exactly these bars, as for `fit`.
        """
        self._check_fitted("transform")
        spec = self.spec_
        check_bars(bars, spec)
        _check_raw(bars, raw)
        _check_cross_section(spec, raw)
        raw = _compute(bars, spec, self.states_, raw)
        out = raw.copy()
        centred = _centred_columns(spec)
        if spec.normalize == "fit":
            if centred:
                out[centred] = self.scaler_.apply(raw[centred].to_numpy())
            out["ret_1"] = self.ret_scaler_.apply(raw[["ret_1"]].to_numpy())[:, 0]
        else:
            w = spec.scale_window
            for col in centred:
                out[col] = rolling_zscore(raw[col], w)
            rms = np.sqrt((raw["ret_1"] ** 2).rolling(w, min_periods=w).mean())
            out["ret_1"] = (raw["ret_1"] / rms).where(rms > 0, 0.0).where(rms.notna())
        # A warm-up row is NaN in every column, so callers drop whole rows.
        out.loc[out.isna().any(axis=1).to_numpy()] = np.nan
        return out

    def fit_transform(self, bars: pd.DataFrame, y=None) -> pd.DataFrame:
        """`fit(bars)` then `transform(bars)`."""
        return self.fit(bars).transform(bars)

    def state_dict(self) -> dict:
        """The fitted statistics (scalings, features' fitted state) as JSON-able data.

        Saved beside a trained model so that later predictions scale features exactly as
        training did, without pickles.
        """
        self._check_fitted("state_dict")
        out = {
            "scaler": None if self.scaler_ is None else self.scaler_.to_dict(),
            "ret_scaler": None if self.ret_scaler_ is None else self.ret_scaler_.to_dict(),
        }
        for f in _stateful_features(self.spec_):
            out[f.name] = f.dump(self.states_[f.name]) if f.name in self.states_ else None
        return out

    @classmethod
    def from_state(cls, spec: FeatureSpec | dict, state: dict) -> FeaturePipeline:
        """A fitted pipeline rebuilt from `state_dict()` output (of this or older versions)."""
        spec = as_spec(spec)
        if not isinstance(state, dict):
            raise ConfigError("saved feature scaling is unreadable: not a mapping")
        fit_mode = spec.normalize == "fit"
        centred = _centred_columns(spec)
        try:
            scaler = ret_scaler = None
            if fit_mode and centred:
                scaler = Standardisation.from_dict(state["scaler"], centre=True)
            if fit_mode:
                ret_scaler = Standardisation.from_dict(state["ret_scaler"], centre=False)
            states = {
                f.name: f.load(state[f.name]) for f in spec.features() if f.fit is not None
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"saved feature scaling is missing or unreadable ({type(exc).__name__}: {exc})"
            ) from None
        if scaler is not None and len(scaler.scale) != len(centred):
            raise ConfigError(
                f"saved feature scaling has {len(scaler.scale)} columns, the spec {len(centred)}"
            )
        return cls(spec)._set_fitted(spec, states, scaler, ret_scaler)

    def _check_fitted(self, method: str) -> None:
        try:
            check_is_fitted(self, "states_")
        except NotFittedError:
            raise ConfigError(f"FeaturePipeline.{method} was called before fit") from None
