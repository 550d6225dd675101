"""Concurrent writers: the store's "would this lose history?" check and its write are one step
under a per-ticker file lock, merges never lose each other's bars, and cache entries are
written and removed under a per-key lock. Real processes, started together at a barrier."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from filelock import FileLock

from forecast.cache import PredictionCache
from forecast.cli.app import main
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.errors import StoreError
from forecast.locking import TIMEOUT_ENV, LockTimeout

# Forked children start at once (spawned ones re-import everything); spawn where fork is unsafe.
SPAWN = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


def _cli_child(barrier, argv: list[str], result: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    barrier.wait(timeout=120)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    Path(result).write_text(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}))


def _merge_child(barrier, home: str, piece: str) -> None:
    bars = pd.read_parquet(piece)
    bars.attrs["ticker"] = "X"
    barrier.wait(timeout=120)
    Store(home).merge(bars, "X", source="test")


def _run_together(target, argsets: list[tuple]) -> None:
    barrier = SPAWN.Barrier(len(argsets))
    procs = [SPAWN.Process(target=target, args=(barrier, *args)) for args in argsets]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def _csv(frame: pd.DataFrame, path: Path) -> str:
    out = frame.rename(columns=str.title)
    out.index.name = "Date"
    out.to_csv(path)
    return str(path)


@pytest.mark.slow
def test_concurrent_imports_never_keep_the_short_file(tmp_path, isolated_home):
    """4 imports of a full history and 4 of its last 60 bars, started together into an empty
    store: exactly one finds it empty, every short one that comes after a full one is refused
    in one line, and the store ends with the full history."""
    full = random_walk_bars(800, seed=3)
    full_csv, short_csv = _csv(full, tmp_path / "full.csv"), _csv(full.tail(60), tmp_path / "short.csv")
    files = [full_csv, short_csv] * 4
    results = [tmp_path / f"r{i}.json" for i in range(len(files))]
    argsets = [(["data", "import", "X", f], str(r)) for f, r in zip(files, results, strict=True)]
    _run_together(_cli_child, argsets)
    done = [json.loads(r.read_text()) for r in results]

    stored = Store(isolated_home).read("X")
    assert len(stored) == 800 and stored.index[0] == full.index[0]
    fulls, shorts = done[0::2], done[1::2]
    assert all(d["code"] == 0 for d in fulls), fulls
    # The first writer found nothing stored; every later one saw what was there.
    first = [d for d in done if d["code"] == 0 and "replaced" not in d["out"]]
    assert len(first) == 1, done
    for d in shorts:
        if d["code"] != 0:
            assert d["err"].count("\n") == 1 and "would lose stored history" in d["err"], d
        else:  # only into an empty store or over the same short file, before any full one
            assert "replaced" not in d["out"] or "replaced 60 bars" in d["out"], d


@pytest.mark.slow
def test_concurrent_merges_keep_every_bar(tmp_path, isolated_home):
    """Six processes merge six disjoint spans into one stored ticker at once: all bars stay."""
    bars = random_walk_bars(220, seed=8)
    Store(isolated_home).write(bars.iloc[:100], "X", source="test")
    pieces = []
    for i in range(6):
        path = tmp_path / f"piece{i}.parquet"
        bars.iloc[100 + 20 * i: 120 + 20 * i].to_parquet(path)
        pieces.append((str(isolated_home), str(path)))
    _run_together(_merge_child, pieces)
    stored = Store(isolated_home).read("X")
    pd.testing.assert_index_equal(stored.index, bars.index, check_names=False)
    np.testing.assert_allclose(stored["close"].to_numpy(), bars["close"].to_numpy())


def test_a_held_ticker_lock_stops_an_import_with_one_line(tmp_path, capsys, monkeypatch):
    store = Store()
    store.write(random_walk_bars(30), "X")
    before = store.path("X").read_bytes()
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")
    with FileLock(store.lock_path("X")):  # another process's import, still running
        code = main(["data", "import", "X", _csv(random_walk_bars(50), tmp_path / "b.csv")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err
    assert "X in the store" in err and "another fcast process" in err and "0.2 s" in err
    assert store.path("X").read_bytes() == before


@pytest.mark.parametrize("value", ["nan", "-1", "abc"])
def test_a_bad_lock_timeout_is_one_line_before_any_write(tmp_path, capsys, monkeypatch, value):
    """Before: nan was "unexpected ValueError", -1 made filelock wait for ever on a held
    lock, and abc silently meant 60 s."""
    monkeypatch.setenv(TIMEOUT_ENV, value)
    code = main(["data", "import", "X", _csv(random_walk_bars(50), tmp_path / "b.csv")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err, err
    assert f"{TIMEOUT_ENV} must be a number of seconds >= 0, got {value!r}" in err
    assert not Store().has("X")


def test_a_read_only_lock_folder_is_a_store_error(monkeypatch):
    import filelock

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(filelock.FileLock, "acquire", denied)
    store = Store()
    with pytest.raises(StoreError, match=r"X: cannot write to the store directory .*Permission denied"):
        store.write(random_walk_bars(20), "X")


def test_offline_with_a_read_only_store_still_falls_back_to_the_bundle(monkeypatch, warnings):
    """The lock is taken after Yahoo's first download: an unreachable Yahoo (not the store
    that cannot be written) decides, and the bundled history serves."""
    import filelock

    from forecast.data.loader import load_bars

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(filelock.FileLock, "acquire", denied)
    bars = load_bars("KO")
    assert bars.attrs["source"] == "bundled" and len(bars) > 1000
    assert any("cannot reach Yahoo" in w or "unreachable" in w for w in warnings), warnings


def _frame(cache) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=5)
    if cache.universe:
        index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "ticker"])
        return pd.DataFrame({"prob_up": 0.6, "actual_up": 1.0, "realized": 0.01, "fold": 0}, index=index)
    return pd.DataFrame({"prob_up": 0.6, "actual_up": 1.0, "fold": 0}, index=pd.Index(dates, name="date"))


@pytest.fixture(params=[False, True], ids=["ticker", "universe"])
def cache(request, isolated_home):
    return PredictionCache(isolated_home, universe=request.param)


def test_cache_entries_are_written_under_their_lock(cache, monkeypatch):
    key = "ab" * 32
    cache.dir.mkdir(parents=True)
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")
    with FileLock(cache.dir / f".{key}.lock"), pytest.raises(LockTimeout, match="another fcast process"):
        cache.put(key, _frame(cache), {})
    assert not cache.path(key).exists()
    cache.put(key, _frame(cache), {})  # free again
    pd.testing.assert_frame_equal(cache.get(key), _frame(cache), check_freq=False)


def test_a_broken_entry_rewritten_meanwhile_is_kept(cache, monkeypatch):
    """A reader finds a damaged entry, and before it removes it another process writes a good
    one: the reader looks again under the entry's lock and keeps (and serves) the good one."""
    key = "cd" * 32
    cache.put(key, _frame(cache), {})
    real_read = type(cache)._read
    calls = []

    def read_then_rewritten(self, path, key_):
        calls.append(path)
        if len(calls) == 1:  # the damaged read; meanwhile a writer puts a good entry
            self.put(key_, _frame(cache), {})
            raise ValueError("damaged")
        return real_read(self, path, key_)

    monkeypatch.setattr(type(cache), "_read", read_then_rewritten)
    got = cache.get(key)
    assert got is not None and cache.path(key).is_file()
    pd.testing.assert_frame_equal(got, _frame(cache), check_freq=False)


def test_cache_clear_on_a_read_only_home_is_one_line(capsys, isolated_home, monkeypatch):
    cache = PredictionCache(isolated_home)
    cache.put("ef" * 32, _frame(cache), {})
    os.chmod(cache.dir, 0o555)
    try:
        if os.access(cache.dir, os.W_OK):  # root ignores the mode: fail as others would
            real_unlink = Path.unlink

            def denied(self, *args, **kwargs):
                if self.suffix == ".parquet":
                    raise PermissionError(13, "Permission denied")
                return real_unlink(self, *args, **kwargs)

            monkeypatch.setattr(Path, "unlink", denied)
        code = main(["cache", "clear", "--yes"])
    finally:
        os.chmod(cache.dir, 0o755)
    captured = capsys.readouterr()
    assert code == 1 and captured.err.count("\n") == 1 and "unexpected" not in captured.err
    assert captured.err.startswith(f"error: cannot delete the prediction cache entries in {cache.dir}")
    assert "Permission denied" in captured.err and cache.path("ef" * 32).is_file()


def test_cache_clear_without_an_answer_deletes_nothing(capsys, isolated_home, monkeypatch):
    cache = PredictionCache(isolated_home)
    cache.put("ab" * 32, _frame(cache), {})
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # </dev/null: EOF at the prompt
    code = main(["cache", "clear"])
    err = capsys.readouterr().err
    assert code == 1 and "interrupted" not in err
    assert "nothing deleted: no confirmation" in err and "--yes" in err
    assert cache.path("ab" * 32).is_file()


def test_cache_counts_agree_with_their_nouns(capsys, isolated_home):
    cache = PredictionCache(isolated_home)
    cache.put("ab" * 32, _frame(cache), {})
    assert main(["cache", "list"]) == 0
    assert "1 entry," in capsys.readouterr().out
    assert main(["cache", "clear", "--yes"]) == 0
    assert "deleted 1 entry (" in capsys.readouterr().out
