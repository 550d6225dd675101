"""FeaturePipeline: trailing features plus a scaler learnt on the training span only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from forecast.errors import ConfigError
from forecast.features.garch import GarchParams, fit_garch, garch_volatility
from forecast.features.indicators import check_bars, raw_features, rolling_zscore
from forecast.features.spec import FeatureSpec

# Columns left unscaled: already bounded calendar encodings.
_UNSCALED = ("dow_sin", "dow_cos")


class FeaturePipeline:
    """Compute the features of a `FeatureSpec` and normalise them without look-ahead.

    `fit(bars)` learns everything data-dependent (scaler statistics, GARCH parameters)
    from `bars` alone; `transform(bars)` then applies it unchanged. Because every raw
    feature is trailing, the transformed row at t depends on bars up to t and on what
    `fit` saw, never on bars after t.
    """

    def __init__(self, spec: FeatureSpec | dict | None = None) -> None:
        if spec is None:
            spec = FeatureSpec.default()
        elif isinstance(spec, dict):
            spec = FeatureSpec.from_dict(spec)
        elif not isinstance(spec, FeatureSpec):
            raise ConfigError(f"spec must be a FeatureSpec or a mapping, not {type(spec).__name__}")
        self.spec = spec
        self.columns_: list[str] = spec.columns()
        self.garch_params_: GarchParams | None = None
        self._scaler: StandardScaler | None = None
        self._ret_scaler: StandardScaler | None = None
        self._fitted = False

    @property
    def warmup(self) -> int:
        """Leading bars whose features are NaN."""
        return self.spec.warmup

    def fit(self, bars: pd.DataFrame) -> FeaturePipeline:
        """Learn GARCH parameters and scaler statistics from `bars` (the training span) only."""
        check_bars(bars, self.spec)
        if self.spec.garch:
            self.garch_params_ = fit_garch(np.log(bars["close"]).diff())
        raw = self._raw(bars)
        valid = raw.notna().all(axis=1).to_numpy()
        if valid.sum() < 2:
            raise ConfigError(
                f"feature fit span has {len(bars)} bars; the features need more than "
                f"{self.spec.warmup + 1} (warm-up {self.spec.warmup})"
            )
        if self.spec.normalize == "fit":
            centred = self._centred_columns()
            # A spec may have no column to centre (only ret_1, maybe day-of-week).
            self._scaler = StandardScaler().fit(raw.loc[valid, centred].to_numpy()) if centred else None
            # ret_1 is divided by its standard deviation but not centred: the sign survives.
            self._ret_scaler = StandardScaler(with_mean=False).fit(raw.loc[valid, ["ret_1"]].to_numpy())
        self._fitted = True
        return self

    def transform(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Scaled features indexed like `bars`, `ret_1` first, NaN in warm-up rows."""
        if not self._fitted:
            raise ConfigError("FeaturePipeline.transform was called before fit")
        check_bars(bars, self.spec)
        raw = self._raw(bars)
        out = raw.copy()
        centred = self._centred_columns()
        if self.spec.normalize == "fit":
            if centred:
                out[centred] = self._scaler.transform(raw[centred].to_numpy())
            out["ret_1"] = self._ret_scaler.transform(raw[["ret_1"]].to_numpy())[:, 0]
        else:
            w = self.spec.scale_window
            for col in centred:
                out[col] = rolling_zscore(raw[col], w)
            rms = np.sqrt((raw["ret_1"] ** 2).rolling(w, min_periods=w).mean())
            out["ret_1"] = (raw["ret_1"] / rms).where(rms > 0, 0.0).where(rms.notna())
        # A warm-up row is NaN in every column, so callers drop whole rows.
        out.loc[out.isna().any(axis=1).to_numpy()] = np.nan
        return out

    def fit_transform(self, bars: pd.DataFrame) -> pd.DataFrame:
        """`fit(bars)` then `transform(bars)`."""
        return self.fit(bars).transform(bars)

    def raw(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Unscaled features (GARCH needs a prior `fit`)."""
        check_bars(bars, self.spec)
        if self.spec.garch and self.garch_params_ is None:
            raise ConfigError("GARCH features need FeaturePipeline.fit before raw()")
        return self._raw(bars)

    def state_dict(self) -> dict:
        """The fitted statistics (scalers, GARCH parameters) as JSON-able data.

        Saved beside a trained model so that later predictions scale features exactly as
        training did, without pickles.
        """
        if not self._fitted:
            raise ConfigError("FeaturePipeline.state_dict was called before fit")

        def scaler(s: StandardScaler | None):
            if s is None:
                return None
            mean = None if s.mean_ is None else s.mean_.tolist()
            return {"mean_": mean, "scale_": s.scale_.tolist(), "var_": s.var_.tolist()}

        garch = self.garch_params_
        return {
            "scaler": scaler(self._scaler),
            "ret_scaler": scaler(self._ret_scaler),
            "garch": None if garch is None else dataclasses.asdict(garch),
        }

    @classmethod
    def from_state(cls, spec: FeatureSpec | dict, state: dict) -> FeaturePipeline:
        """A fitted pipeline rebuilt from `state_dict()` output."""
        pipe = cls(spec)

        def scaler(d: dict | None, with_mean: bool) -> StandardScaler | None:
            if d is None:
                return None
            s = StandardScaler(with_mean=with_mean)
            s.mean_ = None if d["mean_"] is None else np.asarray(d["mean_"], dtype="float64")
            s.scale_ = np.asarray(d["scale_"], dtype="float64")
            s.var_ = np.asarray(d["var_"], dtype="float64")
            s.n_features_in_ = len(s.scale_)
            s.n_samples_seen_ = 1
            return s

        try:
            pipe._scaler = scaler(state.get("scaler"), True)
            pipe._ret_scaler = scaler(state.get("ret_scaler"), False)
            if state.get("garch") is not None:
                pipe.garch_params_ = GarchParams(**state["garch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"saved feature scaling is unreadable: {exc}") from None
        needs_scaler = pipe.spec.normalize == "fit" and pipe._centred_columns()
        if (needs_scaler and pipe._scaler is None) or (
            pipe.spec.normalize == "fit" and pipe._ret_scaler is None
        ):
            raise ConfigError("saved feature scaling is missing for a 'fit'-normalized spec")
        pipe._fitted = True
        return pipe

    def _raw(self, bars: pd.DataFrame) -> pd.DataFrame:
        raw = raw_features(bars, self.spec)
        if self.spec.garch:
            raw["garch_vol"] = garch_volatility(np.log(bars["close"]).diff(), self.garch_params_)
        return raw[self.columns_]

    def _centred_columns(self) -> list[str]:
        return [c for c in self.columns_ if c != "ret_1" and c not in _UNSCALED]
