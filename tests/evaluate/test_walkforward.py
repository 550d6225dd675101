"""walk_forward schedule, embargo, per-fold refits, and evaluate's report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import METRIC_KEYS, EvaluationReport, evaluate, plan_folds, walk_forward
from forecast.features import FeaturePipeline, FeatureSpec, make_target, make_windows

# Fits recorded by SpyLogReg, keyed by its `tag` (clone copies params, not this dict).
FITS: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
PARAMS: dict[str, list[dict]] = {}


class LastRowLogReg(ClassifierMixin, BaseEstimator):
    """Logistic regression on the latest row of each window: a small 3-D-X classifier."""

    def __init__(self, C=1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(X[:, -1, :], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X[:, -1, :])


class SpyLogReg(LastRowLogReg):
    """LastRowLogReg that records every (X, y) it is fitted on."""

    def __init__(self, C=1.0, random_state=None, tag="spy"):
        super().__init__(C=C, random_state=random_state)
        self.tag = tag

    def fit(self, X, y):
        FITS.setdefault(self.tag, []).append((X.copy(), y.copy()))
        PARAMS.setdefault(self.tag, []).append(self.get_params())
        return super().fit(X, y)


SMALL = dict(window=5, test_days=150, retrain_every=50, min_train=200)


@pytest.fixture(scope="module")
def ar1():
    return ar1_bars(700, phi=0.8, seed=2)


# ---------------------------------------------------------------- schedule


@pytest.mark.parametrize("lookahead, embargo, train_window", [(1, 1, None), (3, 0, None), (2, 5, 250)])
def test_plan_folds_respects_embargo_and_covers_test_span(lookahead, embargo, train_window):
    folds = plan_folds(
        1000,
        first_valid=40,
        lookahead=lookahead,
        embargo=embargo,
        test_days=230,
        retrain_every=60,
        train_window=train_window,
        min_train=200,
    )
    assert [f.test_start for f in folds] == [770, 830, 890, 950]
    assert folds[-1].test_stop == 1000
    for f in folds:
        # The last training label's last price (bar t + lookahead) is `embargo` bars
        # before the block.
        assert f.train_last + lookahead + embargo == f.test_start
        assert f.train_start >= 40
        if train_window is not None:
            assert f.train_last - f.train_start + 1 <= train_window
        else:
            assert f.train_start == 40


def test_too_short_span_raises_config_error():
    bars = random_walk_bars(400)
    with pytest.raises(ConfigError, match="too few"):
        walk_forward(bars, LastRowLogReg(), window=20, test_days=100, min_train=252)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"window": 0}, "window"),
        ({"horizon": -1}, "horizon"),
        ({"embargo": -1}, "embargo"),
        ({"train_window": 100}, "train_window"),
        ({"retrain_every": 2.5}, "retrain_every"),
        ({"spec": {"bogus": 1}}, "bogus"),
    ],
)
def test_bad_settings_raise_config_error(ar1, kwargs, word):
    with pytest.raises(ConfigError, match=word):
        walk_forward(ar1, LastRowLogReg(), **{**SMALL, **kwargs})


def test_non_estimator_model_is_rejected(ar1):
    with pytest.raises(ConfigError, match="classifier"):
        walk_forward(ar1, object(), **SMALL)


# ---------------------------------------------------------------- predictions


def test_predictions_follow_the_contract(ar1):
    calls = []
    pred = walk_forward(ar1, LastRowLogReg(), progress=lambda k, n: calls.append((k, n)), **SMALL)
    assert list(pred.columns) == ["prob_up", "actual_up", "fold"]
    assert pred.index.name == "date"
    assert pred.index.equals(ar1.index[-150:])
    assert pred["prob_up"].between(0, 1).all()
    assert list(pred["fold"].unique()) == [0, 1, 2]
    assert calls == [(0, 3), (1, 3), (2, 3)]
    target = make_target(ar1)
    pd.testing.assert_series_equal(pred["actual_up"], target.loc[pred.index], check_names=False)
    # The traded label needs open[t+2]: the last two days' outcomes are unknown.
    assert pred["actual_up"].isna().sum() == 2 and pred["actual_up"].iloc[-2:].isna().all()
    acc = ((pred["prob_up"] > 0.5) == (pred["actual_up"] == 1)).iloc[:-1].mean()
    assert acc > 0.7  # AR(1) with phi 0.8 is predictable from yesterday's sign


def test_same_seed_same_numbers_and_estimator_untouched(ar1):
    est = LastRowLogReg()
    a = walk_forward(ar1, est, **SMALL)
    b = walk_forward(ar1, est, **SMALL)
    pd.testing.assert_frame_equal(a, b)
    assert not hasattr(est, "model_")  # fitted clones, never the template


def test_model_params_and_seed_reach_the_estimator(ar1):
    PARAMS.pop("params", None), PARAMS.pop("fixed", None)
    walk_forward(ar1, SpyLogReg(tag="params"), model_params={"C": 0.01}, seed=5, **SMALL)
    assert [(p["C"], p["random_state"]) for p in PARAMS["params"]] == [(0.01, 5)] * 3
    # An estimator's own random_state wins over walk_forward's seed.
    walk_forward(ar1, SpyLogReg(tag="fixed", random_state=3), seed=5, **SMALL)
    assert {p["random_state"] for p in PARAMS["fixed"]} == {3}
    strong = walk_forward(ar1, SpyLogReg(tag="x"), model_params={"C": 100.0}, **SMALL)
    weak = walk_forward(ar1, SpyLogReg(tag="x"), model_params={"C": 0.001}, **SMALL)
    # Strong regularisation pulls probabilities towards 0.5.
    assert (weak["prob_up"] - 0.5).abs().mean() < (strong["prob_up"] - 0.5).abs().mean()


@pytest.mark.parametrize("label", ["open", "close"])
def test_each_fold_trains_only_on_embargoed_past(ar1, label):
    """Training windows and labels of every fold equal those built from bars up to t_last."""
    horizon, embargo, window = 2, 3, 5
    # Bars a label reads after its decision, by hand: open[t+1] -> open[t+1+h], or
    # close[t] -> close[t+h].
    reads = {"open": horizon + 1, "close": horizon}[label]
    FITS.pop("embargo", None)
    spec = FeatureSpec.default()
    pred = walk_forward(
        ar1,
        SpyLogReg(tag="embargo"),
        horizon=horizon,
        embargo=embargo,
        label=label,
        **{**SMALL, "window": window},
    )
    fits = FITS["embargo"]
    starts = [ar1.index.get_loc(pred.index[pred["fold"] == k][0]) for k in range(3)]
    assert len(fits) == 3
    labels = make_target(ar1, horizon, label=label).to_numpy()
    for (X, y), s in zip(fits, starts, strict=True):
        last = s - reads - embargo
        # Rebuild the training set from bars[: last + 1] alone; the label at `last` reads
        # prices up to bar last + reads = s - embargo, still before the block.
        past = ar1.iloc[: last + 1]
        feats = FeaturePipeline(spec).fit(past).transform(past).to_numpy()
        windows = make_windows(feats, window)
        first = spec.warmup + window - 1
        expected_X = windows[first - (window - 1) :]
        np.testing.assert_array_equal(X, expected_X)
        np.testing.assert_array_equal(y, labels[first : last + 1])


def test_training_data_ignores_bars_after_the_last_training_label(ar1):
    """Changing bars after fold 1's last training label leaves folds 0 and 1 trained alike."""
    FITS.pop("a", None), FITS.pop("b", None)
    walk_forward(ar1, SpyLogReg(tag="a"), **SMALL)
    s1 = len(ar1) - 150 + 50  # fold 1 starts here
    changed = ar1.copy()
    # Bars from s1 on (after fold 1's last label close[s1 - 1]) are changed.
    changed.iloc[s1:, :4] = changed.iloc[s1:, :4].to_numpy() * 1.05 ** np.arange(len(ar1) - s1)[:, None]
    walk_forward(changed, SpyLogReg(tag="b"), **SMALL)
    for k in (0, 1):
        np.testing.assert_array_equal(FITS["a"][k][0], FITS["b"][k][0])
        np.testing.assert_array_equal(FITS["a"][k][1], FITS["b"][k][1])
    assert not np.array_equal(FITS["a"][2][0], FITS["b"][2][0])


def test_rolling_train_window_limits_training_size(ar1):
    FITS.pop("roll", None)
    walk_forward(ar1, SpyLogReg(tag="roll"), train_window=220, **SMALL)
    assert [len(y) for _, y in FITS["roll"]] == [220, 220, 220]


def test_shuffled_labels_are_a_seeded_permutation(ar1):
    FITS.pop("s1", None), FITS.pop("s2", None), FITS.pop("plain", None)
    walk_forward(ar1, SpyLogReg(tag="plain"), **SMALL)
    walk_forward(ar1, SpyLogReg(tag="s1"), shuffle_train_labels=True, **SMALL)
    walk_forward(ar1, SpyLogReg(tag="s2"), shuffle_train_labels=True, **SMALL)
    for (Xp, yp), (Xs, ys), (_, ys2) in zip(FITS["plain"], FITS["s1"], FITS["s2"], strict=True):
        np.testing.assert_array_equal(Xp, Xs)
        assert sorted(yp) == sorted(ys) and not np.array_equal(yp, ys)
        np.testing.assert_array_equal(ys, ys2)


def test_dead_zone_labels_are_dropped_from_training(ar1):
    FITS.pop("dz", None)
    pred = walk_forward(ar1, SpyLogReg(tag="dz"), threshold=0.005, symmetric=True, **SMALL)
    y_all = make_target(ar1, threshold=0.005, symmetric=True)
    n_train_decisions = len(ar1) - 150 - 2 - (FeatureSpec.default().warmup + 4) + 1
    assert len(FITS["dz"][0][1]) < n_train_decisions
    pd.testing.assert_series_equal(pred["actual_up"], y_all.loc[pred.index], check_names=False)


# ---------------------------------------------------------------- evaluate


def test_evaluate_runs_baselines_on_the_same_dates(ar1):
    ticks = []
    report = evaluate(
        ar1,
        LastRowLogReg(),
        baselines=("majority", "momentum"),
        progress=lambda k, n: ticks.append((k, n)),
        label="close",  # the AR(1) is in close-to-close returns: momentum's ~0.79 holds there
        **SMALL,
    )
    assert isinstance(report, EvaluationReport)
    assert report.model == "LastRowLogReg"
    assert report.baselines == ["majority", "momentum"]
    assert list(report.metrics.index) == ["LastRowLogReg", "majority", "momentum"]
    dates = report.predictions["LastRowLogReg"].index
    assert all(p.index.equals(dates) for p in report.predictions.values())
    assert ticks == [(k, 9) for k in range(9)]

    d = json.loads(json.dumps(report.to_dict()))
    for key in ("ticker", "model", "n_predictions", "start", "end", *METRIC_KEYS, "baselines"):
        assert key in d
    assert d["ticker"] == "SYN"
    assert d["n_predictions"] == 150
    assert d["start"] == dates[0].date().isoformat()
    assert set(d["baselines"]) == {"majority", "momentum"}
    # On AR(1) data both the model and momentum clearly beat the majority class.
    assert d["accuracy"] > d["baselines"]["majority"]["accuracy"] + 0.1
    assert d["baselines"]["momentum"]["accuracy"] > 0.7
    assert d["baselines"]["momentum"]["mean_ret_up"] > d["baselines"]["momentum"]["mean_ret_down"]


def test_evaluate_rejects_unknown_baseline_params(ar1):
    with pytest.raises(ConfigError, match="gbm"):
        evaluate(ar1, LastRowLogReg(), baselines=("majority",), baseline_params={"gbm": {}}, **SMALL)


def test_unknown_registry_name_raises_config_error(ar1):
    with pytest.raises(ConfigError, match="unknown model"):
        walk_forward(ar1, "no-such-model", **SMALL)


@pytest.mark.parametrize(
    "acc, se, majority, beats, warns",
    [(0.55, 0.01, 0.52, True, False), (0.53, 0.01, 0.52, False, False), (0.66, 0.02, 0.51, True, True)],
)
def test_evaluation_verdict_uses_the_95_percent_interval(acc, se, majority, beats, warns):
    metrics = pd.DataFrame(
        {"accuracy": [acc], "accuracy_se": [se], "majority_rate": [majority], "p_value": [0.01]},
        index=pd.Index(["m"], name="model"),
    )
    report = EvaluationReport(ticker="X", model="m", predictions={}, metrics=metrics)
    lines = report.verdict()
    lo, hi = acc - 1.96 * se, acc + 1.96 * se
    assert lines[0].startswith(f"m accuracy {acc:.3f} (95% CI {lo:.3f}-{hi:.3f}) ")
    assert ("does not beat" not in lines[0]) is beats
    assert (len(lines) == 2 and "leak" in lines[1]) is warns


@pytest.mark.parametrize("gap, max_train", [(0, None), (2, None), (3, 150)])
def test_walk_forward_split_is_sklearns_time_series_split_on_whole_blocks(gap, max_train):
    from sklearn.model_selection import TimeSeriesSplit

    from forecast.evaluate.splits import WalkForwardSplit

    X = np.zeros(1000)
    ours = list(WalkForwardSplit(test_days=240, retrain_every=60, gap=gap, max_train_size=max_train).split(X))
    ref = list(TimeSeriesSplit(n_splits=4, test_size=60, gap=gap, max_train_size=max_train).split(X))
    assert len(ours) == len(ref) == 4
    for (a_train, a_test), (b_train, b_test) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_walk_forward_split_allows_a_shorter_last_block():
    from forecast.evaluate.splits import WalkForwardSplit

    splits = list(WalkForwardSplit(test_days=230, retrain_every=60, gap=1).split(np.zeros(1000)))
    assert [int(test[0]) for _, test in splits] == [770, 830, 890, 950]
    assert len(splits[-1][1]) == 50 and splits[-1][1][-1] == 999
    for train, test in splits:
        assert train[0] == 0 and train[-1] == test[0] - 2  # gap 1: one sample left out


def test_walk_forward_split_with_a_single_block():
    from forecast.evaluate.splits import WalkForwardSplit

    splitter = WalkForwardSplit(test_days=60, retrain_every=60, gap=2)
    splits = list(splitter.split(np.zeros(500)))
    assert splitter.get_n_splits() == len(splits) == 1
    train, test = splits[0]
    assert test[0] == 440 and test[-1] == 499 and train[-1] == 437
