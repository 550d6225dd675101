"""Precomputed raw features (`precompute`) equal, to the last bit, what the pipeline computes
on the bars a walk-forward fold would hand it: any prefix for every standard feature, any
later start for the `start_invariant` ones."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.features.builtin import STANDARD
from forecast.features.pipeline import FeaturePipeline, precomputable, precompute, raw_features
from forecast.features.spec import FeatureSpec

# Every standard feature on but GARCH (fitted: never precomputed).
ALL = FeatureSpec(day_of_week=True, return_lags=(1, 3, 60), vol_windows=(5, 20, 63))


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype="float64").view("int64")


@pytest.fixture(scope="module")
def bars():
    return random_walk_bars(700, seed=3, ticker="AAA")


def test_every_standard_feature_but_the_fitted_one_is_precomputable():
    names = {f.name for f in precomputable(FeatureSpec(day_of_week=True, garch=True))}
    assert names == {f.name for f in STANDARD} - {"garch"}


@pytest.mark.parametrize("stop", [150, 401, 700])
def test_a_prefix_equals_the_precomputed_rows_to_the_bit(bars, stop):
    cached = precompute(bars, ALL)
    direct = raw_features(bars.iloc[:stop], ALL)
    assert list(cached) == list(direct.columns)
    for col in direct.columns:
        assert np.array_equal(_bits(cached[col][:stop]), _bits(direct[col])), col


@pytest.mark.parametrize("start", [1, 77, 300])
def test_start_invariant_features_equal_from_a_later_start(bars, start):
    cached = precompute(bars, ALL)
    checked = 0
    for feature in precomputable(ALL):
        late = raw_features(bars.iloc[start:], ALL)
        skip = feature.warmup_bars(ALL)
        for col in feature.column_names(ALL):
            same = np.array_equal(_bits(cached[col][start + skip:]), _bits(late[col].iloc[skip:]))
            if feature.start_invariant:
                assert same, col
                checked += 1
            elif col in ("macd", "rsi", "atr"):
                # Exponential averages carry their start: the flag is what keeps them recomputed.
                assert not same, col
    assert checked == 3 + 1 + 1 + 2  # three returns, hl_range, gap, two day-of-week columns


def test_the_pipeline_fitted_on_precomputed_columns_is_the_same_to_the_bit(bars):
    part = bars.iloc[:500]
    cached = precompute(bars, ALL)
    pre = {c: v[:500] for c, v in cached.items()}
    a, b = FeaturePipeline(ALL).fit(part), FeaturePipeline(ALL).fit(part, raw=pre)
    for x, y in ((a.scaler_, b.scaler_), (a.ret_scaler_, b.ret_scaler_)):
        assert np.array_equal(_bits(x.mean if x.mean is not None else [0.0]),
                              _bits(y.mean if y.mean is not None else [0.0]))
        assert np.array_equal(_bits(x.scale), _bits(y.scale))
    assert np.array_equal(_bits(a.transform(part).to_numpy()), _bits(b.transform(part, raw=pre).to_numpy()))


def test_precomputed_columns_of_the_wrong_length_are_refused(bars):
    with pytest.raises(ConfigError, match="one row per bar"):
        FeaturePipeline(ALL).fit(bars.iloc[:300], raw={"ret_1": np.zeros(299)})


@pytest.mark.parametrize("start", [0, 1, 59, 250])
def test_a_span_from_the_cache_equals_computing_on_the_span_alone(bars, start):
    from forecast.features.pipeline import precomputed_span

    cached = precompute(bars, ALL)
    span = precomputed_span(bars, ALL, cached, start, 600)
    direct = raw_features(bars.iloc[start:600], ALL)
    invariant = {c for f in precomputable(ALL) if f.start_invariant for c in f.column_names(ALL)}
    assert set(span) == (set(direct.columns) if start == 0 else invariant)
    for col in span:
        assert np.array_equal(_bits(span[col]), _bits(direct[col])), col
    if start:  # the plain slice differs in the warm-up rows: what the splice is for
        assert not np.array_equal(_bits(cached["ret_60"][start:600]), _bits(direct["ret_60"]))
