"""The built-in features, one `Feature` each: the standard ones in output-column order, and
the built-in sets named in a spec's `extra` (`alpha158`).

`ret_1` comes first (the contract); each is switched on by the FeatureSpec option named
in `switch` (returns and volatility are always on). `start_invariant` marks the pointwise and
fixed-lag ones (tests/features/test_precomputed.py holds them to it). Warm-ups count the leading NaN
bars of the computation (tests/features/test_features.py checks each against it).
"""

from __future__ import annotations

import dataclasses

from forecast.features import alpha158 as a158
from forecast.features import indicators as ind
from forecast.features.feature import Feature
from forecast.features.garch import MIN_RETURNS, GarchParams, fit_garch_feature, garch_features

RETURNS = Feature(
    name="returns",
    columns=lambda s: [f"ret_{k}" for k in s.return_lags],
    compute=ind.return_features,
    warmup=lambda s: max(s.return_lags),
    start_invariant=True,
)
VOLATILITY = Feature(
    name="volatility",
    columns=lambda s: [f"rvol_{w}" for w in s.vol_windows],
    compute=ind.volatility_features,
    # `w` returns; the first return is at position 1.
    warmup=lambda s: max(s.vol_windows, default=0),
)
VOLUME = Feature(
    name="volume",
    columns=("log_volume", "dlog_volume", "volume_z"),
    compute=ind.volume_features,
    inputs=("volume",),
    warmup=lambda s: max(s.volume_window - 1, 1),
    switch="volume",
)
RSI = Feature(
    name="rsi",
    columns=("rsi",),
    compute=ind.rsi_features,
    warmup=lambda s: s.rsi_window,
    switch="rsi",
)
MACD = Feature(
    name="macd",
    columns=("macd", "macd_signal"),
    compute=ind.macd_features,
    warmup=lambda s: s.macd_slow + s.macd_signal - 2,
    switch="macd",
)
BOLLINGER = Feature(
    name="bollinger",
    columns=("bb_pctb",),
    compute=ind.bollinger_features,
    warmup=lambda s: s.bb_window - 1,
    switch="bollinger",
)
ATR = Feature(
    name="atr",
    columns=("atr",),
    compute=ind.atr_features,
    inputs=("high", "low", "close"),
    warmup=lambda s: s.atr_window,
    switch="atr",
)
HL_RANGE = Feature(
    name="hl_range",
    columns=("hl_range",),
    compute=ind.hl_range_features,
    inputs=("high", "low"),
    switch="hl_range",
    start_invariant=True,
)
GAP = Feature(
    name="gap",
    columns=("gap",),
    compute=ind.gap_features,
    inputs=("open", "close"),
    warmup=1,
    switch="gap",
    start_invariant=True,
)
GARCH = Feature(
    name="garch",
    columns=("garch_vol",),
    compute=garch_features,
    warmup=1,
    fit=fit_garch_feature,
    dump=dataclasses.asdict,
    load=lambda d: GarchParams(**d),
    switch="garch",
    min_fit=MIN_RETURNS + 1,  # bars: one more than the returns
)
DAY_OF_WEEK = Feature(
    name="day_of_week",
    columns=("dow_sin", "dow_cos"),
    compute=ind.day_of_week_features,
    inputs=(),
    scaled=False,  # already bounded in [-1, 1]
    switch="day_of_week",
    start_invariant=True,
)

STANDARD = (RETURNS, VOLATILITY, VOLUME, RSI, MACD, BOLLINGER, ATR, HL_RANGE, GAP, GARCH, DAY_OF_WEEK)

# Qlib's 158 factors (forecast.features.alpha158): turned on by `extra = ["alpha158"]` or the
# `alpha158` preset. Every windowed statistic is computed afresh per window: start-invariant
# (tests/features/test_alpha158.py holds it to that, to the bit).
ALPHA158 = Feature(
    name="alpha158",
    columns=tuple(a158.columns()),
    compute=a158.alpha158_features,
    inputs=("open", "high", "low", "close", "volume"),
    warmup=a158.WARMUP,
    start_invariant=True,
)

# Built-in features named in `extra` (held to being trailing by the test suite, like STANDARD).
EXTRA = (ALPHA158,)
BUILTIN = STANDARD + EXTRA
