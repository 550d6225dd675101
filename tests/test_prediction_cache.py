"""The walk-forward prediction cache: a repeated run trains nothing and gives the same
predictions; a damaged entry is reported and recomputed; the key follows every input."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

import forecast as fc
from forecast.cache import PredictionCache, prediction_key
from forecast.cli.app import main
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars

WF = {"test_days": 126, "retrain_every": 63}


@pytest.fixture
def bars():
    return random_walk_bars(900, seed=5, start="2012-01-02", ticker="SYN")




def test_second_run_trains_nothing_and_gives_identical_predictions(bars, folds):
    first = fc.predict(bars, "logreg", cache=True, **WF)
    trained = len(folds)
    assert trained == 2 and first.provenance["cache"] == "miss"
    second = fc.predict(bars, "logreg", cache=True, **WF)
    assert len(folds) == trained  # no fold trained
    assert second.provenance["cache"] == "hit"
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.frame.attrs == second.frame.attrs
    assert {k: v for k, v in first.provenance.items() if k != "cache"} == {
        k: v for k, v in second.provenance.items() if k != "cache"
    }
    # Without a cache (the API default) it trains again, and records no cache status.
    third = fc.predict(bars, "logreg", **WF)
    assert len(folds) == 2 * trained and "cache" not in third.provenance
    pd.testing.assert_frame_equal(first.frame, third.frame)


def test_backtest_result_is_the_same_from_the_cache(bars):
    cache = PredictionCache()
    a = fc.run_backtest(bars, model="logreg", walk_forward_kwargs=WF, cache=cache)
    assert cache.last == "miss"
    b = fc.run_backtest(bars, model="logreg", walk_forward_kwargs=WF, cache=cache)
    assert cache.last == "hit"
    assert a.to_dict() == b.to_dict() and "cache" not in a.to_dict()["walk_forward"]


def test_cli_backtest_uses_the_cache_unless_no_cache(bars, folds, capsys):
    Store().write(bars, "SYN", source="test")
    args = ["backtest", "SYN", "--model", "logreg", "--test-days", "126", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(folds) == 2
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert len(folds) == 2 and first == second  # metrics.json unchanged by a hit
    assert main([*args, "--no-cache"]) == 0
    assert len(folds) == 4 and json.loads(capsys.readouterr().out) == first


def test_cli_evaluate_uses_the_cache(bars, folds, capsys):
    Store().write(bars, "SYN", source="test")
    args = ["evaluate", "SYN", "--model", "logreg", "--test-days", "63", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    trained = len(folds)
    assert trained > 0
    assert main(args) == 0
    assert len(folds) == trained and json.loads(capsys.readouterr().out) == first


def _entry(cache: PredictionCache):
    (path,) = cache.dir.glob("*.parquet")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered", "missing_column", "renamed"])
def test_damaged_entry_warns_once_and_is_recomputed(bars, folds, warnings, damage):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cache = PredictionCache()
    first = fc.predict(bars, "logreg", cache=cache, **WF)
    path = _entry(cache)
    if damage == "garbage":
        path.write_bytes(b"not parquet at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage in ("tampered", "missing_column"):
        table = pq.read_table(path)
        frame = table.to_pandas()
        if damage == "tampered":
            frame["prob_up"] = 1.0 - frame["prob_up"]
        else:
            frame = frame.drop(columns="actual_up")
        new = pa.Table.from_pandas(frame, preserve_index=True)
        new = new.replace_schema_metadata({**(new.schema.metadata or {}),
                                           b"fcast-cache": table.schema.metadata[b"fcast-cache"]})
        pq.write_table(new, path)
    else:  # another entry's file under this key's name
        other = fc.predict(bars, "logreg", cache=cache, seed=1, **WF)
        assert other.provenance["cache"] == "miss"
        (path2,) = [p for p in cache.dir.glob("*.parquet") if p != path]
        path2.replace(path)
    trained = len(folds)
    again = fc.predict(bars, "logreg", cache=cache, **WF)
    assert again.provenance["cache"] == "miss" and len(folds) == trained + 2
    assert len(warnings) == 1 and "unusable" in warnings[0] and "recomputing" in warnings[0], warnings
    pd.testing.assert_frame_equal(first.frame, again.frame)
    # The recomputed entry replaced the damaged one.
    assert fc.predict(bars, "logreg", cache=cache, **WF).provenance["cache"] == "hit"
    assert len(warnings) == 1


def _key(bars, model="logreg", **kwargs):
    return prediction_key(bars, model, **{**WF, **kwargs})[0]


def test_key_follows_every_bar(bars):
    base = _key(bars)
    assert _key(bars.copy()) == base  # same values, same key
    for row in (0, len(bars) // 2, len(bars) - 1):
        changed = bars.copy()
        changed.iloc[row, changed.columns.get_loc("close")] *= 1.0001
        assert _key(changed) != base, row
    vol = bars.copy()
    vol.iloc[-1, vol.columns.get_loc("volume")] += 1
    assert _key(vol) != base
    # Another span (even one bar shorter) is another key: no reuse across spans.
    assert _key(bars.iloc[:-1]) != base and _key(bars.iloc[1:]) != base
    renamed = bars.copy()
    renamed.attrs["ticker"] = "OTHER"
    assert _key(renamed) != base


@pytest.mark.parametrize("change", [
    {"window": 10}, {"horizon": 2}, {"label": "close"}, {"threshold": 0.001}, {"symmetric": True},
    {"embargo": 3}, {"retrain_every": 42}, {"train_window": 400}, {"min_train": 300},
    {"test_days": 120}, {"seed": 1}, {"shuffle_train_labels": True},
    {"spec": {"rsi": False}}, {"model_params": {"C": 0.5}}, {"model_params": {"input_mode": "flatten"}},
])
def test_key_follows_every_setting(bars, change):
    assert _key(bars, **change) != _key(bars)


def test_key_ignores_what_does_not_change_predictions(bars):
    base = _key(bars)
    assert _key(bars, embargo=1) == base  # the default embargo is the horizon
    assert _key(bars, model_params={"C": 1.0}) == base  # the default value, given
    assert _key(bars, progress=lambda k, n: None, callbacks=[]) == base
    assert _key(bars, spec=fc.FeatureSpec.default()) == base  # the default spec, given


def test_key_follows_model_and_version(bars, monkeypatch):
    import forecast.cache as cache_mod

    base = _key(bars)
    assert _key(bars, model="gbm") != base
    monkeypatch.setattr(cache_mod, "fcast_version", lambda: "99.0")
    assert _key(bars) != base


def test_changed_seed_misses(bars, folds):
    cache = PredictionCache()
    fc.predict(bars, "logreg", cache=cache, **WF)
    assert fc.predict(bars, "logreg", cache=cache, seed=7, **WF).provenance["cache"] == "miss"
    assert fc.predict(bars, "logreg", cache=cache, **WF).provenance["cache"] == "hit"


MODEL_FILE = '''
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class LastRow(ClassifierMixin, BaseEstimator):
    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(X[:, -1, :], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X[:, -1, :]){suffix}
'''


def test_key_follows_a_user_model_file(bars, tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(MODEL_FILE.format(suffix=""))
    ref = f"{path}:LastRow"
    base = _key(bars, model=ref)
    assert _key(bars, model=ref) == base
    path.write_text(MODEL_FILE.format(suffix=" * 1.0"))
    assert _key(bars, model=ref) != base


# Found by an adversarial review: each of these once gave two different runs one key.


def test_key_follows_the_keras_backend_device_and_library_versions(bars, monkeypatch):
    import forecast.cache as cache_mod
    from forecast.models import backend, device

    base = _key(bars, model="mlp")
    monkeypatch.setattr(backend, "backend_name", lambda: "jax")
    assert _key(bars, model="mlp") != base
    monkeypatch.undo()
    monkeypatch.setattr(device, "visible_gpus", lambda: ("gpu:0",))
    assert _key(bars, model="mlp") != base  # "auto" now resolves to the GPU
    monkeypatch.undo()
    monkeypatch.setattr(cache_mod, "fcast_code_digest", lambda: "edited")
    assert _key(bars, model="mlp") != base  # fcast's code changed, its version did not
    monkeypatch.undo()
    monkeypatch.setattr(cache_mod.importlib.metadata, "version", lambda name: "0.0.1")
    assert _key(bars, model="mlp") != base


def test_a_callback_that_may_change_training_is_not_cached(bars, folds, caplog):
    class StopEarly:  # not marked as a progress observer
        pass

    class Progress:
        fcast_observer = True

    cache = PredictionCache()
    assert _key(bars, callbacks=[Progress()]) == _key(bars)
    with caplog.at_level(logging.WARNING, logger="fcast"):
        for _ in range(2):
            out = fc.predict(bars, "logreg", cache=cache, callbacks=[StopEarly()], **WF)
            assert out.provenance.get("cache") is None
    assert "not cached" in caplog.text and not cache.entries()


def test_key_follows_the_code_of_a_registered_or_module_feature(bars, tmp_path, monkeypatch):
    import importlib
    import sys

    source = (
        "from forecast.features import Feature\n\n"
        "def _mom(bars, spec):\n    return bars['close'].pct_change({k})\n\n"
        "mom = Feature(name='mom', columns=('mom',), compute=_mom, warmup=10)\n"
    )
    (tmp_path / "ufeat_mod.py").write_text(source.format(k=3))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = {"extra": ["ufeat_mod:mom"]}
    base = _key(bars, spec=spec)
    (tmp_path / "ufeat_mod.py").write_text(source.format(k=10))
    sys.modules.pop("ufeat_mod", None)
    importlib.invalidate_caches()
    assert _key(bars, spec=spec) != base


def test_code_without_a_file_or_a_truncated_parameter_is_not_keyed(bars):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from forecast.cache import Uncacheable

    class Notebook(LogisticRegression):  # defined here: its module has a file, so keyed
        pass

    Notebook.__module__ = "__fcast_no_such_module__"  # as a class typed at a prompt
    with pytest.raises(Uncacheable, match="no source file"):
        prediction_key(bars, Notebook(), **WF)
    w = np.zeros(5000)
    bumped = w.copy()
    bumped[2500] = 1000.0
    from forecast.cache import _normal

    assert _normal({"w": w}) != _normal({"w": bumped})  # arrays by content, not by repr
    with pytest.raises(Uncacheable, match="cannot be keyed"):
        _normal({"x": object()})


def test_an_edited_provenance_in_the_footer_is_a_damaged_entry(bars, folds, caplog):
    import pyarrow.parquet as pq

    cache = PredictionCache()
    fc.predict(bars, "logreg", cache=cache, **WF)
    path = next(cache.dir.glob("*.parquet"))
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    doc = json.loads(meta[b"fcast-cache"])
    doc["attrs"]["label"] = "close"  # the values hash left as it was
    meta[b"fcast-cache"] = json.dumps(doc).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    with caplog.at_level(logging.WARNING, logger="fcast"):
        again = fc.predict(bars, "logreg", cache=cache, **WF)
    assert again.provenance["cache"] == "miss" and "hash mismatch" in caplog.text


def test_cache_commands_list_and_clear(bars, capsys):
    fc.predict(bars, "logreg", cache=True, **WF)
    other = bars.copy()
    other.attrs["ticker"] = "OTHER"
    fc.predict(other, "logreg", cache=True, **WF)
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert "SYN" in out and "OTHER" in out and "logreg" in out and "2 entries" in out
    assert main(["cache", "clear", "--ticker", "OTHER", "--yes"]) == 0
    assert "deleted 1 entry (" in capsys.readouterr().out
    assert [e["ticker"] for e in PredictionCache().entries()] == ["SYN"]
    assert main(["cache", "clear"]) == 1  # no terminal to confirm on: nothing deleted
    assert len(PredictionCache().entries()) == 1
    assert main(["cache", "clear", "--yes"]) == 0
    assert PredictionCache().entries() == []
    assert main(["cache", "list"]) == 0 and "empty" in capsys.readouterr().out
