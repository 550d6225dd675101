"""A backtrader strategy's parameters: their defaults, and `key=value` text typed from them."""

from __future__ import annotations

from forecast.errors import ConfigError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def strategy_params(cls: type) -> dict:
    """The strategy's parameters and their defaults, in declaration order."""
    return dict(cls.params._getitems())


def _convert(cls: type, key: str, raw, default):
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    wrong = ConfigError(f"parameter {key!r} of {cls.__name__} takes {type(default).__name__}, got {raw!r}")
    if isinstance(default, bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise wrong
    try:
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise wrong from None
    return raw  # str or None defaults: keep the text


def parse_params(cls: type, items) -> dict:
    """Type `["key=value", ...]` (or a dict) from `cls`'s parameter defaults.

    bool accepts true/false/yes/no/1/0; int and float parse the text; str keeps it.
    Raises ConfigError for a malformed item, an unknown key or a wrong type.
    """
    return typed_params(cls, strategy_params(cls), items)


def typed_params(cls: type, known: dict, items) -> dict:
    """`parse_params` for any class whose parameter defaults are `known` (a backtrader
    strategy's, or a portfolio RankingStrategy's)."""
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items or []:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"strategy parameter must look like key=value, got {item!r}")
            pairs.append((key.strip(), value))
    out = {}
    for key, value in pairs:
        if key not in known:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{cls.__name__} has no parameter {key!r} (it has: {names})")
        out[key] = _convert(cls, key, value, known[key])
    return out
