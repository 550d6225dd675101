"""Universes as stored objects: a name, the tickers whose bars it holds, and who is a member when.

A stored universe lives in `<home>/universes/<NAME>/`: `universe.json` (its tickers, the kind
of membership, what the import refused) and, for a membership file, `membership.parquet`
(intervals `ticker, start, end`, see forecast.data.membership). Its bars are the store's
ordinary per-ticker files, so `fcast data show TICKER` and every loader see them.

Without a membership file every ticker is a member from its first stored bar to its last.
The bundled universes (`dow30`, `bundled`) are universes of that kind, read from the bundled
history without any import.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast.data import membership as ms
from forecast.errors import ConfigError, DataError, StoreError

BUNDLED_NAMES = ("dow30", "bundled")
ETFS = ("DIA", "IWM", "QQQ", "SPY")  # in the bundle beside the Dow 30
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MANIFEST = "universe.json"
MEMBERSHIP = "membership.parquet"


def check_name(name: str) -> str:
    """A universe name fit to be a folder name; ConfigError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"invalid universe name {name!r}: use letters, digits, '_', '-' or '.' "
                          "(at most 64, starting with a letter or digit)")
    return name


def bundled_universe(name: str) -> list[str]:
    """The tickers of a bundled universe: ``dow30`` (the 30 Dow members of November 2017)
    or ``bundled`` (those and four ETFs)."""
    from forecast.data.bundled import read_bundle

    converted = sorted(read_bundle()["ticker"].unique())
    if name == "dow30":
        return [t for t in converted if t not in ETFS]
    if name == "bundled":
        return converted
    raise ConfigError(f"unknown universe {name!r}: use dow30 or bundled")


@dataclass
class StoredUniverse:
    """One universe: its tickers with bars, its membership, where its bars come from."""

    name: str
    tickers: list[str]
    kind: str  # membership.YEARS, INTERVALS or BARS
    source: str  # "store" or "bundled"
    meta: dict = field(default_factory=dict)
    home: Path | None = None
    _intervals: pd.DataFrame | None = None
    _spans: pd.DataFrame | None = None

    def spans(self) -> pd.DataFrame:
        """Per ticker with bars: first, last (Timestamps) and rows; read from the store's file
        footers (or the bundle), never from the bars themselves."""
        if self._spans is None:
            self._spans = _bundled_spans(self.tickers) if self.source == "bundled" else _store_spans(
                self.home, self.tickers)
        return self._spans

    @property
    def intervals(self) -> pd.DataFrame:
        """Membership as intervals `ticker, start, end` (end inclusive)."""
        if self._intervals is None:
            spans = self.spans()
            self._intervals = pd.DataFrame({"ticker": spans.index, "start": spans["first"].to_numpy(),
                                            "end": spans["last"].to_numpy()})
        return self._intervals

    def members(self, date) -> list[str]:
        """The members on `date` (sorted), as the membership says: for a file, including
        members the import found no usable bars for (`fcast universe check` lists them)."""
        return ms.members_on(self.intervals, date)

    def is_member(self, ticker: str, date) -> bool:
        from forecast.data.tickers import normalize_ticker

        return str(normalize_ticker(ticker)) in self.members(date)

    def mask(self, dates, tickers=None) -> pd.DataFrame:
        """Booleans per date (rows) and ticker (columns, default: the tickers with bars)."""
        return ms.member_mask(self.intervals, dates, self.tickers if tickers is None else tickers)

    def years(self) -> list[int]:
        return ms.years_of(self.intervals)

    def members_in_year(self, year: int) -> list[str]:
        return ms.members_in_year(self.intervals, year)

    def without_bars(self) -> list[str]:
        """Tickers the membership names that have no bars in this universe."""
        return sorted(set(self.intervals["ticker"]) - set(self.tickers))

    def load(self, tickers=None, *, start=None, end=None, workers: int = 4) -> dict[str, pd.DataFrame]:
        """Validated bars of `tickers` (default: all with bars), in ticker order, from the
        store (read in threads: Parquet reading releases the GIL) or the bundle."""
        from concurrent.futures import ThreadPoolExecutor

        from forecast.data.frame import span

        wanted = [t for t in (self.tickers if tickers is None else tickers) if t in set(self.tickers)]
        if self.source == "bundled":
            from forecast.data.bundled import load_bundled

            read = load_bundled
        else:
            from forecast.data.store import Store

            read = Store(self.home).read
        with ThreadPoolExecutor(max(1, workers)) as pool:
            frames = list(pool.map(read, wanted))
        if start is None and end is None:
            return dict(zip(wanted, frames, strict=True))
        return {t: span(f, start, end) for t, f in zip(wanted, frames, strict=True)}


def year_coverage(universe: StoredUniverse) -> pd.DataFrame:
    """Per calendar year: members (some day of the year), members with stored bars in the
    year, and coverage: the share of member-days (calendar days of the membership intervals
    in the year, up to the universe's last stored bar) that fall within the member's stored
    span."""
    spans = universe.spans()
    iv = universe.intervals.join(spans[["first", "last"]], on="ticker")
    end_of_data = spans["last"].max() if len(spans) else pd.Timestamp.max
    rows = []
    for year in universe.years():
        lo, hi = pd.Timestamp(f"{year}-01-01"), min(pd.Timestamp(f"{year}-12-31"), end_of_data)
        start, end = iv["start"].clip(lower=lo), iv["end"].clip(upper=hi)
        days = (end - start).dt.days + 1
        inside = days > 0
        if not inside.any():
            continue
        span_start = start.where(start > iv["first"], iv["first"])
        span_end = end.where(end < iv["last"], iv["last"])
        covered = ((span_end - span_start).dt.days + 1).clip(lower=0).fillna(0)
        members = set(iv.loc[inside, "ticker"])
        with_bars = set(iv.loc[inside & (covered > 0), "ticker"])
        rows.append((year, len(members), len(with_bars), covered[inside].sum() / days[inside].sum()))
    return pd.DataFrame(rows, columns=["year", "members", "with_bars", "coverage"]).set_index("year")


def year_members(universe: StoredUniverse, year: int) -> pd.DataFrame:
    """The members of calendar year `year`: their membership within it and their stored span."""
    lo, hi = pd.Timestamp(f"{year}-01-01"), pd.Timestamp(f"{year}-12-31")
    iv = universe.intervals
    iv = iv[(iv["start"] <= hi) & (iv["end"] >= lo)]
    member = iv.groupby("ticker").agg(member_from=("start", "min"), member_to=("end", "max"))
    member["member_from"] = member["member_from"].clip(lower=lo)
    member["member_to"] = member["member_to"].clip(upper=hi)
    return member.join(universe.spans(), how="left")


def audit(universe: StoredUniverse) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What validation finds in a universe's bars: ({kind: [message, ...]}, {ticker: problem})
    where kinds are forecast.data.checks.KINDS and the problems are unreadable bars and
    members without any bars."""
    from forecast.data.checks import findings

    found: dict[str, list[str]] = {}
    problems = {t: "a member without bars in this universe" for t in universe.without_bars()}
    spans = universe.spans()
    readable = []
    for ticker in universe.tickers:
        if ticker in spans.index:
            readable.append(ticker)
        else:
            problems[ticker] = "its bars are no longer in the store (or unreadable)"
    try:
        bars = universe.load(readable)
    except (StoreError, DataError) as exc:  # one damaged file: name it, check the rest
        bars, problems = _load_each(universe, readable, problems, exc)
    for ticker, frame in bars.items():
        for kind, message in findings(frame, ticker):
            found.setdefault(kind, []).append(message)
    return found, dict(sorted(problems.items()))


def _load_each(universe, tickers, problems, _first) -> tuple[dict, dict]:
    bars = {}
    for ticker in tickers:
        try:
            bars.update(universe.load([ticker], workers=1))
        except (StoreError, DataError) as exc:
            problems[ticker] = str(exc).splitlines()[0]
    return bars, problems


def _store_spans(home, tickers) -> pd.DataFrame:
    from forecast.data.store import Store

    store = Store(home)
    rows = {}
    for ticker in tickers:
        try:
            info = store.info(ticker)
        except StoreError:
            continue  # removed or damaged since the import: `check` reports it
        rows[ticker] = (pd.Timestamp(info.first), pd.Timestamp(info.last), info.rows)
    return _spans_frame(rows)


def _bundled_spans(tickers) -> pd.DataFrame:
    from forecast.data.bundled import read_bundle

    table = read_bundle()
    table = table[table["ticker"].isin(tickers)]
    agg = table.groupby("ticker", observed=True)["date"].agg(["min", "max", "size"])
    return _spans_frame({t: (r["min"], r["max"], int(r["size"])) for t, r in agg.iterrows()})


def _spans_frame(rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["first", "last", "rows"])
    frame.index.name = "ticker"
    return frame.astype({"first": "datetime64[ns]", "last": "datetime64[ns]", "rows": "int64"}).sort_index()


class UniverseStore:
    """The stored universes under `<home>/universes`, beside the bars they use."""

    def __init__(self, home: str | Path | None = None):
        from forecast.data.store import Store

        self.store = Store(home)
        self.home = self.store.home
        self.dir = self.home / "universes"

    def path(self, name: str) -> Path:
        return self.dir / check_name(name)

    def lock_path(self, name: str) -> Path:
        return self.dir / f".{check_name(name)}.lock"

    def names(self) -> list[str]:
        """Stored universe names, sorted (the bundled ones are not among them)."""
        if not self.dir.is_dir():
            return []
        return sorted(p.name for p in self.dir.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file())

    def has(self, name: str) -> bool:
        return name in BUNDLED_NAMES or (self.path(name) / MANIFEST).is_file()

    def open(self, name: str) -> StoredUniverse:
        """A stored or bundled universe by name; ConfigError naming the known ones if unknown."""
        if name in BUNDLED_NAMES:
            return StoredUniverse(name=name, tickers=bundled_universe(name), kind=ms.BARS, source="bundled",
                                  meta={"note": "bundled history, survivorship-biased (2017 members)"})
        folder = self.path(name)
        try:
            meta = json.loads((folder / MANIFEST).read_text())
        except FileNotFoundError:
            known = ", ".join([*BUNDLED_NAMES, *self.names()])
            raise ConfigError(f"unknown universe {name!r} (known: {known}); "
                              "import one with `fcast universe import`") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"universe {name}: {folder / MANIFEST} is unreadable ({exc})") from exc
        intervals = None
        if meta["membership"] != ms.BARS:
            try:
                intervals = pd.read_parquet(folder / MEMBERSHIP)
            except Exception as exc:
                raise StoreError(f"universe {name}: {folder / MEMBERSHIP} is unreadable") from exc
        return StoredUniverse(name=name, tickers=list(meta["tickers"]), kind=meta["membership"],
                              source="store", meta=meta, home=self.home, _intervals=intervals)

    def list(self) -> list[StoredUniverse]:
        """The bundled universes, then every stored one."""
        return [self.open(n) for n in (*BUNDLED_NAMES, *self.names())]


def open_universe(name: str, home=None) -> StoredUniverse:
    """`UniverseStore(home).open(name)`."""
    return UniverseStore(home).open(name)
