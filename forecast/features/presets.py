"""Named feature sets: what `--features NAME` (or `features = "NAME"`, or `preset = "NAME"` in a
feature spec file) stands for. Each is a mapping of FeatureSpec options.

`ret_1` is always a column (the contract: the first one, its sign kept), so a preset that
wants only its own set still has it.
"""

from __future__ import annotations

from forecast.errors import ConfigError

# The standard switches a preset turns off to keep only its own set (and ret_1).
_STANDARD_OFF = {"return_lags": [1], "vol_windows": [], "volume": False, "rsi": False, "macd": False,
                 "bollinger": False, "atr": False, "hl_range": False, "gap": False}

PRESETS: dict[str, dict] = {
    "default": {},  # the standard features (FeatureSpec.default())
    "alpha158": {**_STANDARD_OFF, "extra": ["alpha158"]},  # Qlib's 158 factors + ret_1
}


def preset_options(name: str) -> dict:
    """The options of preset `name` (a copy). Raises ConfigError listing the presets."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"unknown feature preset {name!r} (presets: {', '.join(sorted(PRESETS))})")
    return {k: list(v) if isinstance(v, list) else v for k, v in PRESETS[name].items()}
