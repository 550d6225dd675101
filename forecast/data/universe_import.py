"""`import_universe`: many tickers' bars and a membership file into the store, as one step.

Every ticker goes through what `fcast data import` does to one file (column spelling,
intraday refusal, `validate_bars`, the suspicious-data checks); a ticker that fails is
refused with its reason and the others go on. The bars are written as one `StoreBatch`
and the universe's folder is renamed into place inside its commit: a failure or Ctrl-C
anywhere leaves the store and the universes as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from forecast.data import membership as ms
from forecast.data.universes import BUNDLED_NAMES, MANIFEST, MEMBERSHIP, UniverseStore, check_name
from forecast.errors import ConfigError, DataError, FcastError

# File names a folder of per-ticker files may use; the ticker is the name without them.
_SUFFIXES = (".csv", ".txt", ".parquet", ".pq", ".gz", ".bz2", ".xz", ".zip")
_TICKER_COLUMNS = ("ticker", "symbol")


@dataclass
class ImportSummary:
    """What an import did: one summary, not one screen per ticker."""

    name: str
    imported: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # ticker -> first, last, rows
    refused: dict[str, str] = field(default_factory=dict)  # ticker -> reason
    warnings: dict[str, list[str]] = field(default_factory=dict)  # kind -> tickers
    replaced: list[str] = field(default_factory=list)  # tickers whose stored bars were replaced
    membership: str = ms.BARS
    without_bars: list[str] = field(default_factory=list)  # named by the membership, no bars
    dropped_empty_rows: int = 0
    seconds: float = 0.0

    @property
    def bars(self) -> int:
        return sum(rows for _f, _l, rows in self.imported.values())


def _ticker_of(path: Path) -> str:
    name = path.name
    while name.lower().endswith(_SUFFIXES):
        name = name[: name.lower().rfind(".")]
    return name


def _sources(bars: Path) -> Iterator[tuple[str, Callable[[], tuple[pd.DataFrame, str | None]], str]]:
    """(given ticker, a reader of its raw rows and delimiter, source label) per ticker."""
    from forecast.data.files import _key, _read_raw

    if bars.is_dir():
        files = sorted(p for p in bars.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.name.lower().endswith(_SUFFIXES))
        if not files:
            raise DataError(f"{bars}: no CSV or Parquet files in the folder")
        for path in files:
            ticker = _ticker_of(path)

            def read(path=path, ticker=ticker):
                raw = _read_raw(path, ticker)
                return raw, raw.attrs.get("sep")

            yield ticker, read, f"file:{path.name}"
        return
    if not bars.exists():
        raise DataError(f"file not found: {bars}")
    raw = _read_raw(bars, bars.name)
    column = next((c for c in raw.columns if _key(c) in _TICKER_COLUMNS), None)
    if column is None:
        raise DataError(f"{bars.name}: no ticker column (a multi-ticker file needs one named ticker or "
                        "symbol; or give a folder of one file per ticker)")
    sep = raw.attrs.get("sep")
    names = raw[column].astype("string").str.strip()
    if names.isna().any() or (names == "").any():
        raise DataError(f"{bars.name}: row {int((names.isna() | (names == '')).argmax()) + 2} has no ticker")
    # One sort, then each ticker's rows are a slice: no per-ticker scan of the whole file.
    order = names.argsort(kind="stable")
    raw, names = raw.iloc[order].drop(columns=column), names.iloc[order].to_numpy()
    bounds = pd.Series(range(len(names))).groupby(names, sort=True).agg(["min", "max"])
    for ticker, (lo, hi) in bounds.iterrows():
        yield str(ticker), (lambda lo=lo, hi=hi: (raw.iloc[lo:hi + 1], sep)), f"file:{bars.name}"


def _prepare(ticker: str, read, source: str, aggregate_daily: bool):
    """(validated bars, [(kind, message)]) of one ticker, as `fcast data import` reads a file."""
    from forecast.data.checks import findings
    from forecast.data.files import bars_from_raw

    raw, sep = read()
    if raw.empty:
        raise DataError(f"{ticker}: no rows")
    frame = bars_from_raw(raw, ticker, source=source, sep=sep, aggregate_daily=aggregate_daily)
    return frame, findings(frame, ticker)


def _reason(exc: FcastError, ticker: str) -> str:
    from forecast.data.tickers import without_ticker

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return without_ticker(text, ticker)


def _shrinks(old, frame) -> bool:
    first, last = str(frame.index[0].date()), str(frame.index[-1].date())
    return len(frame) < old.rows or first > old.first or last < old.last


def import_universe(name: str, bars: str | Path, membership: str | Path | None = None, *, home=None,
                    replace: bool = False, aggregate_daily: bool = False,
                    progress: Callable[[str], None] | None = None) -> ImportSummary:
    """Import `bars` (a multi-ticker file with a ticker column, or a folder of per-ticker
    files) as universe `name`, with an optional membership file. Replaces a stored universe
    of the same name. A ticker whose import would lose stored history (fewer bars, a
    shorter span) is refused unless `replace`. Nothing is written unless something imports."""
    from forecast.data.store_batch import StoreBatch
    from forecast.data.tickers import normalize_ticker
    from forecast.locking import locked

    started = time.perf_counter()
    check_name(name)
    if name in BUNDLED_NAMES:
        raise ConfigError(f"{name} is a bundled universe; import under another name")
    kind, intervals = ms.read_membership(membership) if membership is not None else (ms.BARS, None)
    summary = ImportSummary(name=name, membership=kind)
    universes = UniverseStore(home)
    store = universes.store
    frames: dict[str, pd.DataFrame] = {}
    found: dict[str, list[tuple[str, str]]] = {}
    for given, read, source in _sources(Path(bars)):
        try:
            ticker = str(normalize_ticker(given))
        except FcastError as exc:
            summary.refused[given] = _reason(exc, given)
            continue
        if ticker in frames or ticker in summary.refused:
            summary.refused[ticker] = f"given twice ({source.removeprefix('file:')} and another)"
            frames.pop(ticker, None)
            continue
        if progress:
            progress(ticker)
        try:
            frames[ticker], found[ticker] = _prepare(ticker, read, source, aggregate_daily)
        except FcastError as exc:
            summary.refused[ticker] = _reason(exc, ticker)
    with ExitStack() as stack:
        try:
            stack.enter_context(locked(universes.lock_path(name), f"universe {name}"))
        except OSError as exc:
            raise _write_error(universes.dir, exc) from exc
        batch = stack.enter_context(StoreBatch(store, frames))
        for ticker, frame in list(frames.items()):  # under the locks: no write slips in between
            if not store.has(ticker):
                continue
            try:
                old = store.info(ticker)
            except FcastError:
                old = None  # a damaged file: replaced, as `data import --replace` would
            if old is not None and _shrinks(old, frame) and not replace:
                summary.refused[ticker] = (f"the store holds {old.rows} bars {old.first} to {old.last} "
                                           f"({old.source}); importing would lose history (add --replace)")
                del frames[ticker]
                continue
            summary.replaced.append(ticker)
        if not frames:
            raise DataError(f"nothing imported: all {len(summary.refused)} ticker(s) refused"
                            + _first_reasons(summary.refused))
        for ticker, frame in frames.items():
            info = batch.add(frame, ticker, source=frame.attrs["source"])
            summary.imported[ticker] = (info.first, info.last, info.rows)
            summary.dropped_empty_rows += int(frame.attrs.get("dropped_empty_rows", 0))
            for kind_found, _message in found[ticker]:
                summary.warnings.setdefault(kind_found, []).append(ticker)
        tickers = sorted(frames)
        if intervals is not None:
            summary.without_bars = sorted(set(intervals["ticker"]) - set(tickers))
        manifest = {
            "name": name, "tickers": tickers, "membership": kind,
            "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "bars_file": str(Path(bars).resolve()),
            "membership_file": str(Path(membership).resolve()) if membership is not None else None,
            "refused": summary.refused, "warnings": summary.warnings,
        }
        staged = _stage_universe(universes, name, manifest, intervals)
        stack.callback(shutil.rmtree, staged, True)
        batch.commit(after=lambda: _swap_in(staged, universes.path(name)))
    summary.seconds = time.perf_counter() - started
    return summary


def _first_reasons(refused: dict[str, str], shown: int = 3) -> str:
    items = [f"{t} ({r})" for t, r in list(refused.items())[:shown]]
    more = len(refused) - shown
    return ": " + "; ".join(items) + (f"; and {more} more" if more > 0 else "") if items else ""


def _write_error(folder: Path, exc: OSError) -> DataError:
    from forecast.errors import StoreError

    return StoreError(f"cannot write to the universes directory {folder}: {exc.strerror or exc}")


def _stage_universe(universes: UniverseStore, name: str, manifest: dict, intervals) -> Path:
    """The universe's folder, written complete under a hidden name beside its final place."""
    try:
        universes.dir.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=universes.dir))
        if intervals is not None:
            intervals.to_parquet(staged / MEMBERSHIP, index=False)
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    except OSError as exc:
        raise _write_error(universes.dir, exc) from exc
    return staged


def _swap_in(staged: Path, target: Path) -> None:
    """Rename the staged folder to `target`, the old one (if any) moved aside and deleted
    after; on failure the old one is back in place."""
    old = staged.with_name(staged.name.removesuffix(".tmp") + ".old")
    if target.exists():
        os.replace(target, old)
        try:
            os.replace(staged, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, target)
