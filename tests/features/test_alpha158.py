"""The alpha158 feature set: Qlib's names and count, every column against a plain per-window
computation, its declared warm-up, finite values on degenerate bars, and values that are the
same to the bit whichever bar the series starts at (`start_invariant`).

That no value at bar t reads a bar after t is checked with the other feature sets in
tests/features/test_features.py (the perturbation check, and a planted centred mean it catches).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import percentileofscore

from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from forecast.features import FeatureSpec, as_spec, raw_features
from forecast.features.alpha158 import column_warmup, columns
from forecast.features.builtin import ALPHA158
from forecast.features.pipeline import precomputable, precompute

SPEC = FeatureSpec.from_option("alpha158")
WINDOWS = (5, 10, 20, 30, 60)


def _bars(n: int = 110, seed: int = 4) -> pd.DataFrame:
    """Random-walk bars on a coarse price grid and a few volume levels: ties in every window."""
    bars = random_walk_bars(n, seed=seed, sigma=0.004)
    for col in ("open", "high", "low", "close"):
        bars[col] = (bars[col] / 0.05).round() * 0.05  # monotone: high >= open, close >= low hold
    rng = np.random.default_rng(seed)
    bars["volume"] = rng.choice([0.0, 1e5, 2e5, 5e5], n)
    return bars


def test_names_and_count_follow_qlib():
    cols = columns()
    assert len(cols) == len(set(cols)) == 158
    assert cols[:13] == ["KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2",
                         "OPEN0", "HIGH0", "LOW0", "VWAP0"]
    assert cols[13:18] == ["ROC5", "ROC10", "ROC20", "ROC30", "ROC60"]
    assert cols[-1] == "VSUMD60" and "IMXD30" in cols and "WVMA10" in cols
    # The preset: ret_1 (the contract's first column), then the 158.
    assert SPEC.columns() == ["ret_1", *cols]
    assert SPEC.warmup == 60 and ALPHA158.warmup_bars(SPEC) == 60


def _window_reference(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every column by a plain loop over bars and windows (numpy / scipy on each window)."""
    o, h, lo, c, v = (bars[k].to_numpy(float) for k in ("open", "high", "low", "close", "volume"))
    n, eps = len(c), 1e-12
    out = {}
    rng = h - lo + eps
    out.update(KMID=(c - o) / o, KLEN=(h - lo) / o, KMID2=(c - o) / rng,
               KUP=(h - np.maximum(o, c)) / o, KUP2=(h - np.maximum(o, c)) / rng,
               KLOW=(np.minimum(o, c) - lo) / o, KLOW2=(np.minimum(o, c) - lo) / rng,
               KSFT=(2 * c - h - lo) / o, KSFT2=(2 * c - h - lo) / rng,
               OPEN0=o / c, HIGH0=h / c, LOW0=lo / c, VWAP0=(h + lo + c) / 3 / c)
    for w in WINDOWS:
        col = {k: np.full(n, np.nan) for k in ("ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN",
                                               "QTLU", "QTLD", "RANK", "RSV", "IMAX", "IMIN", "IMXD", "CORR",
                                               "CORD", "CNTP", "CNTN", "CNTD", "SUMP", "SUMN", "SUMD", "VMA",
                                               "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD")}
        x = np.arange(1, w + 1, dtype=float)
        for t in range(w - 1, n):
            s = slice(t - w + 1, t + 1)
            cw, hw, lw, vw = c[s], h[s], lo[s], v[s]
            slope, icpt = np.polyfit(x, cw, 1)
            col["MA"][t] = cw.mean() / c[t]
            col["STD"][t] = cw.std(ddof=1) / c[t]
            col["BETA"][t] = slope / c[t]
            col["RSQR"][t] = np.corrcoef(x, cw)[0, 1] ** 2 if cw.std() > 0 else 0.0
            col["RESI"][t] = (cw[-1] - (slope * w + icpt)) / c[t]
            col["MAX"][t], col["MIN"][t] = hw.max() / c[t], lw.min() / c[t]
            col["QTLU"][t], col["QTLD"][t] = np.quantile(cw, 0.8) / c[t], np.quantile(cw, 0.2) / c[t]
            col["RANK"][t] = percentileofscore(cw, c[t], kind="rank") / 100
            col["RSV"][t] = (c[t] - lw.min()) / (hw.max() - lw.min() + eps)
            col["IMAX"][t], col["IMIN"][t] = (np.argmax(hw) + 1) / w, (np.argmin(lw) + 1) / w
            col["IMXD"][t] = (np.argmax(hw) - np.argmin(lw)) / w
            lv = np.log(vw + 1)
            col["CORR"][t] = np.corrcoef(cw, lv)[0, 1] if lv.std() > 0 else 0.0
            col["VMA"][t] = vw.mean() / (v[t] + 1)
            col["VSTD"][t] = vw.std(ddof=1) / (v[t] + 1)
            if t >= w:  # w one-bar changes: bars t - w .. t
                cp, vp = c[t - w : t], v[t - w : t]
                ratio, vratio = cw / cp, np.log(vw / (vp + 1) + 1)
                both_move = ratio.std() > 0 and vratio.std() > 0
                col["CORD"][t] = np.corrcoef(ratio, vratio)[0, 1] if both_move else 0.0
                d, dv = cw - cp, vw - vp
                col["CNTP"][t], col["CNTN"][t] = np.mean(d > 0), np.mean(d < 0)
                col["CNTD"][t] = np.mean(d > 0) - np.mean(d < 0)
                col["SUMP"][t] = d.clip(min=0).sum() / (np.abs(d).sum() + eps)
                col["SUMN"][t] = (-d).clip(min=0).sum() / (np.abs(d).sum() + eps)
                col["SUMD"][t] = (d.clip(min=0).sum() - (-d).clip(min=0).sum()) / (np.abs(d).sum() + eps)
                z = np.abs(ratio - 1) * vw
                col["WVMA"][t] = z.std(ddof=1) / (z.mean() + eps)
                col["VSUMP"][t] = dv.clip(min=0).sum() / (np.abs(dv).sum() + eps)
                col["VSUMN"][t] = (-dv).clip(min=0).sum() / (np.abs(dv).sum() + eps)
                col["VSUMD"][t] = (dv.clip(min=0).sum() - (-dv).clip(min=0).sum()) / (np.abs(dv).sum() + eps)
                col["ROC"][t] = c[t - w] / c[t]
        out.update({f"{k}{w}": a for k, a in col.items()})
    return out


@pytest.mark.slow
def test_every_column_matches_a_plain_per_window_computation():
    bars = _bars()
    got = raw_features(bars, SPEC)
    ref = _window_reference(bars)
    assert sorted(ref) == sorted(columns())
    for name in columns():
        np.testing.assert_allclose(got[name].to_numpy(), ref[name], rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=name)
    # The data have the ties and flat stretches the reference's special cases are for.
    assert (got["RANK5"].dropna() % 0.1 != 0).any() and (bars["close"].diff() == 0).any()


def test_each_column_is_nan_for_its_declared_warm_up_only():
    got = raw_features(_bars(), SPEC)
    for name in columns():
        first = column_warmup(name)
        values = got[name].to_numpy()
        assert np.isnan(values[:first]).all() and np.isfinite(values[first:]).all(), name
    assert max(column_warmup(c) for c in columns()) == ALPHA158.warmup_bars(SPEC)
    assert column_warmup("ROC5") == 5 and column_warmup("MA5") == 4 and column_warmup("CORD60") == 60


def test_flat_prices_and_zero_volume_stay_finite():
    bars = random_walk_bars(130, seed=2)
    bars[["open", "high", "low", "close"]] = 50.0
    bars["volume"] = 0.0
    got = raw_features(bars, SPEC).iloc[SPEC.warmup:]
    assert np.isfinite(got.to_numpy()).all()
    assert (got[["CORR20", "CORD20", "RSQR20", "BETA20"]] == 0).all().all()


def test_the_set_is_precomputed_and_start_invariant_to_the_bit():
    """What `start_invariant` promises: computed from a later first bar, every value past the
    warm-up equals the whole-series one bit for bit (no running sum carries the start)."""
    bars = random_walk_bars(400, seed=9)
    assert ALPHA158 in precomputable(SPEC) and ALPHA158.start_invariant
    cached = precompute(bars, SPEC)
    for start in (1, 37, 150):
        late = raw_features(bars.iloc[start:], SPEC)
        for name in columns():
            a = np.asarray(cached[name][start + 60:], dtype="float64").view("int64")
            b = late[name].to_numpy()[60:].view("int64")
            assert np.array_equal(a, b), (start, name)


def test_pandas_running_sums_are_not_start_invariant():
    """Why the windows are summed afresh: a rolling mean's running sum carries rounding from
    the first bar, so it would not keep the flag's promise (the premise of the test above)."""
    close = random_walk_bars(400, seed=9)["close"]
    whole = close.rolling(20).mean().to_numpy()[200:]
    late = close.iloc[150:].rolling(20).mean().to_numpy()[50:]
    assert not np.array_equal(whole.view("int64"), late.view("int64"))
    np.testing.assert_allclose(whole, late, rtol=1e-12)


@pytest.mark.parametrize("name", ["alpha158", "default"])
def test_presets_are_named_sets_and_extra_can_name_alpha158(name):
    spec = FeatureSpec.from_option(name)
    assert spec == FeatureSpec.from_dict({"preset": name})
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    mixed = FeatureSpec(extra=("alpha158",))
    assert mixed.columns()[: len(FeatureSpec().columns())] == FeatureSpec().columns()
    assert mixed.columns()[-158:] == columns()


def test_a_preset_name_a_file_and_an_unknown_name(tmp_path):
    file = tmp_path / "spec.toml"
    file.write_text('[features]\npreset = "alpha158"\ncross_section = "rank"\nreturn_lags = [1, 5]\n')
    spec = FeatureSpec.from_option(str(file))
    assert spec.extra == ("alpha158",) and spec.cross_section == "rank" and spec.return_lags == (1, 5)
    assert as_spec("alpha158") == FeatureSpec.from_option("alpha158")
    presets = r"\(alpha158, default\)"
    with pytest.raises(ConfigError, match=r"'alpha15': no such file, and not a feature preset " + presets):
        FeatureSpec.from_option("alpha15")
    with pytest.raises(ConfigError, match="unknown feature preset 'nope'"):
        FeatureSpec.from_dict({"preset": "nope"})


def test_experiment_specs_name_a_preset_as_it_is_and_files_relative_to_the_spec(tmp_path):
    from forecast.experiment.spec import ExperimentSpec

    (tmp_path / "feat.toml").write_text("return_lags = [1, 2]\n")
    resolved = str((tmp_path / "feat.toml").resolve())
    for features, expected in (("alpha158", "alpha158"), ("feat.toml", resolved)):
        path = tmp_path / "exp.toml"
        path.write_text('tickers = ["KO"]\n[[models]]\nname = "logreg"\n'
                        f'[walk_forward]\nfeatures = "{features}"\n')
        assert ExperimentSpec.from_toml(path).walk_forward["features"] == expected
    with pytest.raises(ConfigError, match="not a feature preset"):
        ExperimentSpec.from_dict({"tickers": ["KO"], "models": [{"name": "logreg"}],
                                  "walk_forward": {"features": "alpha157"}})
