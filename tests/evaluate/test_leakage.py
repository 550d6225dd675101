"""The look-ahead tests, run through the model registry, and proof that they bite.

1. On a random walk every model's walk-forward accuracy is within 3 standard errors of 0.5.
2. On AR(1) returns (phi = 0.8, today's sign predicts tomorrow's ~79.5% of the time) the
   Keras networks (MLP, LSTM, GRU, TCN, Transformer), the forest and logistic regression
   learn the rule: accuracy >= 0.73, and their calls agree
   with sign(r_t) on >= 85% of days. A feature window that ends one bar early (stale by a
   bar) can only reach sign(r_{t-1}): ~72% accuracy, ~78% agreement. A planted stale bug
   shows the check fails.
3. Shuffling the training labels takes that skill back to chance.
4. Changing bars after date t changes no prediction dated t or earlier, for every
   walk-forward shape (tests/leakage_shapes.py: one ticker, a pooled universe, a universe
   ticker by ticker), with the alpha158 set and with cross-sectional (rank, z-score)
   features in the universe shapes, and for one ticker with the traded (open-to-open) label and no
   embargo, where its extra bar of look-ahead matters. Planted leaks (features fitted on
   the whole span, training labels reaching into the test block, a fold plan that forgets
   the fill bar, a cross-section read from the next day) show the check fails, for each shape. The
   same holds for the regression targets (the traded return, a universe's daily rank), pooled.
5. Warm-started refits (each fold continues the previous fold's network) pass check 4 over
   three folds, in every shape (the GRU, TCN and Transformer: one ticker and pooled); a
   planted walk-forward that warm-starts from later folds fails it.
6. Nested tuning (`tune=`, in process and with each fold's search a Ray task) passes check
   4; a planted search that scores its trials on the fold's test block fails it (in both;
   tests/tune/test_nested.py checks what each search reads).
7. A point-in-time membership rewritten after day t (who is in the cross-sections, who
   trains) moves no pooled prediction dated t; the rewrite from before t does.

Networks are tiny and trained for a few epochs over two or three folds to stay fast on CPU.
"""

from __future__ import annotations

import math

import leakage_shapes as shapes
import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.evaluate import direction_metrics, walk_forward
from forecast.features import FeatureSpec
from forecast.tune import TuneSettings

FAST = {
    "mlp": {"hidden_units": (16,), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "lstm": {"units": (8,), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "gru": {"units": (8,), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "tcn": {"filters": 8, "dilations": (1, 2), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "transformer": {"d_model": 8, "heads": 2, "layers": 1, "ff_units": 16, "epochs": 8, "patience": 3,
                    "learning_rate": 0.01},
    "gbm": {"max_iter": 50},
    "rf": {"n_estimators": 30, "max_depth": 8},
    "lgbm": {"n_estimators": 40, "num_leaves": 15},
}
KERAS_ZOO = ("gru", "tcn", "transformer")
ALL_MODELS = ("mlp", "lstm", *KERAS_ZOO, "rf", "lgbm", "logreg", "gbm", "majority", "momentum")
LEARNERS = ("mlp", "lstm", *KERAS_ZOO, "logreg", "rf", "lgbm")
SCHEDULE = dict(window=5, test_days=600, retrain_every=300, seed=0)


def _run(bars, name, **kw):
    return walk_forward(bars, name, model_params=FAST.get(name), **{**SCHEDULE, **kw})


def _accuracy(pred: pd.DataFrame) -> tuple[float, float, int]:
    """Accuracy, its standard error under a fair coin, and n."""
    m = direction_metrics(pred["prob_up"], pred["actual_up"])
    return m["accuracy"], math.sqrt(0.25 / m["n"]), m["n"]


@pytest.fixture(scope="module")
def ar1():
    return ar1_bars(3000, phi=0.8, seed=0)


@pytest.fixture(scope="module")
def ar1_predictions(ar1):
    # The AR(1) is in close-to-close returns, so its known answer is for the close label.
    return {name: _run(ar1, name, label="close") for name in LEARNERS}


def _check_ar1_learnt(bars: pd.DataFrame, pred: pd.DataFrame, name: str) -> None:
    """Skill on AR(1): accuracy, and agreement with the Bayes rule sign(r_t) at date t."""
    acc, _, _ = _accuracy(pred)
    today_up = (np.log(bars["close"]).diff().reindex(pred.index) > 0).to_numpy()
    agreement = float(((pred["prob_up"] > 0.5).to_numpy() == today_up).mean())
    assert acc >= 0.73, f"{name}: accuracy {acc:.3f} on AR(1) phi=0.8"
    assert agreement >= 0.85, f"{name}: calls agree with today's sign on only {agreement:.3f}"


def _stale_by_one_bar(feature_rows):
    """A planted bug: every feature window ends one bar before its decision date."""

    def stale(*args):
        v, offset = feature_rows(*args)
        return np.vstack([np.full((1, v.shape[1]), np.nan), v[:-1]]), offset

    return stale


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_random_walk_is_not_predictable(name):
    pred = _run(random_walk_bars(3000, seed=1), name)
    acc, se, n = _accuracy(pred)
    assert n >= 590
    assert abs(acc - 0.5) < 3 * se, f"{name}: accuracy {acc:.3f} on a random walk (se {se:.3f})"


@pytest.mark.slow
@pytest.mark.parametrize("name", LEARNERS)
def test_ar1_direction_is_learnt(ar1, ar1_predictions, name):
    _check_ar1_learnt(ar1, ar1_predictions[name], name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_ar1_check_catches_features_one_bar_stale(ar1, monkeypatch, name):
    from forecast.evaluate import fold_windows

    monkeypatch.setattr(fold_windows, "_feature_rows", _stale_by_one_bar(fold_windows._feature_rows))
    stale = _run(ar1, name, label="close")
    with pytest.raises(AssertionError):
        _check_ar1_learnt(ar1, stale, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp", "logreg"])
def test_shuffled_training_labels_give_chance(ar1, ar1_predictions, name):
    shuffled = _run(ar1, name, shuffle_train_labels=True, label="close")
    acc, se, _ = _accuracy(shuffled)
    assert abs(acc - 0.5) < 3 * se, f"{name}: accuracy {acc:.3f} with shuffled labels"
    # Same dates, same features: only the labels' link to the features was broken.
    assert shuffled.index.equals(ar1_predictions[name].index)
    assert _accuracy(ar1_predictions[name])[0] - acc > 0.15


# -- 4 and 5: no prediction dated t moves when bars after t change, in every shape ----------------

# (shape, model, settings, cut dates; see leakage_shapes.cut_dates)
NO_LOOKAHEAD = [
    ("ticker", "logreg", {"horizon": 2}, ("first", "mid", "last0")),
    ("ticker", "gbm", {"horizon": 2, "spec": FeatureSpec(garch=True, day_of_week=True), "train_window": 400},
     ("first", "mid", "last0")),
    ("ticker", "mlp", {"horizon": 2, "spec": FeatureSpec(normalize="rolling", scale_window=60)}, ("mid",)),
    ("ticker", "lstm", {"horizon": 2, "train_window": 400}, ("mid",)),
    # Nested tuning: each fold's search (inner walk-forward with the same gap) sees its training span only.
    ("ticker", "logreg", {"horizon": 2, "tune": TuneSettings(trials=3, inner_block=60)}, ("first", "mid")),
    # The traded label reads open[t+1+h]: with no embargo its training labels end right at the
    # block's first bar.
    ("ticker", "logreg", {"horizon": 1, "embargo": 0, "label": "open"}, ("first", "last0")),
    ("ticker", "gbm", {"horizon": 2, "embargo": 0, "label": "open"}, ("first", "last0")),
    ("ticker", "mlp", {"horizon": 1, "embargo": 0, "label": "open"}, ("first", "last0")),
    ("ticker", "lgbm", {"horizon": 1, "embargo": 0, "label": "open"}, ("first", "last0")),
    ("pooled", "lgbm", {"target": "beats-median"}, ("second", "mid1")),
    # An ensemble of leak-free members is leak-free: averaging adds no look-ahead.
    ("ticker", "ens:logreg,gbm", {"horizon": 1, "embargo": 0, "label": "open"}, ("first", "last0")),
    ("pooled", "ens:logreg,momentum", {"target": "beats-median"}, ("second",)),
    *[(shape, "logreg", {"target": target}, ("second", "mid1"))
      for shape in ("pooled", "per-ticker") for target in ("direction", "beats-median")],
    *[(shape, "logreg", {"target": "beats-median", "train_window": 150}, ("second",))
      for shape in ("pooled", "per-ticker")],
    # Cross-sectional features: each day's rank / z-score across the universe's tickers.
    *[(shape, "logreg", {"spec": FeatureSpec(cross_section=mode), "train_window": 150}, ("second", "mid1"))
      for shape in ("pooled", "per-ticker") for mode in ("rank", "zscore")],
    ("pooled", "logreg", {"spec": FeatureSpec.from_dict({"preset": "alpha158", "cross_section": "rank"})},
     ("second",)),
    ("ticker", "logreg", {"horizon": 2, "spec": FeatureSpec.from_option("alpha158"), "train_window": 400},
     ("first", "last0")),
    # Regression targets: the traded return itself (one ticker, no embargo: its training
    # returns end right at the block's first open) and a universe's return and daily rank.
    ("ticker", "gbm", {"target": "return", "embargo": 0}, ("first", "last0")),
    *[("pooled", model, {"target": target}, ("second", "mid1"))
      for model in ("logreg", "gbm", "lgbm") for target in ("return", "rank")],
    ("per-ticker", "logreg", {"target": "rank"}, ("second",)),
    # The Keras twins' linear output, warm refits pooled (their early stopping keeps the tail).
    *[("pooled", model, {"target": "return"}, ("second",)) for model in KERAS_ZOO],
]


def _model_params(shape, model):
    return {"model_params": WARM[model]} if shape != "ticker" and model in WARM else (
        {"model_params": FAST[model]} if model in FAST else {})


WARM_MLP = {"epochs": 2, "warm_epochs": 1, "hidden_units": (8,), "patience": 1, "warm_start": True}
# The universe shapes train on several tickers' windows: two epochs, then one per warm refit.
WARM = {"mlp": WARM_MLP,
        **{name: {**FAST[name], "epochs": 2, "warm_epochs": 1, "patience": 1, "warm_start": True}
           for name in KERAS_ZOO}}


def _spec_id(spec: FeatureSpec) -> str:
    return "-".join(["spec", *spec.extra, *([spec.cross_section] if spec.cross_section != "none" else [])])


def _id(case):
    shape, model, kw, _ = case
    settings = [_spec_id(v) if k == "spec" else k if k == "tune" else f"{k}={v}" for k, v in kw.items()]
    return "-".join([shape, model, *settings])


@pytest.mark.slow
@pytest.mark.parametrize("shape, model, kw, cuts", NO_LOOKAHEAD, ids=[_id(c) for c in NO_LOOKAHEAD])
def test_future_bars_do_not_change_past_predictions(shape, model, kw, cuts):
    data = shapes.inputs(shape)
    kw = {**_model_params(shape, model), **kw}
    base = shapes.run(shape, data, model, **kw)
    assert shapes.past_unchanged(shape, data, shapes.cut_dates(base, *cuts), model, base=base, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("cross_section", ["none", "zscore"])
@pytest.mark.parametrize("shape", ["pooled", "per-ticker"])
def test_one_tickers_future_changes_no_past_prediction_of_any(shape, cross_section):
    """Perturbing one ticker alone (BBB, listed late) moves no earlier forecast of any ticker,
    pooled (through the shared model) or not, nor through the others' cross-sectional features."""
    data = shapes.inputs(shape)
    kw = {"spec": FeatureSpec(cross_section=cross_section)}
    base = shapes.run(shape, data, **kw)
    assert shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), which=["BBB"], base=base,
                                 **kw)


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["pooled", "per-ticker"])
def test_the_check_catches_a_cross_section_of_the_next_day(monkeypatch, shape):
    """Planted: each date's features normalised with the next date's cross-section."""
    from forecast.features import cross_section

    real = cross_section.normalise

    def next_day(values, members, mode):
        return real(np.vstack([values[1:], values[-1:]]), np.vstack([members[1:], members[-1:]]), mode)

    kw = {"spec": FeatureSpec(cross_section="rank")}
    data = shapes.inputs(shape)
    base = shapes.run(shape, data, **kw)
    assert shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), base=base, **kw)
    monkeypatch.setattr(cross_section, "normalise", next_day)
    base = shapes.run(shape, data, **kw)
    assert not shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), base=base, **kw)


def _leak_whole_span(monkeypatch):
    """Planted: each ticker's features are fitted on all its bars, the future too."""
    from forecast.evaluate import fold_windows

    real = fold_windows._windows

    def whole_span(member, train_idx, test_idx, n_fit, spec, window):
        return real(member, train_idx, test_idx, len(member.bars), spec, window)

    monkeypatch.setattr(fold_windows, "_windows", whole_span)


def _leak_into_the_block(monkeypatch):
    from forecast.evaluate import folds

    monkeypatch.setattr(folds, "plan_folds", shapes.train_up_to_the_block(folds.plan_folds))


@pytest.mark.slow
@pytest.mark.parametrize("leak", [_leak_whole_span, _leak_into_the_block])
@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_the_check_catches_planted_leaks(monkeypatch, shape, leak):
    data = shapes.inputs(shape)
    leak(monkeypatch)
    kw = {"embargo": 0} if shape == "ticker" else {}
    base = shapes.run(shape, data, **kw)
    assert not shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), base=base, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["return", "rank"])
def test_the_check_catches_regression_labels_reaching_into_the_block(monkeypatch, target):
    """Planted: the pooled training returns (or ranks) run to the day before the test block,
    so the last ones read its opens; the same check catches it for a regression target."""
    data = shapes.inputs("pooled")
    _leak_into_the_block(monkeypatch)
    base = shapes.run("pooled", data, target=target)
    assert "score" in base.columns
    assert not shapes.past_unchanged("pooled", data, shapes.cut_dates(base, "second"), base=base,
                                     target=target)


@pytest.mark.parametrize("target", ["return", "rank"])
def test_regression_targets_sit_on_the_causal_boundary_too(monkeypatch, target):
    """One decision closer than the embargo asks is still causal for the return and rank
    targets (their labels read opens up to t + 2, as direction's): the check agrees."""
    from forecast.evaluate import folds

    monkeypatch.setattr(folds, "plan_folds", shapes.train_one_closer(folds.plan_folds))
    data = shapes.inputs("pooled")
    base = shapes.run("pooled", data, target=target)
    assert shapes.past_unchanged("pooled", data, shapes.cut_dates(base, "second"), base=base, target=target)


@pytest.mark.parametrize("shape", ["ticker", "pooled"])
def test_the_check_catches_a_leak_inside_an_ensemble(monkeypatch, shape):
    """The `ens:` cases above would pass vacuously if the members bypassed the walk-forward
    being checked: a planted leak in its fold plan shows through the ensemble."""
    data = shapes.inputs(shape)
    _leak_into_the_block(monkeypatch)
    kw = {"embargo": 0} if shape == "ticker" else {}
    base = shapes.run(shape, data, "ens:logreg,momentum", **kw)
    assert base.attrs["members"] == ["logreg", "momentum"]
    assert not shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), "ens:logreg,momentum",
                                     base=base, **kw)


@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_the_check_sits_exactly_on_the_causal_boundary(monkeypatch, shape):
    """Training one decision closer than the embargo asks reads the block's first open at
    most: still causal, and the check agrees (one bar more is the planted leak above)."""
    from forecast.evaluate import folds

    monkeypatch.setattr(folds, "plan_folds", shapes.train_one_closer(folds.plan_folds))
    data = shapes.inputs(shape)
    base = shapes.run(shape, data)
    assert shapes.past_unchanged(shape, data, shapes.cut_dates(base, "second"), base=base)


@pytest.mark.slow
def test_the_check_catches_a_tuning_search_that_peeks_at_the_test_block(monkeypatch):
    """Planted: each fold's trials are scored on its own test block (tests/tune_planted.py)."""
    import tune_planted

    from forecast.features.target import make_target
    from forecast.tune import fold_models

    data = shapes.inputs("ticker")
    labels = make_target(data, 1, 0.0, label="open").to_numpy()
    monkeypatch.setattr(fold_models, "TunedFoldModels", tune_planted.peeking_models(labels))
    kw = {"tune": TuneSettings(trials=6, space={"C": {"low": 1e-4, "high": 10.0, "log": True}},
                               metric="accuracy", prune=False)}
    base = shapes.run("ticker", data, **kw)
    assert not shapes.past_unchanged("ticker", data, shapes.cut_dates(base, "mid"), base=base, **kw)


@pytest.mark.slow
@pytest.mark.ray
def test_nested_tuning_with_each_search_on_ray_reads_no_bar_after_t_and_the_check_can_fail(monkeypatch):
    """Check 6 with the folds' searches as Ray tasks (`TuneSettings.executor`): each task's
    record comes back keyed by its fold; no prediction dated t moves when later bars
    change. The planted peeking search, shipped to the workers, fails the same check."""
    import tune_planted

    from forecast.experiment import RayExecutor
    from forecast.features.target import make_target
    from forecast.tune import fold_models

    data = shapes.inputs("ticker")
    with RayExecutor(workers=2) as cluster:
        kw = {"horizon": 2, "tune": TuneSettings(trials=3, inner_block=60, executor=cluster)}
        base = shapes.run("ticker", data, **kw)
        assert base.attrs["tune"]["trials"] == 3 * base["fold"].nunique()
        assert shapes.past_unchanged("ticker", data, shapes.cut_dates(base, "first", "mid"), base=base, **kw)

        import ray.cloudpickle  # only now: the executor sets Ray's environment before the import

        ray.cloudpickle.register_pickle_by_value(tune_planted)  # the tests' folder is not on the workers
        labels = make_target(data, 1, 0.0, label="open").to_numpy()
        monkeypatch.setattr(fold_models, "TunedFoldModels", tune_planted.peeking_models(labels))
        kw = {"tune": TuneSettings(trials=6, space={"C": {"low": 1e-4, "high": 10.0, "log": True}},
                                   metric="accuracy", prune=False, executor=cluster)}
        base = shapes.run("ticker", data, **kw)
        assert not shapes.past_unchanged("ticker", data, shapes.cut_dates(base, "mid"), base=base, **kw)


def test_perturbation_check_catches_a_fold_plan_that_forgets_the_fill_bar(monkeypatch):
    """Planted bug: folds planned as if the open label read only `horizon` bars ahead (one
    ticker: a universe's plan refuses any look-ahead but its own)."""
    from forecast.evaluate import folds

    monkeypatch.setattr(folds, "label_lookahead", lambda horizon, label: horizon)
    data = shapes.inputs("ticker")
    kw = dict(horizon=1, embargo=0, label="open")
    base = shapes.run("ticker", data, **kw)
    assert not shapes.past_unchanged("ticker", data, shapes.cut_dates(base, "first"), base=base, **kw)


def _warm_kw(shape):
    return {"horizon": 1, "embargo": 0, "label": "open", "test_days": 240} if shape == "ticker" else {}


# The MLP in every shape; the other Keras networks one ticker and pooled (ticker by ticker
# repeats the one-ticker fit per member at three times the cost, and no network code differs).
WARM_CASES = [*[("mlp", shape) for shape in shapes.SHAPES],
              *[(model, shape) for model in KERAS_ZOO for shape in ("ticker", "pooled")]]


@pytest.mark.slow
@pytest.mark.parametrize("model, shape", WARM_CASES)
def test_warm_started_refits_leak_nothing(model, shape):
    """Warm-started Keras networks (the GRU, TCN and Transformer too) leak nothing."""
    data = shapes.inputs(shape)
    kw = {**_model_params(shape, model), **_warm_kw(shape)}
    base = shapes.run(shape, data, model, **kw)
    assert base.attrs["warm_start"] is True and base["fold"].nunique() == 3
    cuts = shapes.cut_dates(base, "first", "mid1") if shape == "ticker" else shapes.cut_dates(base, "second")
    assert shapes.past_unchanged(shape, data, cuts, model, base=base, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_perturbation_check_catches_a_warm_start_from_a_later_fold(monkeypatch, shape):
    """Planted bug: folds run newest first, so each warm start carries later bars' model."""
    from forecast.evaluate import folds

    plan = folds.plan_folds
    monkeypatch.setattr(folds, "plan_folds", lambda *a, **k: plan(*a, **k)[::-1])
    data = shapes.inputs(shape)
    kw = {**_model_params(shape, "mlp"), **_warm_kw(shape)}
    base = shapes.run(shape, data, "mlp", **kw)
    assert not shapes.past_unchanged(shape, data, shapes.cut_dates(base, "first"), "mlp", base=base, **kw)


@pytest.mark.slow
def test_newest_first_folds_are_harmless_when_refits_are_cold(monkeypatch):
    """The planted bug above is the warm start's: cold refits in any order leak nothing."""
    from forecast.evaluate import folds

    plan = folds.plan_folds
    monkeypatch.setattr(folds, "plan_folds", lambda *a, **k: plan(*a, **k)[::-1])
    data = shapes.inputs("ticker")
    kw = {"model_params": {**FAST["mlp"], "warm_start": False}, **_warm_kw("ticker")}
    base = shapes.run("ticker", data, "mlp", **kw)
    assert shapes.past_unchanged("ticker", data, shapes.cut_dates(base, "first"), "mlp", base=base, **kw)


# -- 7: a membership changed after t moves no prediction dated t ---------------------------------

def _with_membership(universe, changed_from=None):
    """`universe` with a point-in-time membership (CCC joins on day 150, T03 on day 380);
    `changed_from`: that membership rewritten after that day (AAA leaves, T03 joins the day
    after it), as a later revision of the index would."""
    from forecast.data import membership as ms

    day = universe.calendar
    end_aaa, start_t03 = ms.OPEN_END, day[380]
    if changed_from is not None:
        end_aaa, start_t03 = day[changed_from], day[changed_from + 1]
    intervals = pd.DataFrame({"ticker": ["AAA", "BBB", "CCC", "T03"],
                              "start": [day[0], day[0], day[150], start_t03],
                              "end": [end_aaa, ms.OPEN_END, ms.OPEN_END, ms.OPEN_END]})
    out = shapes.Universe.from_bars(dict(universe.bars))
    out.membership = type("Membership", (), {"mask": lambda self, dates, tickers=None:
                                             ms.member_mask(intervals, dates, tickers)})()
    return out


def _membership_moves_the_past(change_at: int, cut_at: int, mode: str, train_on: str) -> bool:
    data = shapes.universe(k=4)
    kw = {**shapes.SCHEDULES["pooled"], "spec": FeatureSpec(cross_section=mode), "train_on": train_on}
    base = shapes.run("pooled", _with_membership(data), **kw)
    other = shapes.run("pooled", _with_membership(data, changed_from=change_at), **kw)
    cut = data.calendar[cut_at]
    a, b = base[shapes.dates(base) <= cut], other[shapes.dates(other) <= cut]
    assert len(a) > 0 and len(base) > len(a)
    assert not np.array_equal(base["prob_up"].to_numpy(), other["prob_up"].to_numpy())
    return not (a.index.equals(b.index) and np.array_equal(a["prob_up"].to_numpy(), b["prob_up"].to_numpy()))


@pytest.mark.slow
@pytest.mark.parametrize("mode, train_on", [("rank", "members"), ("zscore", "all")])
def test_a_later_membership_change_moves_no_past_prediction(mode, train_on):
    """The membership of day t is known on t: rewriting it after day 340 moves no forecast
    dated 340 or earlier, through the cross-sections or who trains; the same rewrite after
    day 330 (before the cut) does (the check can fail)."""
    assert not _membership_moves_the_past(340, 340, mode, train_on)
    assert _membership_moves_the_past(330, 340, mode, train_on)


# -- 8. the TCN's causal padding: what it guards, and what the check above does -------------------
# fcast's window for decision t ends at bar t and the TCN reads its last step, so a non-causal
# ("same"-padded) convolution still reads no bar after t (tests/models/test_keras_zoo.py proves
# the padding causal inside the window). Padding matters when a step before the window's end
# stands for the decision: planted here, windows end one bar late and the TCN reads its
# second-to-last step. Causal padding keeps that step from the later bar; "same" padding
# leaks it, and the perturbation check catches it.


def _window_one_bar_late(feature_rows):
    """A planted bug: every feature window ends one bar after its decision date."""

    def late(*args):
        v, offset = feature_rows(*args)
        return np.vstack([v[1:], np.full((1, v.shape[1]), np.nan)]), offset

    return late


def _tcn_reading_one_row_back(padding: str) -> type:
    from forecast.models.tcn import TCNForecaster

    class TCNOneRowBack(TCNForecaster):
        _padding = padding

        def _build_network(self, keras, input_shape, dtype):
            inputs = keras.Input(shape=input_shape)
            h = self._blocks(keras, inputs, dtype)
            row = keras.layers.Flatten()(keras.layers.Cropping1D((input_shape[0] - 2, 1))(h))
            return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(row))

    return TCNOneRowBack


@pytest.mark.slow
@pytest.mark.parametrize("padding, leaks", [("causal", False), ("same", True)])
def test_a_late_window_leaks_through_a_tcn_only_without_causal_padding(monkeypatch, padding, leaks):
    from forecast.evaluate import fold_windows

    monkeypatch.setattr(fold_windows, "_feature_rows", _window_one_bar_late(fold_windows._feature_rows))
    data, kw = shapes.inputs("ticker"), {"horizon": 2}
    model = _tcn_reading_one_row_back(padding)(**{**FAST["tcn"], "dropout": 0.0})
    base = shapes.run("ticker", data, model, **kw)
    cuts = shapes.cut_dates(base, "mid")
    assert shapes.past_unchanged("ticker", data, cuts, model, base=base, **kw) is not leaks
