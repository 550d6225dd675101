"""The four look-ahead tests, run through the model registry, and proof that they bite.

1. On a random walk every model's walk-forward accuracy is within 3 standard errors of 0.5.
2. On AR(1) returns (phi = 0.8, today's sign predicts tomorrow's ~79.5% of the time) the
   MLP, LSTM and logistic regression learn the rule: accuracy >= 0.73, and their calls agree
   with sign(r_t) on >= 85% of days. A feature window that ends one bar early (stale by a
   bar) can only reach sign(r_{t-1}): ~72% accuracy, ~78% agreement. A planted stale bug
   shows the check fails.
3. Shuffling the training labels takes that skill back to chance.
4. Changing bars after date t changes no prediction dated t or earlier, for the traded
   (open-to-open) label with no embargo, where its extra bar of look-ahead matters; a
   planted fold plan that forgets that bar shows the check fails.
5. Warm-started refits (each fold continues the previous fold's network) pass check 4 over
   three folds; a planted walk-forward that warm-starts from later folds fails it.

Networks are tiny and trained for a few epochs over two or three folds to stay fast on CPU.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.evaluate import direction_metrics, walk_forward
from forecast.features import FeatureSpec

FAST = {
    "mlp": {"hidden_units": (16,), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "lstm": {"units": (8,), "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "gbm": {"max_iter": 50},
}
ALL_MODELS = ("mlp", "lstm", "logreg", "gbm", "majority", "momentum")
LEARNERS = ("mlp", "lstm", "logreg")
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


def _stale_by_one_bar(decision_windows):
    """A planted bug: every feature window ends one bar before its decision date."""

    def stale(values, window, positions=None):
        v = np.asarray(values, dtype="float64")
        return decision_windows(np.vstack([np.full((1, v.shape[1]), np.nan), v[:-1]]), window, positions)

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

    monkeypatch.setattr(fold_windows, "decision_windows", _stale_by_one_bar(fold_windows.decision_windows))
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


def _change_after(bars: pd.DataFrame, t: int, seed: int = 3) -> pd.DataFrame:
    """Bars after position t replaced by an unrelated path (every column changes)."""
    rng = np.random.default_rng(seed)
    out = bars.copy()
    k = len(bars) - t - 1
    shock = np.exp(np.cumsum(rng.normal(0.002, 0.03, k)))
    out.iloc[t + 1 :, :4] = bars.iloc[t + 1 :, :4].to_numpy() * shock[:, None]
    out.iloc[t + 1 :, 4] = rng.lognormal(16.0, 1.0, k).round()
    return out


# Offsets of t from the end: 160 is the first test day, 120 mid-way through the first of
# two 80-day blocks, 81 its last day (the second block's model then trains on labels up to
# close[t - 2]).
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, spec, train_window, offsets",
    [
        ("logreg", None, None, (160, 120, 81)),
        ("gbm", FeatureSpec(garch=True, day_of_week=True), 400, (160, 120, 81)),
        ("mlp", FeatureSpec(normalize="rolling", scale_window=60), None, (120,)),
        ("lstm", None, 400, (120,)),
    ],
)
def test_future_bars_do_not_change_past_predictions(name, spec, train_window, offsets):
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(spec=spec, train_window=train_window, test_days=160, retrain_every=80, min_train=300, horizon=2)
    _check_future_bars_change_no_past_prediction(bars, name, kw, offsets)


# The traded label reads open[t+1+h]: with no embargo its training labels end right at the
# block's first bar. t = the first test day and the last day of the first block.
@pytest.mark.slow
@pytest.mark.parametrize("name, horizon", [("logreg", 1), ("gbm", 2), ("mlp", 1)])
def test_traded_label_with_no_embargo_leaks_nothing(name, horizon):
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(test_days=160, retrain_every=80, min_train=300, horizon=horizon, embargo=0, label="open")
    _check_future_bars_change_no_past_prediction(bars, name, kw, (160, 81))


def test_perturbation_check_catches_a_fold_plan_that_forgets_the_fill_bar(monkeypatch):
    """Planted bug: folds planned as if the open label read only `horizon` bars ahead."""
    from forecast.evaluate import folds

    monkeypatch.setattr(folds, "label_lookahead", lambda horizon, label: horizon)
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(test_days=160, retrain_every=80, min_train=300, horizon=1, embargo=0, label="open")
    with pytest.raises(AssertionError, match="moved with later bars"):
        _check_future_bars_change_no_past_prediction(bars, "logreg", kw, (160,))


def _check_future_bars_change_no_past_prediction(bars, name, kw, offsets):
    base = _run(bars, name, **kw)
    for t in (len(bars) - k for k in offsets):
        changed = _run(_change_after(bars, t), name, **kw)
        date_t = bars.index[t]
        before = base.loc[:date_t]
        assert len(before) > 0 and before.index.equals(changed.loc[:date_t].index)
        np.testing.assert_array_equal(
            before["prob_up"].to_numpy(),
            changed.loc[:date_t, "prob_up"].to_numpy(),
            err_msg=f"{name}: a prediction dated <= {date_t.date()} moved with later bars",
        )
        # The change was real: some later prediction moved.
        after_a, after_b = base["prob_up"].iloc[len(before) :], changed["prob_up"].iloc[len(before) :]
        assert not np.array_equal(after_a.to_numpy(), after_b.to_numpy())


@pytest.mark.slow
def test_warm_started_refits_leak_nothing():
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(test_days=240, retrain_every=80, min_train=300, horizon=1, embargo=0, label="open")
    pred = _run(bars, "mlp", **kw)
    assert pred.attrs["warm_start"] is True and pred["fold"].nunique() == 3
    # t: first test day, inside the second block, last day of the second block.
    _check_future_bars_change_no_past_prediction(bars, "mlp", kw, (240, 120, 81))


@pytest.mark.slow
def test_perturbation_check_catches_a_warm_start_from_a_later_fold(monkeypatch):
    """Planted bug: folds run newest first, so each warm start carries later bars' model."""
    from forecast.evaluate import folds

    plan = folds.plan_folds
    monkeypatch.setattr(folds, "plan_folds", lambda *a, **k: plan(*a, **k)[::-1])
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(test_days=160, retrain_every=80, min_train=300, horizon=1, embargo=0, label="open")
    with pytest.raises(AssertionError, match="moved with later bars"):
        _check_future_bars_change_no_past_prediction(bars, "mlp", kw, (160,))


@pytest.mark.slow
def test_newest_first_folds_are_harmless_when_refits_are_cold(monkeypatch):
    """The planted bug above is the warm start's: cold refits in any order leak nothing."""
    from forecast.evaluate import folds

    plan = folds.plan_folds
    monkeypatch.setattr(folds, "plan_folds", lambda *a, **k: plan(*a, **k)[::-1])
    monkeypatch.setitem(FAST, "mlp", {**FAST["mlp"], "warm_start": False})
    bars = ar1_bars(800, phi=0.5, seed=4)
    kw = dict(test_days=160, retrain_every=80, min_train=300, horizon=1, embargo=0, label="open")
    _check_future_bars_change_no_past_prediction(bars, "mlp", kw, (160,))
