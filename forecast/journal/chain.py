"""The hash chain of a journal: each line carries the hash of the line before it.

A line is the JSON object {"seq", "prev", "entry", "hash"}: `seq` counts from 1, `prev` is
the previous line's `hash` ("0" x 64 for the first), `entry` is the signal document, and
`hash` is the sha256 of the canonical JSON of {"seq", "prev", "entry"}. Editing, deleting,
reordering or duplicating a line breaks the chain at the first line affected, which is what
`verify` names. The chain proves the lines were not changed after the fact only to someone
who kept (or published) a later hash: whoever holds the file can rewrite it whole.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def line_hash(seq: int, prev: str, entry: dict) -> str:
    return hashlib.sha256(canonical({"seq": seq, "prev": prev, "entry": entry}).encode()).hexdigest()


def make_line(seq: int, prev: str, entry: dict) -> str:
    """The JSON line of entry number `seq` following the line whose hash is `prev`."""
    return canonical({"seq": seq, "prev": prev, "entry": entry, "hash": line_hash(seq, prev, entry)})


@dataclass(frozen=True)
class Broken:
    """Where a chain first goes wrong: the 1-based line number, and why."""

    line: int
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.why}"


def read_chain(text: str) -> tuple[list[dict], Broken | None]:
    """The entries' lines of a journal file, in order, up to the first broken one, and where
    (None when the whole chain holds). A last line without its newline was cut short by a
    crash or an edit: it is broken too."""
    complete = text == "" or text.endswith("\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    good, broken = _walk(lines if complete else lines[:-1])
    if broken is None and not complete:
        broken = Broken(len(lines), "cut short (no end of line)")
    return good, broken


def _walk(lines: list[str]) -> tuple[list[dict], Broken | None]:
    good: list[dict] = []
    prev = GENESIS
    for number, text in enumerate(lines, start=1):
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            return good, Broken(number, "not a JSON line (edited or cut short)")
        if not isinstance(line, dict) or set(line) != {"seq", "prev", "entry", "hash"}:
            return good, Broken(number, "not a journal line (its fields are wrong)")
        if line["seq"] != number:
            return good, Broken(number, f"entry {line['seq']} where entry {number} belongs "
                                        "(a line was deleted, duplicated or moved)")
        if line["prev"] != prev:
            return good, Broken(number, f"entry {number} does not follow entry {number - 1} "
                                        "(a line before it was changed, deleted or moved)")
        if line_hash(line["seq"], line["prev"], line["entry"]) != line["hash"]:
            return good, Broken(number, f"entry {number} was changed after it was written")
        good.append(line)
        prev = line["hash"]
    return good, None
