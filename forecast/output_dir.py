"""`--output DIR` folders that are complete or absent.

A command writes its files into a temporary folder beside DIR (``.DIR.fcast-tmp-PID-xxxx``)
and only when everything it promised is there does `output_folder` put it in place: a
rename when DIR does not exist, else (``--force``) fcast's old files in DIR are replaced
by the new ones while files fcast did not write (a user's notes.txt) stay. On any failure,
Ctrl-C included, the temporary folder is removed and DIR is left as it was, so rerunning
the same command starts clean (and an experiment resumes from the prediction cache).

What fcast wrote is listed in DIR's manifest (`MANIFEST`); a folder written before
manifests existed counts the files named as fcast names its outputs (`OWN_FILES`).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from forecast.errors import ConfigError, FcastError, StoreError
from forecast.locking import process_alive

MANIFEST = ".fcast-output"  # JSON: {"files": [relative paths fcast wrote]}
# The names of the files fcast writes into an output folder (and its runs/ or ticker subfolders).
OWN_FILES = frozenset({
    "metrics.json", "equity.csv", "trades.csv", "predictions.csv", "ledger.csv", "equity.png",
    "report.html", "weights.csv", "ic.csv", "legs.csv", "experiment.json", "results.csv", "tune.json",
    "trials.csv",
})
_TMP, _OLD = "tmp", "old"  # the two kinds of sibling folder, in their names


def check_output(target: Path, force: bool) -> None:
    """Before any work: refuse a non-empty `target` unless `force`, and prove that a
    temporary folder can be made beside it (and files written into it, when it exists)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--output {target} is a file, not a folder")
    if not force and target.is_dir() and any(target.iterdir()):
        raise ConfigError(f"--output {target} is not empty; give --force to write into it")
    try:
        _where(target)[0].mkdir(parents=True, exist_ok=True)
        _sibling(target, _TMP).rmdir()
        if target.is_dir():
            with tempfile.NamedTemporaryFile(dir=target, prefix=".fcast-write-check-"):
                pass
    except OSError as exc:
        raise ConfigError(f"cannot write to --output {target}: {exc.strerror or exc}") from None


@contextmanager
def output_folder(target: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; when the block ends without an
    exception, put its files in place as `target` (see the module's doc).

    Any exception removes the temporary folder and leaves `target` untouched; a failed
    write (an OSError such as a full disk, or a StoreError) reaches the caller as one
    StoreError line naming `target` and what failed."""
    target = Path(target)
    parent, name = _where(target)
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    box = _sibling(target, _TMP)
    tmp = box / name  # named as DIR, so what pages say about their folder stays true
    try:
        tmp.mkdir()
        yield tmp
        _write_manifest(tmp)
        _commit(tmp, target, force)
    except BaseException as exc:
        shutil.rmtree(box, ignore_errors=True)
        if isinstance(exc, OSError | StoreError):  # a write failed; other errors say their own thing
            detail = str(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc)
            where = getattr(exc, "filename", None)
            if where:
                detail += f" ({_shown(Path(where), tmp)})"
            raise StoreError(f"--output {target} not written (left as it was): "
                             f"{detail.replace(str(tmp), str(target))}") from None
        raise
    shutil.rmtree(box, ignore_errors=True)


def write_files(folder: Path, writers: dict[str, Callable[[Path], object]]) -> Path:
    """Create `folder` and call each writer with its file's path, in order; an OSError
    becomes a StoreError naming the file that could not be written."""
    folder = Path(folder)
    path = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, write in writers.items():
            path = folder / name
            write(path)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
    return folder


def write_page(folder: Path) -> Path:
    """report.html for the run just written to `folder`: a promised file, so a page that
    cannot be built fails the output (one line) instead of being a warning."""
    from forecast.report import write_report

    try:
        return write_report(folder)
    except FcastError as exc:
        raise StoreError(f"cannot build {Path(folder) / 'report.html'}: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot write {Path(folder) / 'report.html'}: {exc.strerror or exc}") from None
    except Exception as exc:  # a bug while building the page: say which page and why
        page = Path(folder) / "report.html"
        raise StoreError(f"cannot build {page}: {type(exc).__name__}: {exc}") from None


def owned_files(folder: Path) -> list[str]:
    """The files (relative paths) in `folder` that fcast wrote: its manifest's list, or,
    for a folder without one, every file named as an fcast output."""
    folder = Path(folder)
    listed = _read_manifest(folder)
    if listed is None:
        listed = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.name in OWN_FILES and (p.is_file() or p.is_symlink())]
    return sorted({*listed, MANIFEST})


# --- inside ----------------------------------------------------------------------------------


def _where(target: Path) -> tuple[Path, str]:
    """(parent folder, name) of `target`, ".." and "." resolved (`--output .` has a name too)."""
    full = Path(os.path.abspath(target))
    return full.parent, full.name


def _sibling(target: Path, kind: str) -> Path:
    """A new, empty folder beside `target` named for it, this process and `kind` (a
    killed process's ones are recognised by their pid and removed by the next run)."""
    parent, name = _where(target)
    return Path(tempfile.mkdtemp(prefix=f".{name}.fcast-{kind}-{os.getpid()}-", dir=parent))


def _remove_stale(target: Path) -> None:
    """Remove the sibling folders a killed fcast process left for `target` (its pid is gone)."""
    parent, name = _where(target)
    for kind in (_TMP, _OLD):
        for folder in parent.glob(f".{glob.escape(name)}.fcast-{kind}-*-*"):
            pid = folder.name[len(f".{name}.fcast-{kind}-"):].split("-")[0]
            if pid.isdigit() and not process_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)


def _shown(path: Path, tmp: Path) -> str:
    try:
        return path.relative_to(tmp).as_posix()
    except ValueError:
        return str(path)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() or p.is_symlink())


def _write_manifest(folder: Path) -> None:
    doc = {"files": [f for f in _files(folder) if f != MANIFEST]}
    (folder / MANIFEST).write_text(json.dumps(doc, indent=1) + "\n")


def _read_manifest(folder: Path) -> list[str] | None:
    """The manifest's paths that stay inside `folder` (None: no readable manifest)."""
    try:
        doc = json.loads((folder / MANIFEST).read_text())
        files = doc["files"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(files, list):
        return None
    safe = []
    for name in files:
        # The manifest is a file anyone could edit: never a path out of the folder.
        if isinstance(name, str) and name and not PurePosixPath(name).is_absolute() \
                and ".." not in PurePosixPath(name).parts:
            safe.append(PurePosixPath(name).as_posix())
    return safe


def _commit(tmp: Path, target: Path, force: bool) -> None:
    if not target.exists() and not target.is_symlink():
        os.rename(tmp, target)  # atomic: DIR appears complete
        return
    if not target.is_dir():
        raise StoreError(f"--output {target} is no longer a folder")
    if not force and any(target.iterdir()):
        raise StoreError(f"--output {target} was filled by someone else while this ran")
    _replace_into(tmp, target)


def _replace_into(tmp: Path, target: Path) -> None:
    """Move fcast's old files out of `target` and the new ones in, keeping foreign files;
    undo every step if one fails, so `target` is never half old, half new."""
    trash = _sibling(target, _OLD)
    done: list[tuple[Path, Path | None]] = []  # (src, dst) renames and (folder, None) mkdirs, in order
    emptied: set[Path] = set()  # folders that held old files: removed if left empty

    def move(src: Path, dst: Path) -> None:
        os.rename(src, dst)
        done.append((src, dst))

    def set_aside(path: Path) -> None:
        move(path, trash / f"{len(done):06d}")

    try:
        for rel in owned_files(target):
            path = target / rel
            if any((target / p).is_symlink() for p in PurePosixPath(rel).parents[:-1]):
                continue  # never follow a link out of the folder
            if path.is_symlink() or path.is_file():
                set_aside(path)
                emptied.update(p for p in path.parents if p != target and target in p.parents)
        for rel in _files(tmp):
            dst = target / rel
            for parent in reversed(PurePosixPath(rel).parents[:-1]):
                folder = target / parent
                if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                    set_aside(folder)  # a foreign file where fcast needs a folder
                if not folder.exists():
                    folder.mkdir()
                    done.append((folder, None))
            if dst.is_symlink() or dst.exists():
                set_aside(dst)  # a foreign file of the same name: --force replaces it
            move(tmp / rel, dst)
    except BaseException:
        if _undo(done):
            shutil.rmtree(trash, ignore_errors=True)
        else:  # keep what could not be put back, under a name no later run removes
            kept = trash.with_name(trash.name.replace(f".fcast-{_OLD}-", ".fcast-kept-"))
            trash.rename(kept)
            raise StoreError(f"--output {target}: a failed replace could not put every old file back; "
                             f"the rest are in {kept}") from None
        raise
    shutil.rmtree(trash, ignore_errors=True)
    for folder in sorted(emptied, key=lambda p: -len(p.parts)):  # deepest first
        try:
            folder.rmdir()  # only when empty: a user's file in it keeps it
        except OSError:
            pass


def _undo(done: list[tuple[Path, Path | None]]) -> bool:
    """Reverse `_replace_into`'s steps, last first; whether every one was reversed."""
    ok = True
    for src, dst in reversed(done):
        try:
            if dst is None:
                src.rmdir()
            else:
                os.rename(dst, src)
        except OSError:
            ok = False
    return ok
