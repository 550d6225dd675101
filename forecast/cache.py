"""Cached walk-forward predictions under ``<home>/cache/predictions`` (one ticker) and
``<home>/cache/portfolio`` (a universe).

A walk-forward run is deterministic given its inputs, so its predictions frame is kept
under a key hashing everything that shapes it (`prediction_key`). For one ticker: the
bars' fingerprint (index and every value, so any change of span or of one bar misses),
the ticker, the feature spec, the checked walk-forward settings, the seed. For a
universe: every ticker's name and bars fingerprint in universe order (a changed bar, a
day added or removed, a ticker added, dropped or moved misses), the universe calendar,
the target, the pooled flag, the seed, the feature spec, the checked schedule, and a
stored universe's point-in-time membership on that calendar. For both:
the code of user features, the model's class and full parameters (and the source file of
a user's model), the Keras backend and device, fcast's version and a hash of its sources,
and the versions of the libraries that compute the numbers. Progress callbacks are not
part of it; a run with any other callback, or with user code or a parameter the key
cannot pin down, runs uncached.

Each entry is one Parquet file whose footer holds its key, key fields, the frame's
`attrs`, a hash of its values and when it was made: one atomic rename writes it, and an
entry that cannot be read, whose footer disagrees with its name or its values, or that
lacks a column is reported in one warning line on the ``fcast`` logger and recomputed.
Writes and removals of an entry hold its lock (``.<key>.lock`` beside it), so concurrent
processes never remove an entry another has just written.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.atomic import write_atomic
from forecast.errors import StoreError
from forecast.formatting import count
from forecast.locking import LockTimeout, locked
from forecast.models.ensemble_name import is_ensemble
from forecast.provenance import bars_fingerprint, fcast_code_digest, fcast_version, file_digest

_META_KEY = b"fcast-cache"
COLUMNS = ("prob_up", "actual_up", "fold")
# A return or rank target's frames (`walk_forward`, `portfolio_walk_forward`): a score, not P(up).
SCORE_COLUMNS = ("score", "actual_up", "realized", "fold")
# walk_forward arguments that do not change the predictions.
_NOT_IN_KEY = ("progress", "callbacks")
# The same for a universe's walk-forward (`forecast.evaluate.pooled.portfolio_walk_forward`).
_UNIVERSE_META_KEY = b"fcast-portfolio-cache"
UNIVERSE_COLUMNS = ("prob_up", "actual_up", "realized", "fold")
UNIVERSE_INDEX = ("date", "ticker")
_UNIVERSE_NOT_IN_KEY = ("progress", "executor")  # where it runs: same frame

log = logging.getLogger("fcast")


class Uncacheable(Exception):
    """A run whose predictions the key cannot pin down: it runs, uncached."""


def _library_versions(keras_model: bool) -> dict:
    names = ["numpy", "pandas", "scikit-learn", "scipy"]
    if keras_model:
        from forecast.models.backend import backend_name

        names += ["keras", {"jax": "jaxlib"}.get(backend_name(), backend_name())]
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _code_digest(obj: Any) -> str | None:
    """The hash of the file defining a class or function outside fcast and scikit-learn
    (a user's model or feature), None for those two (their code and versions are in the
    key). Code without a file (defined in a notebook or at the prompt) is `Uncacheable`.
    Modules the user's file imports are not followed: edit those, and use --no-cache.
    """
    module = getattr(obj, "__module__", None) or ""
    if module == "forecast" or module.startswith(("forecast.", "sklearn.")):
        return None
    file = getattr(sys.modules.get(module), "__file__", None)
    digest = file_digest(file) if file else None
    if digest is None:
        raise Uncacheable(f"{getattr(obj, '__qualname__', obj)!r} has no source file to hash")
    return digest


def _feature_digests(spec) -> dict:
    """Hashes of the code of every non-built-in feature the spec uses (extra features,
    whether named by file, module or registered name)."""
    out = {}
    for feature in getattr(spec, "_extra_features", ()):
        for part in (feature.compute, feature.fit, feature.columns, feature.warmup):
            if callable(part):
                digest = _code_digest(part)
                if digest is not None:
                    out[feature.name] = digest
    return out


def _param_value(value: Any) -> Any:
    """JSON form of a parameter value that no two different values share."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        return {"ndarray": hashlib.sha256(data.tobytes()).hexdigest(), "shape": list(data.shape),
                "dtype": str(data.dtype)}
    text = repr(value)
    if "..." in text or " at 0x" in text:  # a truncated or identity repr names no value
        raise Uncacheable(f"parameter value {text[:60]} cannot be keyed")
    return text


def _normal(value: Any) -> Any:
    """JSON-normal form of parameter values."""
    return json.loads(json.dumps(value, sort_keys=True, default=_param_value))


def _observers_only(callbacks) -> None:
    """Progress callbacks do not change training; any other callback might (one that stops
    training early, say), so its run is not cached. fcast's own mark themselves."""
    if any(not getattr(cb, "fcast_observer", False) for cb in callbacks or ()):
        raise Uncacheable("callbacks other than progress reporters may change training")


def prediction_key(inputs: Any, model: Any = None, *, universe: bool = False, **kwargs) -> tuple[str, dict]:
    """(key, fields): the cache key of ``walk_forward(inputs, model, **kwargs)`` (one
    ticker's bars; `model` defaults to "lstm") or, with `universe`, of
    ``portfolio_walk_forward(inputs, model, **kwargs)`` (a universe; "logreg"), and what
    it hashes. An `ens:a,b` model is `Uncacheable` here: its members are cached one by one
    (`PredictionCache.walk_forward`).

    Arguments are bound to the walk-forward's signature with its defaults applied and
    checked the way it checks them (an omitted default and the same value passed give one
    key; embargo=None and its filled default too). Raises whatever the walk-forward would
    raise for bad settings, and `Uncacheable` for a run the key cannot pin down.
    """
    if is_ensemble(model):
        raise Uncacheable(f"{model} is cached member by member, not as one entry")
    if universe:
        fields = _universe_fields(inputs, "logreg" if model is None else model, **kwargs)
    else:
        fields = _ticker_fields(inputs, "lstm" if model is None else model, **kwargs)
    blob = json.dumps(fields, sort_keys=True, default=repr).encode()
    return hashlib.sha256(blob).hexdigest(), fields


def _ticker_fields(bars: pd.DataFrame, model: Any, **kwargs) -> dict:
    from forecast.evaluate.folds import resolve_test_days
    from forecast.evaluate.walkforward import Schedule, walk_forward
    from forecast.features.spec import as_spec
    from forecast.features.target import check_target, is_regression
    from forecast.models.fitting import purge_validation_overlap
    from forecast.models.resolve import resolve_estimator

    bound = inspect.signature(walk_forward).bind(bars, model, **kwargs)
    bound.apply_defaults()
    _observers_only(bound.arguments.get("callbacks"))
    args = {k: v for k, v in bound.arguments.items() if k not in ("bars", "model", *_NOT_IN_KEY)}
    spec = as_spec(args.pop("spec"))
    model_params = args.pop("model_params")
    seed = args.pop("seed")
    shuffle = args.pop("shuffle_train_labels")
    tune = args.pop("tune")
    target = check_target(args.pop("target"))
    # A test span from a date keys as the test days it makes (the same folds, the same key).
    args["test_days"] = resolve_test_days(bars.index, args["test_days"], args.pop("test_start"))
    schedule = Schedule.checked(n_bars=len(bars), warmup=spec.warmup, **args)
    est, name = resolve_estimator(model, model_params, seed, is_regression(target))
    est = purge_validation_overlap(est, model_params, schedule.lookahead)
    spec_dict = spec.to_dict()
    # Only a tuned run has the field: every untuned key stays what it was.
    tuned = {} if tune is None else {"tune": _normal(tune.key_fields(est, name, model_params))}
    return {
        "bars": bars_fingerprint(bars),
        "ticker": bars.attrs.get("ticker"),
        "start": str(pd.Timestamp(bars.index[0]).date()) if len(bars) else None,
        "end": str(pd.Timestamp(bars.index[-1]).date()) if len(bars) else None,
        "spec": _normal(spec_dict),
        "feature_code": _feature_digests(spec),
        "schedule": {k: v for k, v in schedule.record().items() if k != "label_definition"},
        **model_fields(est, name),
        "seed": seed,
        "shuffle_train_labels": bool(shuffle),
        **tuned,
        # Only another target is keyed: direction keys stay what they were.
        **({} if target == "direction" else {"target": target}),
    }


def _universe_fields(universe: Any, model: Any, **kwargs) -> dict:
    from forecast.evaluate import pooled
    from forecast.evaluate.folds import resolve_test_days

    bound = pooled.SIGNATURE.bind(universe, model, **kwargs)
    bound.apply_defaults()
    args = {k: v for k, v in bound.arguments.items() if k not in ("universe", "model", *_UNIVERSE_NOT_IN_KEY)}
    target, is_pooled, seed = args.pop("target"), args.pop("pooled"), args.pop("seed")
    model_params = args.pop("model_params")
    train_on = pooled.check_train_on(args.pop("train_on"))
    spec = pooled.check_portfolio_inputs(universe, target, is_pooled, args.pop("spec"))
    args["test_days"] = resolve_test_days(universe.calendar, args["test_days"], args.pop("test_start"))
    schedule = pooled.portfolio_schedule(universe, spec, **args)
    est, name, auto_gap = pooled.portfolio_estimator(model, model_params, seed, is_pooled, target)
    calendar = universe.calendar
    # A stored universe's point-in-time membership, on the days and tickers the run uses:
    # the forecasts belong to one membership (a training set that follows it would differ),
    # so another membership is another key. Left out without one: every other key is as it was.
    membership = getattr(universe, "membership", None)
    members = {} if membership is None else {
        "membership": _mask_digest(membership.mask(calendar, list(universe.bars))),
        "train_on": train_on,
    }
    return {
        **members,
        "tickers": [str(t) for t in universe.bars],
        # In universe order: the same bars in another order are another key.
        "bars": [[str(t), bars_fingerprint(b)] for t, b in universe.bars.items()],
        "spans": {str(t): [_day(b.index[0]), _day(b.index[-1]), len(b)] if len(b) else None
                  for t, b in universe.bars.items()},
        "calendar": {
            "start": _day(calendar[0]) if len(calendar) else None,
            "end": _day(calendar[-1]) if len(calendar) else None,
            "length": len(calendar),
            "dates": _dates_digest(calendar),
        },
        "target": target,
        "pooled": is_pooled,
        "seed": _normal(seed),
        "spec": _normal(spec.to_dict()),
        "feature_code": _feature_digests(spec),
        "schedule": {k: v for k, v in schedule.record().items() if k != "label_definition"},
        **model_fields(est, name),
        "auto_validation_gap": bool(auto_gap),
    }


def _dates_digest(index) -> str:
    dates = pd.DatetimeIndex(index).as_unit("ns")
    return hashlib.sha256(np.ascontiguousarray(dates.asi8).tobytes()).hexdigest()


def _mask_digest(mask: pd.DataFrame) -> str:
    """Digest of a members-by-day mask (its shape and its booleans)."""
    bits = np.packbits(mask.to_numpy(dtype=bool))
    return hashlib.sha256(repr(mask.shape).encode() + bits.tobytes()).hexdigest()


def _day(ts) -> str:
    return str(pd.Timestamp(ts).date())


def model_fields(est, name: str) -> dict:
    """The key fields of a resolved estimator and the code that runs it: name, class and its
    file, full parameters, Keras backend and device, fcast's version and sources, and the
    library versions (shared by every walk-forward cache key)."""
    keras_model = bool(getattr(est, "warm_refits", False)) or hasattr(est, "_build_network")
    return {
        "model": name,
        "model_class": f"{type(est).__module__}.{type(est).__qualname__}",
        "model_code": _code_digest(type(est)),
        "backend": _backend_and_device(est) if keras_model else None,
        "model_params": _normal(est.get_params(deep=True)),
        "fcast": fcast_version(),
        "fcast_code": fcast_code_digest(),
        "versions": _library_versions(keras_model),
    }


def _backend_and_device(est) -> dict:
    """Keras backend and resolved device: the same run on JAX or on a GPU is another run."""
    from forecast.models.backend import backend_name
    from forecast.models.device import resolve_device

    device = est.get_params(deep=False).get("device", "auto")
    return {"backend": backend_name(), "device": resolve_device(device)}


def frame_columns(attrs: dict | None, universe: bool) -> tuple[str, ...]:
    """The columns an entry keeps: P(up)'s, or a return or rank target's score columns."""
    from forecast.features.target import is_regression

    if is_regression((attrs or {}).get("target")):
        return SCORE_COLUMNS
    return UNIVERSE_COLUMNS if universe else COLUMNS


def _values_digest(frame: pd.DataFrame, attrs: dict | None = None) -> str:
    h = hashlib.sha256()
    # The provenance served with the frame is covered too: an edited label is a damaged entry.
    h.update(json.dumps(attrs or {}, sort_keys=True, default=repr).encode())
    h.update(np.ascontiguousarray(pd.DatetimeIndex(frame.index).asi8).tobytes())
    for col in frame_columns(attrs, False):
        h.update(np.ascontiguousarray(frame[col].to_numpy(), dtype="float64").tobytes())
    return h.hexdigest()


def _universe_values_digest(frame: pd.DataFrame, attrs: dict | None = None) -> str:
    """SHA-256 of the attrs served with the frame, its (date, ticker) index and every
    column's dtype and values."""
    h = hashlib.sha256()
    h.update(json.dumps(attrs or {}, sort_keys=True, default=repr).encode())
    h.update(json.dumps([str(n) for n in frame.index.names]).encode())
    dates = pd.DatetimeIndex(frame.index.get_level_values("date")).as_unit("ns")
    h.update(np.ascontiguousarray(dates.asi8).tobytes())
    for ticker in frame.index.get_level_values("ticker"):
        h.update(str(ticker).encode() + b"\0")
    for col in frame_columns(attrs, True):
        values = frame[col].to_numpy()
        h.update(f"{col}:{values.dtype}\0".encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


class CacheError(Exception):
    """An unusable cache entry (the message says why)."""


class PredictionCache:
    """Walk-forward predictions under ``<home>/cache/predictions/<key>.parquet``, or with
    `universe` a universe's (``portfolio_walk_forward``) under ``<home>/cache/portfolio``.

    `last` is "hit" or "miss" after each `walk_forward` call (None before, or when the run
    could not be keyed and ran uncached).
    """

    def __init__(self, home: str | Path | None = None, universe: bool = False):
        from forecast.data.store import default_home

        self.universe = bool(universe)
        self.SUBDIR = "portfolio" if universe else "predictions"
        self.NAME = "portfolio cache" if universe else "prediction cache"
        self.META_KEY = _UNIVERSE_META_KEY if universe else _META_KEY
        self.COLUMNS = UNIVERSE_COLUMNS if universe else COLUMNS
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.dir = self.home / "cache" / self.SUBDIR
        self.last: str | None = None

    # --- what is cached, how it is keyed and checked ----------------------------------------

    def key(self, inputs: Any, model: Any = None, **kwargs) -> tuple[str, dict]:
        return prediction_key(inputs, model, universe=self.universe, **kwargs)

    def compute(self, inputs: Any, model: Any = None, **kwargs) -> pd.DataFrame:
        if self.universe:
            from forecast.evaluate import pooled

            return pooled.portfolio_walk_forward(inputs, "logreg" if model is None else model, **kwargs)
        from forecast.evaluate import walkforward

        return walkforward.walk_forward(inputs, "lstm" if model is None else model, **kwargs)

    def check_frame(self, frame: pd.DataFrame) -> None:
        """Raise CacheError (reading) when the frame's index is not what this cache keeps;
        name it as the walk-forward does."""
        if self.universe:
            if not isinstance(frame.index, pd.MultiIndex) or tuple(frame.index.names) != UNIVERSE_INDEX:
                raise CacheError("no (date, ticker) index")
            return
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise CacheError("no date index")
        frame.index.name = "date"

    def digest(self, frame: pd.DataFrame, attrs: dict | None) -> str:
        return (_universe_values_digest if self.universe else _values_digest)(frame, attrs)

    def describe(self, fields: dict) -> dict:
        """What `entries` shows of an entry's key fields: ticker(s), model, span."""
        if self.universe:
            tickers = list(fields.get("tickers") or [])
            calendar = fields.get("calendar") or {}
            return {"ticker": f"{len(tickers)} tickers ({fields.get('target')})", "tickers": tickers,
                    "model": fields.get("model"), "start": calendar.get("start"), "end": calendar.get("end")}
        ticker = fields.get("ticker")
        return {"ticker": ticker, "tickers": [ticker] if ticker else [], "model": fields.get("model"),
                "start": fields.get("start"), "end": fields.get("end")}

    # ---------------------------------------------------------------------------------------

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.parquet"

    def lock(self, key: str):
        """The entry's lock (a context manager), held by whatever writes or removes it."""
        return locked(self.dir / f".{key}.lock", f"{self.NAME} entry {key[:12]}")

    def get(self, key: str) -> pd.DataFrame | None:
        """The cached frame, None when absent; a broken entry warns once and is removed."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return self._read(path, key)
        except Exception:  # noqa: BLE001 - any damage means: recompute
            pass
        try:
            with self.lock(key):
                # Another process may have rewritten the entry since: look again before removing.
                try:
                    return self._read(path, key)
                except FileNotFoundError:
                    return None
                except Exception as exc:  # noqa: BLE001
                    self._warn_unusable(path, exc)
                    path.unlink(missing_ok=True)
        except (OSError, LockTimeout) as exc:  # a read-only cache: recompute, leave it be
            log.warning("%s entry %s is unusable and cannot be removed: %s", self.NAME, path.name,
                        getattr(exc, "strerror", None) or exc)
        return None

    def _warn_unusable(self, path: Path, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, CacheError) else f"unreadable: {type(exc).__name__}"
        log.warning("%s entry %s is unusable (%s); recomputing", self.NAME, path.name, reason)

    def _read(self, path: Path, key: str) -> pd.DataFrame:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(self.META_KEY)
        if raw is None:
            raise CacheError("no cache metadata")
        meta = json.loads(raw)
        if meta.get("key") != key:
            raise CacheError("key mismatch")
        frame = table.to_pandas()
        columns = frame_columns(meta.get("attrs"), self.universe)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CacheError(f"missing column(s) {', '.join(missing)}")
        self.check_frame(frame)
        if len(frame) != meta.get("rows", len(frame)):
            raise CacheError("row count mismatch")
        frame = frame.loc[:, list(columns)]
        if self.digest(frame, meta.get("attrs")) != meta.get("values"):
            raise CacheError("hash mismatch")
        frame.attrs = dict(meta.get("attrs") or {})
        return frame

    def put(self, key: str, frame: pd.DataFrame, fields: dict) -> Path:
        """Write one entry atomically (the frame, its attrs and key fields in the footer)."""
        if self.universe and (not isinstance(frame.index, pd.MultiIndex)
                              or tuple(frame.index.names) != UNIVERSE_INDEX):
            raise ValueError("a portfolio predictions frame is indexed by (date, ticker)")
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = frame.loc[:, list(frame_columns(frame.attrs, self.universe))].copy()
        data.attrs = {}
        table = pa.Table.from_pandas(data, preserve_index=True)
        attrs = json.loads(json.dumps(frame.attrs, default=repr))
        meta = {
            "key": key,
            "fields": fields,
            "attrs": attrs,
            "values": self.digest(data, attrs),
            "rows": len(data),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[self.META_KEY] = json.dumps(meta, default=repr).encode()
        table = table.replace_schema_metadata(schema_meta)
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.lock(key):
            return write_atomic(self.path(key), lambda handle: pq.write_table(table, handle),
                                tmp_prefix=f".{key[:16]}.{os.getpid()}.")

    def _ensemble(self, inputs, model, **kwargs) -> pd.DataFrame:
        from forecast.evaluate.ensemble import ensemble_walk_forward

        seen = []

        def member(*args, **kw):
            frame = self.walk_forward(*args, **kw)
            seen.append(self.last)
            return frame

        frame = ensemble_walk_forward(member, inputs, model, **kwargs)
        self.last = "hit" if seen and all(s == "hit" for s in seen) else "miss"
        return frame

    def walk_forward(self, *args, **kwargs) -> pd.DataFrame:
        """The walk-forward (`forecast.evaluate.walk_forward`, or for a universe
        `forecast.evaluate.pooled.portfolio_walk_forward`), read from the cache when the
        same run was made. An `ens:a,b,c` model runs each member through this cache (one
        entry per member); `last` is then "hit" only when every member's was."""
        self.last = None
        model = args[1] if len(args) > 1 else kwargs.get("model")
        if is_ensemble(model):
            return self._ensemble(*args, **kwargs)
        try:
            key, fields = self.key(*args, **kwargs)
        except Uncacheable as exc:
            log.warning("predictions not cached: %s", exc)
            return self.compute(*args, **kwargs)
        except Exception:  # noqa: BLE001 - let the real run report bad settings its own way
            return self.compute(*args, **kwargs)
        frame = self.get(key)
        if frame is not None:
            self.last = "hit"
            return frame
        frame = self.compute(*args, **kwargs)
        self.last = "miss"
        try:
            self.put(key, frame, fields)
        except (OSError, LockTimeout) as exc:
            log.warning("cannot write the %s in %s: %s", self.NAME, self.dir,
                        getattr(exc, "strerror", None) or exc)
        return frame

    def entries(self) -> list[dict]:
        """Every entry: key, ticker, model, start, end, created, size (bytes); broken ones
        with ``error``."""
        import pyarrow.parquet as pq

        if not self.dir.is_dir():
            return []
        out = []
        for path in sorted(self.dir.glob("*.parquet")):
            row = {"key": path.stem, "path": str(path)}
            try:
                row["size"] = path.stat().st_size
                meta = json.loads((pq.read_schema(path).metadata or {})[self.META_KEY])
                row.update(self.describe(meta.get("fields", {})), created=meta.get("created"),
                           rows=meta.get("rows"))
            except Exception as exc:  # noqa: BLE001
                row["error"] = f"unreadable ({type(exc).__name__})"
            out.append(row)
        return sorted(out, key=lambda r: r.get("created") or "")

    def clear(self, ticker: str | None = None) -> tuple[int, int]:
        """Delete every entry (or those the ticker is part of); return (entries, bytes) removed.

        StoreError (one line) when an entry cannot be deleted (a read-only home, say).
        """
        n = size = 0
        for row in self.entries():
            part = {str(t).upper() for t in row.get("tickers") or ()}
            if ticker is not None and ticker.upper() not in part:
                continue
            path = Path(row["path"])
            try:
                with self.lock(row["key"]):
                    bytes_ = path.stat().st_size
                    path.unlink()
                    # Its lock goes too: a racing writer's entry is atomic whichever lock it held.
                    (self.dir / f".{row['key']}.lock").unlink(missing_ok=True)
            except FileNotFoundError:
                continue
            except OSError as exc:
                done = f" after deleting {count(n, 'entry', 'entries')}" if n else ""
                raise StoreError(f"cannot delete the {self.NAME} entries in {self.dir}: "
                                 f"{exc.strerror or exc}{done}") from exc
            n, size = n + 1, size + bytes_
        return n, size
