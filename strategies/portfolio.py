"""Cross-sectional ranking strategies: each day's prob_up per ticker -> target weights.

A ranking strategy is a plain class (not a backtrader Strategy) with backtrader-style
`params` (a tuple of (name, default) pairs, read with `cls.param_defaults()`) and one
method, `target_weights(probs, holdings) -> Series`. The portfolio engine
(`forecast.portfolio.engine.run_portfolio`) calls it once per decision day, on that
day's close, and turns the weights into orders that fill at the next bar's open.

Conventions every strategy here follows (and user strategies should):
- `probs`: today's prob_up of the tickers tradable today (index = tickers, no NaN);
  `holdings`: current weights (position value / portfolio value at today's close) of the
  tickers held, tradable today or not (may be empty).
- The result's index is a subset of `probs.index` (a missing ticker means weight 0:
  sold if held); positive weights are long, negative short; sum of |w| <= 1.
- Ranking is deterministic: prob descending, ties broken by ticker name ascending.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from forecast.backtest.params import typed_params
from forecast.errors import ConfigError
from forecast.plugins import PluginKind, resolve, subclass_of


class RankingStrategy:
    """Base of cross-sectional strategies: override `target_weights`."""

    params: tuple = ()

    def __init__(self, **params):
        values = self.param_defaults()
        unknown = sorted(set(params) - set(values))
        if unknown:
            raise ConfigError(f"{type(self).__name__} has no parameter {unknown[0]!r}")
        values.update(params)
        self.check_params(values)
        self.p = SimpleNamespace(**values)  # attribute access, like backtrader's self.p

    @classmethod
    def param_defaults(cls) -> dict:
        """Parameters and defaults, base classes' first (a subclass may override one)."""
        out: dict = {}
        for klass in reversed(cls.__mro__):
            for name, default in dict(getattr(klass, "params", ()) or ()).items():
                out[name] = default
        return out

    @classmethod
    def check_params(cls, params: dict) -> None:
        """Raise ConfigError (one line) for a parameter value that cannot be meant."""

    def target_weights(self, probs: pd.Series, holdings: pd.Series) -> pd.Series:
        """Target weights for the tickers in `probs` (missing = 0)."""
        raise NotImplementedError


def ranked(probs: pd.Series) -> list[str]:
    """Tickers by prob descending, ties by ticker name ascending."""
    return [t for t, _ in sorted(probs.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))]


def _check_k(cls, params: dict) -> None:
    k = params.get("k")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"parameter 'k' of {cls.__name__} must be an integer >= 1, got {k!r}")


class TopK(RankingStrategy):
    """Long the k highest prob_up, equal weight 1/k (k = the tradable count when fewer)."""

    params = (("k", 5),)

    @classmethod
    def check_params(cls, params):
        _check_k(cls, params)

    def target_weights(self, probs, holdings):
        k = min(self.p.k, len(probs))
        picks = ranked(probs)[:k]
        return pd.Series(1.0 / k if k else 0.0, index=pd.Index(picks, dtype=object), dtype=float)


class LongShort(RankingStrategy):
    """Top k long at +0.5/k, bottom k short at -0.5/k: dollar-neutral, gross 1
    (k = half the tradable count when fewer than 2k are tradable)."""

    params = (("k", 5),)

    @classmethod
    def check_params(cls, params):
        _check_k(cls, params)

    def target_weights(self, probs, holdings):
        k = min(self.p.k, len(probs) // 2)
        order = ranked(probs)
        if k == 0:
            return pd.Series(dtype=float)
        longs, shorts = order[:k], order[-k:]
        return pd.Series([0.5 / k] * k + [-0.5 / k] * k, index=pd.Index(longs + shorts, dtype=object))


class TopkDropout(RankingStrategy):
    """Qlib's TopkDropoutStrategy: hold k names long at equal weight; each day sell at most
    n_drop held names ranked lowest and buy the best-ranked names not held in their place.

    As in Qlib: the held tradable names and the (n_drop + k - held) best non-held names are
    ranked together; held names in the bottom n_drop of that list are sold; as many of the
    best non-held names are bought as fill the book back to k. Held names that are not
    tradable today cannot be sold; they count towards k. Weight 1/k each, k = the tradable
    count when fewer are tradable.
    """

    params = (("k", 5), ("n_drop", 1))

    @classmethod
    def check_params(cls, params):
        _check_k(cls, params)
        n_drop = params.get("n_drop")
        if not isinstance(n_drop, int) or isinstance(n_drop, bool) or n_drop < 0:
            raise ConfigError(
                f"parameter 'n_drop' of {cls.__name__} must be an integer >= 0, got {n_drop!r}"
            )

    def target_weights(self, probs, holdings):
        k = min(self.p.k, len(probs))
        if k == 0:
            return pd.Series(dtype=float)
        held = [t for t, w in holdings.items() if w > 0]
        held_set = set(held)
        last = ranked(probs[[t for t in probs.index if t in held_set]])
        stuck = len(held) - len(last)  # held, not tradable today: kept
        candidates = [t for t in ranked(probs) if t not in held_set]
        today = candidates[: max(0, self.p.n_drop + k - len(held))]
        comb = ranked(probs[last + today])
        dropped = set(comb[-self.p.n_drop:]) if self.p.n_drop > 0 else set()
        sell = [t for t in last if t in dropped]
        n_buy = max(0, len(sell) + k - len(held))
        keep = [t for t in last if t not in dropped]
        hold = keep + today[:n_buy]
        hold = hold[: max(0, k - stuck)] if len(hold) + stuck > k else hold
        return pd.Series(1.0 / k, index=pd.Index(hold, dtype=object), dtype=float)


def names_needed(cls, params: dict) -> int | None:
    """How many tickers a built-in strategy needs to trade its k (None: not a built-in)."""
    k = {**cls.param_defaults(), **params}.get("k")
    if cls is LongShort or (isinstance(cls, type) and issubclass(cls, LongShort)):
        return 2 * k
    if isinstance(cls, type) and issubclass(cls, TopK | TopkDropout):
        return k
    return None


PORTFOLIO_STRATEGIES: dict[str, type[RankingStrategy]] = {
    "top-k": TopK,
    "long-short": LongShort,
    "topk-dropout": TopkDropout,
}

PORTFOLIO_STRATEGY = PluginKind(
    "portfolio strategy",
    lambda: PORTFOLIO_STRATEGIES,
    check=subclass_of(RankingStrategy),
    contract="a RankingStrategy subclass",
)


def load_portfolio_strategy(spec) -> type[RankingStrategy]:
    """The RankingStrategy class `spec` names: a built-in (`PORTFOLIO_STRATEGIES`),
    `package.module:Class`, `path/to/file.py:Class`, or a class. Raises ConfigError."""
    return resolve(PORTFOLIO_STRATEGY, spec)


def parse_portfolio_params(cls: type[RankingStrategy], items) -> dict:
    """Type `["key=value", ...]` (or a dict) from `cls.param_defaults()`.

    Raises ConfigError for a malformed item, an unknown key, a wrong type or a value the
    class's `check_params` refuses (k < 1, n_drop < 0 for the built-ins). Returns the
    given parameters only, typed (defaults are filled by the class).
    """
    known = cls.param_defaults()
    out = typed_params(cls, known, items)
    cls.check_params({**known, **out})
    return out

