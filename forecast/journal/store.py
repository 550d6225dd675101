"""Forward-test journals under ``<home>/journals/<name>/journal.jsonl``: append-only, chained.

`append` adds a signal document as the next line, holding the journal's lock, and writes
the whole file anew atomically (a journal is one line a day: small), so a crash or a full
disk leaves the journal as it was, never a half line. It refuses what would make the
record dishonest: an entry whose outcome is already in the data (no back-filling), one not
after the last entry, another configuration than the journal's, folds that are not pinned.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from forecast.errors import ConfigError, DataError
from forecast.journal.chain import GENESIS, Broken, make_line, read_chain

FILE = "journal.jsonl"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"invalid journal name {name!r}: use letters, digits, '_', '-' or '.' "
                          "(at most 64, starting with a letter or digit)")
    return name


def journals_dir(home=None) -> Path:
    from forecast.data.store import Store

    return Store(home).home / "journals"


def journal_path(name: str, home=None) -> Path:
    return journals_dir(home) / check_name(name) / FILE


def list_journals(home=None) -> list[str]:
    root = journals_dir(home)
    return sorted(p.parent.name for p in root.glob(f"*/{FILE}")) if root.is_dir() else []


def read(name: str, home=None, *, must_exist: bool = True) -> tuple[list[dict], Broken | None]:
    """The journal's lines (up to the first broken one) and where it breaks (None: intact)."""
    path = journal_path(name, home)
    if not path.is_file():
        if must_exist:
            raise ConfigError(f"no journal {name!r} in {journals_dir(home)} (see `fcast journal list`)")
        return [], None
    return read_chain(path.read_text(encoding="utf-8"))


def entries(name: str, home=None) -> list[dict]:
    """The signal documents of an intact journal (DataError naming the first bad line)."""
    lines, broken = read(name, home)
    if broken is not None:
        raise DataError(f"journal {name}: {broken}; `fcast journal verify {name}` says more")
    return [line["entry"] for line in lines]


def first_config(name: str, home=None) -> dict | None:
    """The configuration the journal follows (its first entry's), None for a new journal."""
    lines, _ = read(name, home, must_exist=False)
    return lines[0]["entry"]["config"] if lines else None


def append(name: str, doc: dict, *, home=None, known_after=None) -> int:
    """Add `doc` (a signal document) as the journal's next entry; returns its number.

    `known_after(ticker, day)`: whether the data already holds a bar of `ticker` after
    `day` (default: the local store's bars, else the bundled history's). Refused in one
    line: a journal whose chain is broken, a document that is not a signal, folds not
    pinned by `test_start`, another configuration than the first entry's, an as-of date not
    after the last entry's, and an outcome already known (no back-filling).
    """
    from forecast.atomic import write_atomic
    from forecast.locking import locked

    check_name(name)
    _check_document(doc)
    path = journal_path(name, home)
    known_after = known_after or _known_after(home)
    with locked(path.parent / f".{FILE}.lock", f"journal {name}"):
        lines, broken = read(name, home, must_exist=False)
        if broken is not None:
            raise DataError(f"journal {name}: {broken}; nothing was added (`fcast journal verify {name}`)")
        if lines:
            _check_follows(name, lines[-1]["entry"], doc)
        for row in doc["signals"]:
            if known_after(row["ticker"], row["as_of"]):
                raise ConfigError(f"journal {name}: {row['ticker']}'s bars after {row['as_of']} are already "
                                  "in the data: a journal takes calls before their outcome (no back-filling)")
        seq = len(lines) + 1
        prev = lines[-1]["hash"] if lines else GENESIS
        text = "".join(make_line(line["seq"], line["prev"], line["entry"]) + "\n" for line in lines)
        text += make_line(seq, prev, doc) + "\n"
        try:
            write_atomic(path, text.encode("utf-8"))
        except OSError as exc:
            raise DataError(f"journal {name}: not written ({exc.strerror or exc}); it is as it was") from None
    return seq


def _check_document(doc) -> None:
    if not isinstance(doc, dict) or doc.get("kind") != "signal" or not doc.get("signals"):
        raise ConfigError("not a signal document (make one with `fcast signal ... --json`)")
    config = doc.get("config") or {}
    if config.get("model_path") is None and not (config.get("walk_forward") or {}).get("test_start"):
        raise ConfigError("a journal needs fixed folds: give the signal --test-start (`fcast signal "
                          "--journal NAME` pins it for you)")


def _check_follows(name: str, last: dict, doc: dict) -> None:
    if doc.get("config_hash") != last.get("config_hash"):
        ours, theirs = str(last.get("config_hash"))[:12], str(doc.get("config_hash"))[:12]
        raise ConfigError(f"journal {name} follows configuration {ours}, this signal {theirs}: a journal "
                          "follows one configuration (start another)")
    if pd.Timestamp(doc["as_of"]) <= pd.Timestamp(last["as_of"]):
        raise ConfigError(f"journal {name}: its last entry is as of {last['as_of']}; this signal is as of "
                          f"{doc['as_of']} (entries go forward in time)")


def _known_after(home):
    """Whether bars after a day are already known: the store's, else the bundled history's."""
    from forecast.data.bundled import is_bundled, load_bundled
    from forecast.data.store import Store

    store = Store(home)

    def known(ticker: str, day) -> bool:
        if store.has(ticker):
            last = pd.Timestamp(store.info(ticker).last)
        elif is_bundled(ticker):
            last = pd.Timestamp(load_bundled(ticker).index[-1])
        else:
            return False
        return last > pd.Timestamp(day)

    return known
