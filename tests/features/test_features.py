"""FeatureSpec and FeaturePipeline: values, warm-up, no look-ahead, training-span scaling."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import ar1_bars, bars_from_returns, garch_bars, random_walk_bars
from forecast.errors import ConfigError, DataError
from forecast.features import FeaturePipeline, FeatureSpec, raw_features

SPECS = {
    "default": FeatureSpec.default(),
    "garch_dow": FeatureSpec(garch=True, day_of_week=True, return_lags=(1, 3, 60)),
    "rolling": FeatureSpec(normalize="rolling", scale_window=60, garch=True),
    "alpha158": FeatureSpec.from_option("alpha158"),
}


def _perturb_after(bars: pd.DataFrame, t: int, seed: int = 7) -> pd.DataFrame:
    """Copy of bars with every column of every bar after position t changed."""
    rng = np.random.default_rng(seed)
    out = bars.copy()
    k = len(bars) - t - 1
    factor = np.exp(rng.normal(0.0, 0.03, k))
    for col in ("open", "high", "low", "close"):
        out.iloc[t + 1 :, out.columns.get_loc(col)] = bars[col].to_numpy()[t + 1 :] * factor
    out.iloc[t + 1 :, out.columns.get_loc("volume")] = rng.lognormal(15.0, 1.0, k).round()
    return out


# ---------------------------------------------------------------- spec


def test_spec_dict_round_trip_is_json_able():
    spec = FeatureSpec(return_lags=(5, 1, 3), garch=True, normalize="rolling")
    data = json.loads(json.dumps(spec.to_dict()))
    assert FeatureSpec.from_dict(data) == spec
    assert data["return_lags"] == [1, 3, 5]


def test_spec_always_has_ret_1_first():
    spec = FeatureSpec(return_lags=(5, 20))
    assert spec.return_lags == (1, 5, 20)
    assert spec.columns()[0] == "ret_1"


def test_spec_from_toml_reads_table_and_top_level(tmp_path):
    table = tmp_path / "a.toml"
    table.write_text("[features]\nreturn_lags = [1, 4]\ngarch = true\n")
    flat = tmp_path / "b.toml"
    flat.write_text('rsi_window = 10\nnormalize = "rolling"\n')
    assert FeatureSpec.from_toml(table) == FeatureSpec(return_lags=(1, 4), garch=True)
    assert FeatureSpec.from_toml(flat) == FeatureSpec(rsi_window=10, normalize="rolling")


@pytest.mark.parametrize(
    "data, word",
    [
        ({"rsi_windw": 3}, "rsi_windw"),
        ({"rsi_window": 0}, "rsi_window"),
        ({"return_lags": [1, -2]}, "return_lags"),
        ({"normalize": "global"}, "normalize"),
        ({"macd_fast": 30}, "macd_fast"),
        ({"garch": "yes"}, "garch"),
        ({"vol_windows": [1]}, "vol_windows"),
    ],
)
def test_spec_rejects_bad_options_naming_them(data, word):
    with pytest.raises(ConfigError, match=word):
        FeatureSpec.from_dict(data)


def test_spec_from_toml_bad_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("return_lags = [1,\n")
    with pytest.raises(ConfigError, match="TOML"):
        FeatureSpec.from_toml(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        FeatureSpec.from_toml(tmp_path / "missing.toml")


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("name", SPECS)
def test_warmup_matches_first_complete_row(name):
    spec = SPECS[name]
    bars = random_walk_bars(600, seed=3)
    feats = FeaturePipeline(spec).fit_transform(bars)
    complete = feats.notna().all(axis=1).to_numpy()
    assert list(feats.columns) == spec.columns()
    assert feats.index.equals(bars.index)
    assert not complete[: spec.warmup].any()
    assert complete[spec.warmup :].all()
    # Warm-up rows are NaN in every column, not just some.
    assert feats.iloc[: spec.warmup].isna().all().all()


def test_raw_values_match_hand_computation():
    bars = random_walk_bars(300, seed=1)
    spec = FeatureSpec(return_lags=(1, 5), day_of_week=True)
    raw = raw_features(bars, spec)
    c, o, h, lo = (bars[k].to_numpy() for k in ("close", "open", "high", "low"))
    t = 100
    assert raw["ret_1"].iloc[t] == pytest.approx(np.log(c[t] / c[t - 1]))
    assert raw["ret_5"].iloc[t] == pytest.approx(np.log(c[t] / c[t - 5]))
    assert raw["gap"].iloc[t] == pytest.approx(np.log(o[t] / c[t - 1]))
    assert raw["hl_range"].iloc[t] == pytest.approx(np.log(h[t] / lo[t]))
    r = np.diff(np.log(c))
    assert raw["rvol_20"].iloc[t] == pytest.approx(np.std(r[t - 20 : t], ddof=1))
    window = c[t - 19 : t + 1]
    mid, sd = window.mean(), window.std(ddof=1)
    assert raw["bb_pctb"].iloc[t] == pytest.approx((c[t] - (mid - 2 * sd)) / (4 * sd))
    assert raw["rsi"].dropna().between(0, 100).all()
    angle = 2 * np.pi * bars.index[t].dayofweek / 7
    assert raw["dow_sin"].iloc[t] == pytest.approx(np.sin(angle))


def test_flat_prices_and_zero_volume_stay_finite():
    bars = random_walk_bars(200, seed=2)
    bars[["open", "high", "low", "close"]] = 50.0
    bars["volume"] = 0.0
    feats = FeaturePipeline().fit_transform(bars)
    body = feats.iloc[FeatureSpec.default().warmup :]
    assert np.isfinite(body.to_numpy()).all()


def test_ret_1_sign_is_preserved_and_other_columns_centred_on_fit_span():
    bars = ar1_bars(800, seed=4)
    pipe = FeaturePipeline().fit(bars)
    feats = pipe.transform(bars).dropna()
    raw = raw_features(bars, pipe.spec_).loc[feats.index]
    assert (np.sign(feats["ret_1"]) == np.sign(raw["ret_1"])).all()
    # The fit-span rows are standardised: mean 0, std 1 (except uncentred ret_1).
    others = feats.drop(columns="ret_1")
    np.testing.assert_allclose(others.mean(), 0.0, atol=1e-9)
    np.testing.assert_allclose(others.std(ddof=0), 1.0, atol=1e-9)
    assert feats["ret_1"].mean() != pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------- no look-ahead


def _check_no_lookahead(pipe: FeaturePipeline, bars: pd.DataFrame, t: int) -> None:
    """Changing every bar after t changes no feature at or before t, and moves every
    price/volume-driven feature after t (so the perturbation really reaches each one)."""
    changed = _perturb_after(bars, t)
    a = pipe.transform(bars)
    b = pipe.transform(changed)
    pd.testing.assert_frame_equal(a.iloc[: t + 1], b.iloc[: t + 1])
    moved = (a.iloc[t + 1 :] - b.iloc[t + 1 :]).abs().max()
    driven = [c for c in pipe.spec_.columns() if not c.startswith("dow_")]
    assert (moved[driven] > 0).all(), moved[moved == 0]


@pytest.mark.slow
@pytest.mark.parametrize("name", SPECS)
def test_every_feature_at_t_ignores_bars_after_t(name):
    spec = SPECS[name]
    # GARCH(1,1) returns: volatility clusters, so a GARCH fit is identified and its
    # volatility really depends on the returns (on a random walk it is constant).
    bars = garch_bars(900, seed=5)
    pipe = FeaturePipeline(spec).fit(bars.iloc[:500])
    if spec.garch:
        assert pipe.states_["garch"].alpha > 0.02, pipe.states_  # the premise, checked
    for t in (spec.warmup + 5, 640, 820):
        _check_no_lookahead(pipe, bars, t)


def test_lookahead_check_catches_a_garch_feature_that_peeks(monkeypatch):
    """The check above can fail: a GARCH volatility that also sees tomorrow's return."""
    from forecast.features import garch as garch_mod

    honest = garch_mod.garch_volatility

    def peeking(log_returns, params):
        return honest(log_returns.shift(-1).fillna(0.0), params)

    _assert_check_catches(monkeypatch, "garch_dow", (900, 500, 640), garch_mod, "garch_volatility", peeking)


def _assert_check_catches(monkeypatch, spec_name, sizes, module, name, planted) -> None:
    """The check passes, then fails once `module.name` is replaced by `planted`; `sizes`:
    bars, fit span, the date t checked."""
    n, fit, t = sizes
    bars = garch_bars(n, seed=5)
    pipe = FeaturePipeline(SPECS[spec_name]).fit(bars.iloc[:fit])
    _check_no_lookahead(pipe, bars, t)
    monkeypatch.setattr(module, name, planted)
    with pytest.raises(AssertionError):
        _check_no_lookahead(pipe, bars, t)


def test_lookahead_check_catches_an_alpha158_mean_that_is_centred(monkeypatch):
    """The check can fail for the alpha158 set too: its window means (MA, STD, VMA, ...)
    taken over a window centred on t, which reads bars after t."""
    from forecast.features import window_ops

    def centred(x, w):
        s = pd.Series(x).rolling(w, center=True)
        return s.mean().to_numpy(), s.std().to_numpy()

    _assert_check_catches(monkeypatch, "alpha158", (400, 250, 300), window_ops, "window_mean_std", centred)


def test_degenerate_garch_fit_gives_finite_constant_volatility():
    """Constant-variance returns: GARCH is not identified. The feature is then a finite,
    (near-)constant volatility at the sample level, not NaN and not an error."""
    bars = random_walk_bars(900, seed=5, sigma=0.01)
    pipe = FeaturePipeline(FeatureSpec(garch=True)).fit(bars.iloc[:500])
    vol = raw_features(bars, pipe.spec_, pipe.states_)["garch_vol"].dropna()
    assert len(vol) == len(bars) - 1 and np.isfinite(vol).all()
    assert vol.std() <= 1e-3 * vol.mean()
    # Its level is the returns' own standard deviation (an independent estimate).
    log_ret = np.log(bars["close"].iloc[:500]).diff().dropna()
    assert vol.mean() == pytest.approx(log_ret.std(), rel=0.1)
    feats = pipe.transform(bars)
    assert np.isfinite(feats["garch_vol"].dropna()).all()


@pytest.mark.parametrize("name", SPECS)
def test_transform_of_a_prefix_equals_prefix_of_transform(name):
    spec = SPECS[name]
    bars = random_walk_bars(700, seed=6)
    pipe = FeaturePipeline(spec).fit(bars.iloc[:400])
    full = pipe.transform(bars)
    for stop in (450, 600):
        pd.testing.assert_frame_equal(pipe.transform(bars.iloc[:stop]), full.iloc[:stop])


@pytest.mark.parametrize("name", ["default", "garch_dow"])
def test_scaler_fitted_on_span_a_ignores_what_follows_a(name):
    spec = SPECS[name]
    bars = random_walk_bars(1000, seed=8)
    other = _perturb_after(bars, 599, seed=9)
    span_a = slice(0, 600)
    fit_a = FeaturePipeline(spec).fit(bars.iloc[span_a])
    fit_a_other = FeaturePipeline(spec).fit(other.iloc[span_a])
    # Same span A, different futures: identical transforms of A and of the futures' own A.
    pd.testing.assert_frame_equal(
        fit_a.transform(bars).iloc[span_a], fit_a_other.transform(other).iloc[span_a]
    )
    pd.testing.assert_frame_equal(fit_a.transform(bars.iloc[span_a]), fit_a.transform(other).iloc[span_a])
    # Fitting on A plus its future does change the scaling: fit really uses only its input.
    fit_all = FeaturePipeline(spec).fit(bars)
    assert not np.allclose(
        fit_all.transform(bars).iloc[span_a].dropna(), fit_a.transform(bars).iloc[span_a].dropna()
    )


def test_garch_parameters_come_from_fit_span_only():
    rng = np.random.default_rng(10)
    # Volatility clustering (calm and wild regimes of 50 bars) so GARCH has something to fit,
    # then triple volatility after bar 700.
    sigma = np.repeat(rng.choice([0.005, 0.02], 24), 50)
    sigma[701:] *= 3
    bars = bars_from_returns(rng.normal(0.0, 1.0, 1200) * sigma, seed=10)
    spec = FeatureSpec(garch=True)
    a = FeaturePipeline(spec).fit(bars.iloc[:701])
    b = FeaturePipeline(spec).fit(bars)
    assert a.states_["garch"] != b.states_["garch"]
    assert a.states_["garch"].alpha > 0.01
    va = raw_features(bars, spec, a.states_)["garch_vol"]
    c = FeaturePipeline(spec).fit(bars.iloc[:701])
    vb = raw_features(bars.iloc[:701], spec, c.states_)["garch_vol"]
    pd.testing.assert_series_equal(va.iloc[:701], vb)
    # The recursion tracks the wilder returns with the old, fixed parameters.
    assert va.iloc[800:].mean() > 2 * va.iloc[100:700].mean()


# ---------------------------------------------------------------- errors and imports


def test_bad_bars_raise_data_error():
    bars = random_walk_bars(100)
    with pytest.raises(DataError, match="volume"):
        FeaturePipeline().fit(bars.drop(columns="volume"))
    bad = bars.copy()
    bad.iloc[10, bad.columns.get_loc("close")] = np.nan
    with pytest.raises(DataError, match="prices"):
        FeaturePipeline().fit(bad)
    with pytest.raises(DataError, match="sorted"):
        FeaturePipeline().fit(bars.iloc[::-1])
    with pytest.raises(DataError, match="DatetimeIndex"):
        FeaturePipeline().fit(bars.reset_index())


def test_too_short_fit_span_and_transform_before_fit():
    bars = random_walk_bars(30)
    with pytest.raises(ConfigError, match="warm-up"):
        FeaturePipeline().fit(bars)
    with pytest.raises(ConfigError, match="before fit"):
        FeaturePipeline().transform(bars)
    with pytest.raises(ConfigError, match="spec"):
        FeaturePipeline(spec=3).fit(random_walk_bars(300))


@pytest.mark.parametrize("day_of_week", [False, True])
def test_minimal_spec_with_nothing_to_centre(day_of_week):
    spec = FeatureSpec.from_dict({
        "return_lags": [1], "vol_windows": [], "volume": False, "rsi": False, "macd": False,
        "bollinger": False, "atr": False, "hl_range": False, "gap": False, "day_of_week": day_of_week,
    })
    bars = random_walk_bars(300, seed=1)
    pipe = FeaturePipeline(spec).fit(bars.iloc[:200])
    out = pipe.transform(bars)
    assert out.columns[0] == "ret_1" and out["ret_1"].notna().sum() == 299
    again = FeaturePipeline.from_state(spec, pipe.state_dict()).transform(bars)
    pd.testing.assert_frame_equal(out, again)
