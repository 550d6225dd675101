"""Declarative description of the feature set: which features, which windows, which scaling.

The options switch and tune the standard features (`forecast.features.builtin`); any
other feature is named in `extra` (see `forecast.features.registry`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.errors import ConfigError
from forecast.features import registry
from forecast.features.feature import Feature
from forecast.features.presets import PRESETS, preset_options

NORMALIZE_MODES = ("fit", "rolling")
CROSS_SECTION_MODES = ("none", "rank", "zscore")

# Fields holding a tuple of positive window lengths.
_TUPLE_FIELDS = ("return_lags", "vol_windows")
# Fields holding one positive window length.
_INT_FIELDS = (
    "volume_window",
    "rsi_window",
    "macd_fast",
    "macd_slow",
    "macd_signal",
    "bb_window",
    "atr_window",
    "scale_window",
)
_BOOL_FIELDS = ("volume", "rsi", "macd", "bollinger", "atr", "hl_range", "gap", "day_of_week", "garch")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features the pipeline computes and how it scales them.

    Every feature at bar t is computed from bars up to and including t.

    `normalize`:
      * ``"fit"``: z-score each column with the mean and standard deviation of the rows
        given to `FeaturePipeline.fit` (the training span), applied unchanged later.
      * ``"rolling"``: z-score each column against its trailing `scale_window` rows
        (including t); `fit` then learns nothing but GARCH parameters.
    In both modes `ret_1` is divided by a scale only (never centred) so its sign is kept,
    and features declared unscaled (the day-of-week encoding) are left as they are.

    `extra` names further features, after the standard ones: registered names or user
    code as `module:name` / `path/to/file.py:name` (resolved when the spec is built).

    `cross_section` (universe walk-forwards only, see `forecast.features.cross_section`):
      * ``"none"``: each ticker's columns are scaled on its own training span (above).
      * ``"rank"`` / ``"zscore"``: every scaled column but `ret_1` and `log_volume` (a level
        that split adjustment shifts by later splits) is instead replaced, each date, by its
        rank or z-score across that date's universe members; those two keep their per-ticker
        scaling (`ret_1` sign-preserving) and unscaled columns are left as they are.
    """

    return_lags: tuple[int, ...] = (1, 2, 5, 10, 20)
    vol_windows: tuple[int, ...] = (5, 20)
    volume: bool = True
    volume_window: int = 20
    rsi: bool = True
    rsi_window: int = 14
    macd: bool = True
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    bollinger: bool = True
    bb_window: int = 20
    bb_k: float = 2.0
    atr: bool = True
    atr_window: int = 14
    hl_range: bool = True
    gap: bool = True
    day_of_week: bool = False
    garch: bool = False
    normalize: str = "fit"
    scale_window: int = 252
    extra: tuple[str, ...] = ()
    cross_section: str = "none"

    def __post_init__(self) -> None:
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = (value,)
            try:
                value = tuple(value)
            except TypeError:
                raise ConfigError(f"feature option {name} must be a list of integers") from None
            object.__setattr__(self, name, value)
            for v in value:
                _check_window(name, v)
        for name in _INT_FIELDS:
            _check_window(name, getattr(self, name))
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"feature option {name} must be true or false")
        if 1 not in self.return_lags:
            # ret_1 is part of the contract (first column), so it is always computed.
            object.__setattr__(self, "return_lags", (1, *self.return_lags))
        object.__setattr__(self, "return_lags", tuple(sorted(set(self.return_lags))))
        object.__setattr__(self, "vol_windows", tuple(sorted(set(self.vol_windows))))
        if any(w < 2 for w in self.vol_windows):
            raise ConfigError("feature option vol_windows needs windows of at least 2 bars")
        if self.volume_window < 2 or self.bb_window < 2 or self.scale_window < 2:
            raise ConfigError("volume_window, bb_window and scale_window must be at least 2")
        if self.macd_fast >= self.macd_slow:
            raise ConfigError("feature option macd_fast must be smaller than macd_slow")
        if not isinstance(self.bb_k, (int, float)) or isinstance(self.bb_k, bool) or self.bb_k <= 0:
            raise ConfigError("feature option bb_k must be a positive number")
        object.__setattr__(self, "bb_k", float(self.bb_k))
        if self.normalize not in NORMALIZE_MODES:
            raise ConfigError(
                f"feature option normalize must be one of {', '.join(NORMALIZE_MODES)}, "
                f"not {self.normalize!r}"
            )
        self._check_extra()
        if self.cross_section not in CROSS_SECTION_MODES:
            raise ConfigError(
                f"feature option cross_section must be one of {', '.join(CROSS_SECTION_MODES)}, "
                f"not {self.cross_section!r}"
            )
        fitted = [f.name for f in self.features() if f.fit is not None]
        if self.cross_section != "none" and fitted:
            raise ConfigError(
                f"feature option cross_section cannot normalise fitted features ({', '.join(fitted)}): "
                "their values depend on each fold's fit"
            )

    def _check_extra(self) -> None:
        value = self.extra
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError("feature option extra must be a list of feature names")
        object.__setattr__(self, "extra", tuple(value))
        # Resolved once here (user files are imported once); not a dataclass field.
        object.__setattr__(self, "_extra_features", tuple(registry.resolve(r) for r in self.extra))
        seen: dict[str, str] = {}
        for feature in self.features():
            for col in feature.column_names(self):
                if col in seen:
                    raise ConfigError(f"features {seen[col]} and {feature.name} both make column {col!r}")
                seen[col] = feature.name

    @classmethod
    def default(cls) -> FeatureSpec:
        """The standard feature set (no day-of-week, no GARCH)."""
        return cls()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Build a spec from a plain mapping (as produced by `to_dict` or read from TOML).

        A `preset` key starts from that named set (`forecast.features.presets`); the other
        keys override its options.
        """
        if not isinstance(data, dict):
            raise ConfigError("a feature spec must be a mapping of option names to values")
        if "preset" in data:
            data = dict(data)
            data = {**preset_options(data.pop("preset")), **data}
        names = {f.name for f in dataclasses.fields(cls)}
        extra = sorted(set(data) - names)
        if extra:
            raise ConfigError(f"unknown feature option(s): {', '.join(map(str, extra))}")
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | Path) -> FeatureSpec:
        """Read a spec from a TOML file: top-level keys, or a ``[features]`` table."""
        from forecast.tomlfile import read_toml

        data = read_toml(path, "feature spec")
        if isinstance(data.get("features"), dict):
            data = data["features"]
        return cls.from_dict(data)

    @classmethod
    def from_option(cls, value: str | Path) -> FeatureSpec:
        """What `--features` (or a spec's `features`) names: a preset (`alpha158`, `default`)
        or a TOML file declaring the spec. Raises ConfigError in one line."""
        if isinstance(value, str) and value in PRESETS:
            return cls.from_dict({"preset": value})
        if not Path(value).is_file():
            raise ConfigError(f"cannot read feature spec {str(value)!r}: no such file, and not a "
                              f"feature preset ({', '.join(sorted(PRESETS))})")
        return cls.from_toml(value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able mapping that `from_dict` turns back into an equal spec."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        # Specs without extra features or a cross-section keep the form saved models recorded.
        if not self.extra:
            del out["extra"]
        if self.cross_section == "none":
            del out["cross_section"]
        return out

    def features(self) -> list[Feature]:
        """The features this spec turns on, in column order (standard ones, then `extra`)."""
        return registry.standard_features(self) + list(self._extra_features)

    def inputs(self) -> list[str]:
        """The bar columns the features read."""
        return list(dict.fromkeys(c for f in self.features() for c in f.inputs))

    def columns(self) -> list[str]:
        """Names of the output columns, in order; `ret_1` is always first."""
        return [c for f in self.features() for c in f.column_names(self)]

    @property
    def min_fit(self) -> int:
        """The fewest bars the fitted features (e.g. GARCH) can learn from; 0 when none is fitted."""
        return max((f.min_fit for f in self.features()), default=0)

    @property
    def warmup(self) -> int:
        """Number of leading bars whose features are NaN (the first valid row's position)."""
        base = max(f.warmup_bars(self) for f in self.features())
        if self.normalize == "rolling":
            return base + self.scale_window - 1
        return base


def as_spec(spec: FeatureSpec | dict | str | None) -> FeatureSpec:
    """`spec` as a FeatureSpec: None is the default spec, a mapping goes through `from_dict`,
    a string through `from_option` (a preset name such as "alpha158", or a TOML file)."""
    if spec is None:
        return FeatureSpec.default()
    if isinstance(spec, str | Path):
        return FeatureSpec.from_option(spec)
    if isinstance(spec, dict):
        return FeatureSpec.from_dict(spec)
    if isinstance(spec, FeatureSpec):
        return spec
    raise ConfigError(f"spec must be a FeatureSpec, a mapping or a preset name, not {type(spec).__name__}")


def _check_window(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"feature option {name} must be a positive integer, not {value!r}")
