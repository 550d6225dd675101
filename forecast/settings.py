"""The option groups that `evaluate`, `train`, `backtest`, `portfolio` and experiment specs
share: what model and how it trains, how the walk-forward folds run, what trading costs.

Built once (by the CLI from its flags, by a spec from its tables) and read everywhere
instead of passing each option along. Defaults come from `forecast.defaults`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from forecast import defaults


def model_params_for(name: str, **candidates) -> dict:
    """Keep only the `candidates` (epochs, seed, device, ...) that model `name` accepts
    (a registry name, `module:Class` or `path/to/file.py:Class`)."""
    from forecast.models.ensemble_name import ensemble_members, is_ensemble
    from forecast.models.registry import default_params

    if is_ensemble(name):  # member -> what it takes (see forecast/models/ensemble_name.py)
        return {m: model_params_for(m, **candidates) for m in ensemble_members(name)}
    accepted = set(default_params(name))
    return {k: v for k, v in candidates.items() if k in accepted and v is not None}


@dataclass(frozen=True)
class ModelOptions:
    """A model and how it trains; `params()` keeps what the model takes (baselines take fewer)."""

    name: str = defaults.SINGLE_TICKER_MODEL
    epochs: int | None = None
    seed: int | None = defaults.SEED
    device: str | None = defaults.DEVICE
    mixed_precision: bool = False

    def params(self) -> dict:
        return model_params_for(self.name, epochs=self.epochs, seed=self.seed, device=self.device,
                                mixed_precision=self.mixed_precision or None)


@dataclass(frozen=True)
class WalkForwardOptions:
    """How the walk-forward plans its folds and builds its samples (a spec's [walk_forward])."""

    window: int = defaults.WINDOW
    test_days: int | None = None
    folds: int | None = None  # test days = folds x retrain_every
    retrain_every: int = defaults.RETRAIN_EVERY
    train_window: int | None = defaults.TRAIN_WINDOW
    label: str = defaults.LABEL
    features: str | None = None  # a feature preset (alpha158) or a TOML file declaring the spec
    test_start: str | None = None  # test from this date on: later bars move no fold (signals)

    @classmethod
    def from_table(cls, table: Mapping) -> WalkForwardOptions:
        """The options of a checked [walk_forward] table; missing keys take the defaults."""
        given = {f.name: table[f.name] for f in fields(cls) if table.get(f.name) is not None}
        for key in ("window", "retrain_every", "folds"):
            if key in given:
                given[key] = int(given[key])
        if "test_start" in given:  # TOML reads a bare date as a date
            given["test_start"] = str(given["test_start"])
        return cls(**given)

    def table(self) -> dict:
        """The options as a [walk_forward] table (unset ones left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def feature_spec(self):
        """The FeatureSpec `features` names (a preset or a file), or None for the default spec."""
        if not self.features:
            return None
        from forecast.features import FeatureSpec

        return FeatureSpec.from_option(self.features)

    def kwargs(self, seed: int | None) -> dict:
        """`walk_forward` keyword arguments for one seed (reads the feature spec's file)."""
        test_days = self.test_days
        if self.folds is not None:
            test_days = self.folds * self.retrain_every
        return {
            "window": self.window,
            "seed": seed,
            "test_days": test_days,
            "retrain_every": self.retrain_every,
            "train_window": self.train_window,
            "spec": self.feature_spec(),
            "label": self.label,
            # Only when given: every other run's arguments stay what they were.
            **({"test_start": self.test_start} if self.test_start is not None else {}),
        }

    def universe_kwargs(self, seed: int | None) -> dict:
        """`portfolio_walk_forward` keyword arguments: those of `kwargs` but the label (a
        universe's forecasts are of the traded open-to-open return)."""
        return {k: v for k, v in self.kwargs(seed).items() if k != "label"}


@dataclass(frozen=True)
class CostOptions:
    """Starting cash and what trading costs; `broker()` gives the engines' keyword arguments."""

    cash: float = defaults.CASH
    commission: float = defaults.COMMISSION
    slippage: float = defaults.SLIPPAGE
    min_commission: float = defaults.MIN_COMMISSION
    commission_per_share: float | None = None  # instead of `commission` when given

    def broker(self) -> dict:
        """The engines' keyword arguments (commission_per_share only when given)."""
        return {k: v for k, v in asdict(self).items() if v is not None}
