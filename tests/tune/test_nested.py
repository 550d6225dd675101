"""Nested tuning: the search never reads the test block, and the classic mistake is caught.

- On a random walk, tuning a parameter that is in effect a seed (a tiny random forest's)
  leaves out-of-sample accuracy within noise of 0.5 when nested; the planted variant that
  scores the trials on the fold's own test block (tests/tune_planted.py) clearly does not.
- Every row a fold's search fits on or scores lies at least the walk-forward's gap (label
  look-ahead + embargo) before that fold's first test decision, and every inner training
  row that gap before its validation block; the same check flags the planted variant.
- Same seed, same numbers; the trials counted are the trials run, pruned ones included.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tune_planted

from forecast.data.synthetic import ar1_bars, random_walk_bars
from forecast.errors import ConfigError
from forecast.evaluate import direction_metrics, walk_forward
from forecast.features.target import make_target
from forecast.tune import TuneSettings, fold_models, search

SEED_SPACE = {"seed": {"low": 0, "high": 100_000}}
TINY_RF = {"n_estimators": 3, "max_depth": 2}
GAP = 3  # the open label reads 2 bars ahead (horizon 1), plus the default embargo of 1


def _accuracy(pred):
    m = direction_metrics(pred["prob_up"], pred["actual_up"])
    return m["accuracy"], math.sqrt(0.25 / m["n"])


@pytest.fixture(scope="module")
def walk():
    return random_walk_bars(1000, seed=0)


@pytest.mark.slow
def test_nested_search_stays_at_chance_where_tuning_on_the_test_block_does_not(walk, monkeypatch):
    schedule = dict(window=5, test_days=252, retrain_every=21, seed=0)
    tune = TuneSettings(trials=30, space=SEED_SPACE, metric="accuracy", prune=False, inner_folds=2,
                        inner_block=63)
    nested = walk_forward(walk, "rf", model_params=TINY_RF, tune=tune, **schedule)
    labels = make_target(walk, 1, 0.0, label="open").to_numpy()
    monkeypatch.setattr(fold_models, "TunedFoldModels", tune_planted.peeking_models(labels))
    planted = walk_forward(walk, "rf", model_params=TINY_RF, tune=tune, **schedule)
    assert nested.index.equals(planted.index)
    acc, se = _accuracy(nested)
    peeked, _ = _accuracy(planted)
    assert abs(acc - 0.5) < 3 * se, f"nested accuracy {acc:.3f} is not within noise of 0.5"
    assert peeked > 0.5 + 5 * se, f"the planted search should overfit the test block, got {peeked:.3f}"


def _reads(monkeypatch):
    """Record, per search, what each fit and score reads (dates of its rows)."""
    seen = []
    real = search.Searcher.fit_and_score

    def spy(self, params, train, validate):
        seen.append((train.positions.copy(), validate.positions.copy()))
        return real(self, params, train, validate)

    monkeypatch.setattr(search.Searcher, "fit_and_score", spy)
    return seen


def _violations(bars, pred, reads_by_fold) -> list[str]:
    """Reads at or after (test start - gap), and inner training rows within the gap of their block."""
    pos = {d: i for i, d in enumerate(bars.index)}
    bad = []
    for k, reads in reads_by_fold.items():
        test_start = pos[pred.index[pred["fold"] == k][0]]
        for train, validate in reads:
            last = max(train.max(), validate.max())
            if last > test_start - GAP:
                bad.append(f"fold {k} read bar {last}, test starts at {test_start}")
            if len(validate) and train.max() + GAP > validate.min() and validate.max() < test_start:
                bad.append(f"fold {k}: inner training row {train.max()} within the gap of {validate.min()}")
    return bad


def _run_recording(monkeypatch, bars, **kw):
    seen = _reads(monkeypatch)
    by_fold: dict[int, list] = {}
    real = fold_models.TunedFoldModels.prepare

    def prepare(self, estimator, fold, parts):
        start = len(seen)
        out = real(self, estimator, fold, parts)
        by_fold[fold.index] = seen[start:]
        return out

    monkeypatch.setattr(fold_models.TunedFoldModels, "prepare", prepare)
    tune = TuneSettings(trials=4, inner_block=40, **kw.pop("tune_kw", {}))
    pred = walk_forward(bars, "logreg", tune=tune, window=5, test_days=120, retrain_every=60, **kw)
    return pred, by_fold


def test_each_folds_search_reads_nothing_from_the_gap_or_the_test_block(monkeypatch):
    bars = ar1_bars(700, phi=0.3, seed=2)
    pred, by_fold = _run_recording(monkeypatch, bars)
    assert sorted(by_fold) == [0, 1] and all(len(r) == 4 * 3 for r in by_fold.values())
    assert _violations(bars, pred, by_fold) == []
    # The reads come right up to the gap: the check is not vacuous.
    pos = {d: i for i, d in enumerate(bars.index)}
    for k, reads in by_fold.items():
        test_start = pos[pred.index[pred["fold"] == k][0]]
        assert max(v.max() for _, v in reads) == test_start - GAP


def test_the_read_check_catches_a_search_on_the_test_block(monkeypatch):
    bars = ar1_bars(700, phi=0.3, seed=2)
    labels = make_target(bars, 1, 0.0, label="open").to_numpy()
    monkeypatch.setattr(fold_models, "TunedFoldModels", tune_planted.peeking_models(labels))
    pred, by_fold = _run_recording(monkeypatch, bars, tune_kw={"prune": False})
    assert _violations(bars, pred, by_fold)


@pytest.mark.slow
def test_same_seed_same_result_and_another_seed_another_search():
    bars = ar1_bars(600, phi=0.3, seed=3)
    def run(seed):
        return walk_forward(bars, "logreg", tune=TuneSettings(trials=4, inner_block=40), window=5,
                            test_days=80, retrain_every=40, seed=seed)

    a, b, c = run(0), run(0), run(1)
    assert np.array_equal(a["prob_up"].to_numpy(), b["prob_up"].to_numpy())
    assert a.attrs["tune"] == b.attrs["tune"]
    assert a.attrs["tune"]["params_per_fold"] != c.attrs["tune"]["params_per_fold"]


@pytest.mark.slow
def test_trials_counted_are_the_trials_run_pruned_ones_included(monkeypatch):
    bars = random_walk_bars(700, seed=5)
    seen = _reads(monkeypatch)
    finished = []
    tune = TuneSettings(trials=12, inner_block=40, on_trial=lambda f, n, r: finished.append((f, r["state"])))
    pred = walk_forward(bars, "logreg", tune=tune, window=5, test_days=120, retrain_every=60)
    record = pred.attrs["tune"]
    states = [s for _, s in finished]
    assert record["trials"] == len(finished) == 24 and record["trials_per_fold"] == [12, 12]
    assert "pruned" in states  # pruning ran, and its trials are counted
    # A trial's fits: one per inner block scored, all of them for complete trials.
    complete, pruned = states.count("complete"), states.count("pruned")
    assert complete * 3 + pruned <= len(seen) <= complete * 3 + pruned * 2
    assert sum(f["complete"] + f["pruned"] for f in record["folds"]) == 24
    assert [f["pruned"] for f in record["folds"]] == [
        sum(1 for f, s in finished if f == k and s == "pruned") for k in (0, 1)]


@pytest.mark.parametrize("model, kw, message", [
    ("logreg", {"target": "return"}, "target 'return' is not tuned"),
    ("ens:logreg,gbm", {}, "an ensemble is not tuned"),
])
def test_tuning_refuses_what_it_cannot_search_in_one_line(model, kw, message):

    bars = random_walk_bars(400, seed=0)
    with pytest.raises(ConfigError, match=message):
        walk_forward(bars, model, tune=TuneSettings(trials=2, inner_block=40), window=5,
                     test_days=100, retrain_every=50, **kw)
