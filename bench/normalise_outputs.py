"""Blank what changes from run to run (run ids, times, temp paths) in an outputs snapshot.

Used by bench/outputs_snapshot.sh so that `diff -r before after` shows only real changes.
"""

import re
import sys
from pathlib import Path

VOLATILE = [
    (re.compile(r'"(run_id|id|created|recorded_at|started|finished|timestamp|elapsed_s|seconds|wall_s)": '
                r'?"?[^,\n}]*'), r'"\1": "~"'),
    (re.compile(r"\b\d{8}T?-?\d{6}\d*Z?-[0-9a-f]{4,}\b"), "RUNID"),
    # a page's wall-clock seconds: <span ... data-key="seconds" ... data-value="1.358">1.36</span>
    (re.compile(r'(data-key="seconds"[^>]*data-value=")[^"]*(">)[^<]*'), r"\1~\2~"),
    (re.compile(r"/tmp/[A-Za-z0-9_./-]+"), "/tmp/~"),
    (re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?"), "TIME"),
]


def normalise(path: Path) -> None:
    if path.suffix in {".png", ".parquet"}:
        return
    text = path.read_text(errors="replace")
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    path.write_text(text)


if __name__ == "__main__":
    for p in sorted(Path(sys.argv[1]).rglob("*")):
        if p.is_file():
            normalise(p)
