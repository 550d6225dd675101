"""`SignalConfig`: everything that shapes a signal's numbers, as one hashable document.

A signal is the last row of the backtest its configuration defines, so the configuration
is exactly a backtest's options (model, strategy and its parameters, walk-forward, costs,
engine) for one ticker or several, or a portfolio's for a universe. `to_dict` is the
JSON a journal stores and `config_hash` fingerprints it; `from_dict` rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from forecast import defaults
from forecast.errors import ConfigError
from forecast.settings import CostOptions, ModelOptions, WalkForwardOptions

KINDS = ("ticker", "portfolio")


@dataclass(frozen=True)
class SignalConfig:
    """A backtest's (kind "ticker") or a portfolio's (kind "portfolio") options.

    `tickers`: the tickers (a ticker signal gives one row each; a portfolio ranks them),
    or `universe`, a stored or bundled universe's name (portfolio). `params`: the
    strategy's parameters as given (``key=value`` strings or a mapping). `portfolio`:
    the portfolio's own options (pooled, target, train_on, rebalance_band, max_fee_share).
    """

    kind: str = "ticker"
    tickers: tuple[str, ...] = ()
    universe: str | None = None
    model: ModelOptions = field(default_factory=ModelOptions)
    model_path: str | None = None
    strategy: str = defaults.STRATEGY
    params: dict = field(default_factory=dict)
    walk_forward: WalkForwardOptions = field(default_factory=WalkForwardOptions)
    costs: CostOptions = field(default_factory=CostOptions)
    engine: str = defaults.ENGINE
    start: str | None = None
    portfolio: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"signal kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind == "ticker" and not self.tickers:
            raise ConfigError("a ticker signal needs at least one ticker")
        if self.kind == "portfolio" and not self.tickers and not self.universe:
            raise ConfigError("a portfolio signal needs a universe or tickers")

    def to_dict(self) -> dict:
        """The configuration as JSON-ready data (what is hashed and journaled)."""
        return {
            "kind": self.kind,
            "tickers": list(self.tickers),
            "universe": self.universe,
            "model": None if self.model_path is not None else asdict(self.model),  # the saved model's
            "model_path": self.model_path,
            "strategy": self.strategy,
            "params": _plain(self.params),
            "walk_forward": asdict(self.walk_forward),
            "costs": asdict(self.costs),
            "engine": self.engine,
            "start": self.start,
            "portfolio": _plain(self.portfolio),
        }

    @classmethod
    def from_dict(cls, data: dict) -> SignalConfig:
        """The configuration `to_dict` wrote (ConfigError for one that is not)."""
        try:
            return cls(
                kind=data["kind"], tickers=tuple(data.get("tickers") or ()), universe=data.get("universe"),
                model=ModelOptions(**(data.get("model") or {})), model_path=data.get("model_path"),
                strategy=data["strategy"], params=dict(data.get("params") or {}),
                walk_forward=WalkForwardOptions(**data["walk_forward"]), costs=CostOptions(**data["costs"]),
                engine=data.get("engine", defaults.ENGINE), start=data.get("start"),
                portfolio=dict(data.get("portfolio") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"not a signal configuration: {exc}") from None

    def config_hash(self) -> str:
        """sha256 of the canonical JSON of `to_dict` (sorted keys, no spaces)."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def pinned(self, test_start) -> SignalConfig:
        """The same configuration with its test span starting at `test_start`: the fold
        boundaries of a run through any later day are then those of this one (a forward
        test's journal keeps them fixed). A saved model has no folds: unchanged."""
        if self.model_path is not None or self.walk_forward.test_start is not None:
            return self
        wf = replace(self.walk_forward, test_start=str(test_start)[:10], test_days=None, folds=None)
        return replace(self, walk_forward=wf)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def _plain(mapping: dict) -> dict:
    """A parameter mapping as JSON values (numbers and strings as they are, others as text)."""
    return json.loads(canonical_json(dict(mapping)))
