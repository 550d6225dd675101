"""forecast.atomic: the target holds the old content or the new, never a part."""

from __future__ import annotations

import pytest

from forecast.atomic import write_atomic


def test_writes_bytes_and_writer_output(tmp_path):
    target = tmp_path / "a.bin"
    assert write_atomic(target, b"first") == target and target.read_bytes() == b"first"
    write_atomic(target, lambda handle: handle.write(b"second"))
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_failed_writer_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def half_then_fail(handle):
        handle.write(b"half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError, match="writer failed"):
        write_atomic(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_failed_rename_raises_oserror_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("forecast.atomic.os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"new", tmp_prefix=".a.bin.1234.")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_temporary_name_uses_the_prefix(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr("forecast.atomic.os.replace", lambda src, dst: seen.append(src))
    write_atomic(tmp_path / "x.parquet", b"data", tmp_prefix=".X.42.")
    name = seen[0].rsplit("/", 1)[-1]
    assert name.startswith(".X.42.") and name.endswith(".tmp")
