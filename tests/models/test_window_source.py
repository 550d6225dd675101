"""Pooled Keras training streams its windows: a WindowSource holds the feature rows once and
the batches are cut as the model trains on them. Checked against the gathered windows: the
same samples, the same checks, and (with shuffling off) the same network to the last bit."""

from __future__ import annotations

import leakage_shapes as shapes
import numpy as np
import pandas as pd
import pytest

from forecast.errors import DataError
from forecast.evaluate import walkforward as wf
from forecast.features.windows import gather_windows
from forecast.models import keras_base
from forecast.models.registry import make_model
from forecast.models.window_source import WindowSource

WINDOW = 5


def source(n_rows=80, n_features=3, seed=0, ends=None):
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(n_rows, n_features))
    if ends is None:
        ends = rng.permutation(np.arange(WINDOW - 1, n_rows))  # any order, as pooled samples are
    return WindowSource(feats, np.asarray(ends), WINDOW)


def test_take_cuts_the_windows_gather_would():
    src = source()
    idx = np.array([3, 0, 17, 17, 50])
    # an independent cut: rows end - window + 1 .. end, stacked by hand
    by_hand = np.stack([src.features[e - WINDOW + 1:e + 1] for e in src.ends[idx]])
    np.testing.assert_array_equal(src.take(idx), by_hand)
    np.testing.assert_array_equal(src.take(slice(None)), gather_windows(src.features, WINDOW, src.ends))
    assert src.shape == (len(src.ends), WINDOW, 3) and len(src) == len(src.ends)


def test_check_refuses_nan_a_window_reads_and_ignores_rows_none_reads():
    feats = np.ones((30, 2))
    feats[2, 1] = np.nan  # warm-up row before the first window
    WindowSource(feats, np.arange(10, 30), WINDOW).check()
    feats[20, 0] = np.inf  # read by the windows ending at 20 .. 24
    with pytest.raises(DataError, match="NaN or inf"):
        WindowSource(feats, np.arange(10, 30), WINDOW).check()
    WindowSource(feats, np.arange(10, 20), WINDOW).check()  # windows ending before row 20
    with pytest.raises(DataError, match="no samples"):
        WindowSource(feats, np.arange(0), WINDOW).check()
    with pytest.raises(DataError, match="window ends"):
        WindowSource(feats, np.array([2, 10]), WINDOW).check()


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.parametrize("name,params", [
    ("lstm", dict(units=(6,))),
    ("mlp", dict(hidden_units=(8,), input_mode="flatten")),
])
def test_streamed_fit_equals_the_gathered_fit_batch_for_batch(monkeypatch, name, params):
    """With shuffling off both paths feed the same batches in the same order: the streamed
    network must equal the one fitted on gathered windows, weights, history and P(up)."""
    monkeypatch.setattr(keras_base, "SHUFFLE", False)
    src = source(n_rows=400, seed=1)
    X = src.take(slice(None))
    y = (X[:, -1, 0] + 0.5 * X[:, -2, 1] > 0).astype(int)
    kw = dict(params, epochs=3, batch_size=32, learning_rate=1e-2, validation_fraction=0.25,
              validation_gap=3, class_weight="balanced", patience=1, dropout=0.0, seed=3)
    gathered = make_model(name, **kw).fit(X, y)
    streamed = make_model(name, **kw).fit(src, y)
    assert streamed.history_ == gathered.history_
    for a, b in zip(streamed.model_.get_weights(), gathered.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(streamed.predict_proba(X), gathered.predict_proba(X))
    assert streamed.input_shape_ == gathered.input_shape_ == (WINDOW, 3)


@pytest.mark.keras
@pytest.mark.slow
def test_streamed_batches_cover_each_training_sample_once_an_epoch_and_never_the_tail():
    from forecast.models.backend import keras as keras_module

    src = source(n_rows=200)
    labels = np.arange(len(src), dtype=np.float32)  # the label names the sample
    train = slice(10, 150)
    batches = keras_base.window_batches(keras_module(), src, labels, train, 32, lambda w: w, shuffle_seed=7)
    seen_epochs = []
    for _ in range(2):
        seen = np.concatenate([batches[i][1] for i in range(len(batches))]).astype(int)
        for i in range(len(batches)):
            x, lab = batches[i]
            np.testing.assert_array_equal(x, src.take(lab.astype(int)).astype(np.float32))
        assert sorted(seen) == list(range(10, 150))
        seen_epochs.append(seen)
        batches.on_epoch_end()
    assert not np.array_equal(seen_epochs[0], seen_epochs[1])  # a new order each epoch
    again = keras_base.window_batches(keras_module(), src, labels, train, 32, lambda w: w, shuffle_seed=7)
    np.testing.assert_array_equal(np.concatenate([again[i][1] for i in range(len(again))]), seen_epochs[0])


@pytest.mark.keras
@pytest.mark.slow
def test_a_pooled_walk_forward_streams_and_forecasts_as_the_gathered_one(monkeypatch):
    """The pooled fit gets a WindowSource, never gathered windows; with shuffling off the
    forecasts equal those of the same walk-forward fed gathered windows."""
    monkeypatch.setattr(keras_base, "SHUFFLE", False)
    data = shapes.inputs("pooled")
    params = dict(units=(4,), epochs=2, batch_size=32, learning_rate=1e-2)
    got = []
    real_fit = keras_base.KerasForecaster.fit

    def spy(self, X, y, callbacks=None):
        got.append(type(X).__name__)
        return real_fit(self, X, y, callbacks=callbacks)

    monkeypatch.setattr(keras_base.KerasForecaster, "fit", spy)
    streamed = shapes.run("pooled", data, model="lstm", model_params=params)
    assert got and set(got) == {"WindowSource"}
    monkeypatch.setattr(wf, "streams_windows", lambda est: False)
    got.clear()
    gathered = shapes.run("pooled", data, model="lstm", model_params=params)
    assert set(got) == {"ndarray"}
    pd.testing.assert_frame_equal(streamed, gathered)
