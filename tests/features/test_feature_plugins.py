"""Features as plug-ins: user code named in a TOML spec, registration, saved state, and
FeaturePipeline's scikit-learn estimator contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecast.data.synthetic import garch_bars, random_walk_bars
from forecast.errors import ConfigError
from forecast.features import Feature, FeaturePipeline, FeatureSpec, raw_features, register, registry

USER_CODE = '''
import numpy as np
from forecast.features import Feature


def _trend(bars, spec):
    # Close over its trailing 10-bar mean, in logs.
    close = bars["close"]
    return np.log(close / close.rolling(10).mean())


def _fit_level(bars, spec):
    return {"level": float(bars["close"].mean())}


def _level(bars, spec, state):
    return {"above_level": np.log(bars["close"] / state["level"])}


trend = Feature(name="trend", columns=("trend_10",), compute=_trend, warmup=9)
level = Feature(name="level", columns=("above_level",), compute=_level, fit=_fit_level)
not_a_feature = 42
'''


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "my_features.py"
    path.write_text(USER_CODE)
    return path


def write_spec(tmp_path, extra, more=""):
    spec = tmp_path / "spec.toml"
    spec.write_text(f"[features]\nrsi = false\nextra = {json.dumps(extra)}\n{more}")
    return spec


def test_user_feature_from_toml_is_computed_and_scaled(tmp_path, user_file):
    spec = FeatureSpec.from_toml(write_spec(tmp_path, [f"{user_file}:trend"]))
    assert spec.columns()[-1] == "trend_10" and "rsi" not in spec.columns()
    bars = random_walk_bars(500, seed=3)
    c = bars["close"].to_numpy()
    expected = np.full(len(c), np.nan)
    for t in range(9, len(c)):
        expected[t] = np.log(c[t] / np.mean(c[t - 9 : t + 1]))
    np.testing.assert_allclose(raw_features(bars, spec)["trend_10"], expected, rtol=1e-10)

    pipe = FeaturePipeline(spec).fit(bars.iloc[:300])
    out = pipe.transform(bars)
    # z-scored with the fit span's mean and (population) standard deviation.
    valid = np.arange(300) >= spec.warmup
    fit_span = expected[:300][valid]
    scaled = (expected - fit_span.mean()) / fit_span.std()
    np.testing.assert_allclose(out["trend_10"].to_numpy()[spec.warmup :], scaled[spec.warmup :], rtol=1e-9)
    assert out.iloc[: spec.warmup].isna().all().all()


def test_user_feature_with_fitted_state_round_trips(tmp_path, user_file):
    spec = FeatureSpec(extra=(f"{user_file}:level",))
    bars = random_walk_bars(500, seed=4)
    pipe = FeaturePipeline(spec).fit(bars.iloc[:300])
    assert pipe.states_["level"]["level"] == pytest.approx(bars["close"].iloc[:300].mean())
    state = json.loads(json.dumps(pipe.state_dict()))
    assert state["level"] == pipe.states_["level"] and state["garch"] is None
    again = FeaturePipeline.from_state(json.loads(json.dumps(spec.to_dict())), state)
    pd.testing.assert_frame_equal(again.transform(bars), pipe.transform(bars))
    with pytest.raises(ConfigError, match="level"):
        raw_features(bars, spec)  # the feature needs its fit


@pytest.mark.parametrize(
    "ref, words",
    [
        ("{dir}/missing.py:trend", "feature file not found"),
        ("{file}:nothing", "my_features.py has no .*'nothing'"),
        ("{file}:not_a_feature", "is not a forecast.features.Feature"),
        ("no_such_module_xyz:trend", "cannot import feature module 'no_such_module_xyz'"),
        ("trend", "unknown feature 'trend'"),
        ("rsi", "standard feature 'rsi'"),
    ],
)
def test_bad_feature_reference_is_one_clear_line(tmp_path, user_file, ref, words):
    ref = ref.format(dir=tmp_path, file=user_file)
    with pytest.raises(ConfigError, match=words) as info:
        FeatureSpec.from_toml(write_spec(tmp_path, [ref]))
    assert "\n" not in str(info.value)


def test_user_file_that_fails_to_import_is_one_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy\nraise RuntimeError('boom\\nsecond line')\n")
    with pytest.raises(ConfigError, match="cannot import feature file .*RuntimeError: boom second line"):
        FeatureSpec(extra=(f"{broken}:x",))


def test_column_clash_and_bad_output_are_config_errors(tmp_path):
    code = tmp_path / "clash.py"
    code.write_text(
        "from forecast.features import Feature\n"
        "gap2 = Feature(name='gap2', columns=('gap',), compute=lambda b, s: b['close'])\n"
        "wrong = Feature(name='wrong', columns=('a',), compute=lambda b, s: {'b': b['close']})\n"
        "shifted = Feature(name='shifted', columns=('s',), compute=lambda b, s: b['close'].iloc[1:])\n"
    )
    with pytest.raises(ConfigError, match="both make column 'gap'"):
        FeatureSpec(extra=(f"{code}:gap2",))
    bars = random_walk_bars(300)
    with pytest.raises(ConfigError, match="returned columns"):
        raw_features(bars, FeatureSpec(extra=(f"{code}:wrong",)))
    with pytest.raises(ConfigError, match="not indexed like the bars"):
        raw_features(bars, FeatureSpec(extra=(f"{code}:shifted",)))


@pytest.mark.parametrize(
    "body",
    [
        "b['close'].shift(-1)",  # tomorrow's close
        "b['close'].rolling(5, center=True).mean()",  # a centred window
        "b['close'] - b['close'].mean()",  # a full-sample statistic
    ],
)
def test_user_feature_that_looks_ahead_is_refused_at_fit(tmp_path, body):
    code = tmp_path / "peek.py"
    code.write_text(
        f"from forecast.features import Feature\npeek = Feature('peek', ('peek',), lambda b, s: {body})\n"
    )
    pipe = FeaturePipeline(FeatureSpec(extra=(f"{code}:peek",)))
    with pytest.raises(ConfigError, match="feature peek looks ahead"):
        pipe.fit(random_walk_bars(400, seed=1))


def test_user_feature_that_raises_is_one_line(tmp_path):
    code = tmp_path / "raises.py"
    code.write_text(
        "from forecast.features import Feature\n"
        "bad = Feature('bad', ('bad',), lambda b, s: b['no_such_column'])\n"
    )
    with pytest.raises(ConfigError, match="feature bad failed: KeyError: 'no_such_column'") as info:
        FeaturePipeline(FeatureSpec(extra=(f"{code}:bad",))).fit(random_walk_bars(300))
    assert "\n" not in str(info.value)


def test_registered_feature_is_named_in_extra(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTERED", {})
    body = register(
        Feature(name="body", columns=("body",), inputs=("open", "close"),
                compute=lambda bars, spec: np.log(bars["close"] / bars["open"]))
    )
    spec = FeatureSpec.from_dict({"extra": ["body"]})
    assert spec.features()[-1] is body and spec.to_dict()["extra"] == ["body"]
    bars = random_walk_bars(300, seed=2)
    np.testing.assert_allclose(
        raw_features(bars, spec)["body"], np.log(bars["close"] / bars["open"]), rtol=1e-12
    )
    with pytest.raises(ConfigError, match="already registered"):
        register(Feature(name="body", columns=("x",), compute=lambda b, s: b["close"]))
    with pytest.raises(ConfigError, match="already registered"):
        register(Feature(name="rsi", columns=("x",), compute=lambda b, s: b["close"]))


def test_spec_without_extra_keeps_its_saved_form():
    # Saved models compare their stored spec with the expected one: no new key may appear.
    assert "extra" not in FeatureSpec.default().to_dict()
    with pytest.raises(ConfigError, match="extra"):
        FeatureSpec(extra="trend")


# ---------------------------------------------------------------- estimator contract


def test_parameters_are_stored_as_given_and_validated_in_fit():
    given = {"rsi_window": 7}
    pipe = FeaturePipeline(given)
    assert pipe.spec is given and pipe.get_params() == {"spec": given}
    twin = clone(pipe)
    assert twin.spec == given and not hasattr(twin, "spec_")
    bad = FeaturePipeline({"rsi_window": 0})  # accepted here, refused by fit
    with pytest.raises(ConfigError, match="rsi_window"):
        bad.fit(random_walk_bars(300))
    with pytest.raises(ConfigError, match="before fit"):
        FeaturePipeline().state_dict()
    fitted = pipe.fit(random_walk_bars(300))
    assert fitted.spec_ == FeatureSpec(rsi_window=7) and fitted.spec is given


def test_from_state_with_rolling_normalisation():
    spec = FeatureSpec(normalize="rolling", scale_window=40, garch=True, day_of_week=True)
    bars = garch_bars(700, seed=5)
    pipe = FeaturePipeline(spec).fit(bars.iloc[:400])
    state = json.loads(json.dumps(pipe.state_dict()))
    # Rolling normalisation learns no scaler; only the GARCH parameters are fitted.
    assert state["scaler"] is None and state["ret_scaler"] is None and state["garch"]["beta"] > 0
    again = FeaturePipeline.from_state(spec.to_dict(), state)
    out = again.transform(bars)
    pd.testing.assert_frame_equal(out, pipe.transform(bars))
    # Independent check: each centred column is z-scored on its trailing 40 rows, ret_1
    # divided by its trailing root mean square.
    raw = raw_features(bars, spec, pipe.states_)
    t = 600
    for col in ("rsi", "garch_vol"):
        w = raw[col].to_numpy()[t - 39 : t + 1]
        assert out[col].iloc[t] == pytest.approx((w[-1] - w.mean()) / w.std(ddof=1), rel=1e-9)
    r = raw["ret_1"].to_numpy()[t - 39 : t + 1]
    assert out["ret_1"].iloc[t] == pytest.approx(r[-1] / np.sqrt(np.mean(r**2)), rel=1e-9)
    assert out["dow_sin"].iloc[t] == raw["dow_sin"].iloc[t]  # unscaled


def test_from_state_reads_the_older_saved_form():
    """A state written by earlier versions (StandardScaler arrays, `garch` key) loads and
    scales as (x - mean) / scale."""
    spec = FeatureSpec.from_dict({
        "return_lags": [1], "vol_windows": [], "volume": False, "rsi": False, "macd": False,
        "bollinger": False, "atr": False, "gap": False,
    })
    state = {
        "scaler": {"mean_": [0.02], "scale_": [0.01], "var_": [0.0001]},
        "ret_scaler": {"mean_": [0.0003], "scale_": [0.015], "var_": [0.000225]},
        "garch": None,
    }
    bars = random_walk_bars(100, seed=6)
    out = FeaturePipeline.from_state(spec.to_dict(), state).transform(bars)
    hl = np.log(bars["high"] / bars["low"]).to_numpy()
    ret = np.log(bars["close"]).diff().to_numpy()
    np.testing.assert_allclose(out["hl_range"].to_numpy()[1:], (hl[1:] - 0.02) / 0.01, rtol=1e-12)
    np.testing.assert_allclose(out["ret_1"].to_numpy()[1:], ret[1:] / 0.015, rtol=1e-12)
    with pytest.raises(ConfigError, match="saved feature scaling"):
        FeaturePipeline.from_state(spec.to_dict(), {**state, "scaler": None})
    with pytest.raises(ConfigError, match="saved feature scaling"):
        FeaturePipeline.from_state({**spec.to_dict(), "garch": True}, state)
