"""Cached universe-wide walk-forward predictions under ``<home>/cache/portfolio``.

`portfolio_walk_forward` is deterministic given its inputs, so its long (date, ticker)
frame is kept under a key hashing everything that shapes it (`portfolio_prediction_key`):
every ticker's name and bars fingerprint in universe order (its dates and every value,
so a changed bar, a day added or removed, a ticker added, dropped or moved misses), the
universe calendar, the target, the pooled flag, the seed, the feature spec (and the code
of user features), the checked schedule, the model's class and full parameters (and the
file of a user's model), the Keras backend and device, fcast's version and a hash of its
sources, and the versions of the libraries that compute the numbers. `progress` is not
part of it. A run whose model or parameters the key cannot pin down runs uncached.

Each entry is one Parquet file whose footer holds its key, key fields, the frame's
`attrs` and a hash of its index, values, dtypes and attrs: one atomic rename writes it,
and an entry that cannot be read, whose footer disagrees with its name or its values, or
that lacks a column is reported in one warning line on the ``fcast`` logger, removed and
treated as a miss.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.cache import (
    CacheError,
    PredictionCache,
    _feature_digests,
    _normal,
    bars_fingerprint,
    model_fields,
)
from forecast.portfolio import pooled

_META_KEY = b"fcast-portfolio-cache"
COLUMNS = ("prob_up", "actual_up", "realized", "fold")
INDEX = ("date", "ticker")
# portfolio_walk_forward arguments that do not change the predictions.
_NOT_IN_KEY = ("progress",)
# Taken at import: the settings are bound to the real signature even where the function
# is wrapped (a test counting runs, say).
_SIGNATURE = inspect.signature(pooled.portfolio_walk_forward)

log = logging.getLogger("fcast")


def _dates_digest(index) -> str:
    dates = pd.DatetimeIndex(index).as_unit("ns")
    return hashlib.sha256(np.ascontiguousarray(dates.asi8).tobytes()).hexdigest()


def _day(ts) -> str:
    return str(pd.Timestamp(ts).date())


def portfolio_prediction_key(universe: Any, model: Any = "logreg", **kwargs) -> tuple[str, dict]:
    """(key, fields): the cache key of ``portfolio_walk_forward(universe, model, **kwargs)``
    and what it hashes.

    Arguments are bound to `portfolio_walk_forward`'s signature with its defaults applied
    and checked the way it checks them (an omitted default and the same value passed give
    one key; embargo=None and embargo=1 too). Raises whatever it would raise for bad
    settings, and `Uncacheable` for a model or parameter the key cannot pin down.
    """
    bound = _SIGNATURE.bind(universe, model, **kwargs)
    bound.apply_defaults()
    args = {k: v for k, v in bound.arguments.items() if k not in ("universe", "model", *_NOT_IN_KEY)}
    target, is_pooled, seed = args.pop("target"), args.pop("pooled"), args.pop("seed")
    model_params = args.pop("model_params")
    spec = pooled.check_portfolio_inputs(universe, target, is_pooled, args.pop("spec"))
    schedule = pooled.portfolio_schedule(universe, spec, **args)
    est, name, auto_gap = pooled.portfolio_estimator(model, model_params, seed, is_pooled)
    calendar = universe.calendar
    fields = {
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
    blob = json.dumps(fields, sort_keys=True, default=repr).encode()
    return hashlib.sha256(blob).hexdigest(), fields


def _values_digest(frame: pd.DataFrame, attrs: dict | None = None) -> str:
    """SHA-256 of the attrs served with the frame, its (date, ticker) index and every
    column's dtype and values."""
    h = hashlib.sha256()
    h.update(json.dumps(attrs or {}, sort_keys=True, default=repr).encode())
    h.update(json.dumps([str(n) for n in frame.index.names]).encode())
    dates = pd.DatetimeIndex(frame.index.get_level_values("date")).as_unit("ns")
    h.update(np.ascontiguousarray(dates.asi8).tobytes())
    for ticker in frame.index.get_level_values("ticker"):
        h.update(str(ticker).encode() + b"\0")
    for col in COLUMNS:
        values = frame[col].to_numpy()
        h.update(f"{col}:{values.dtype}\0".encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


class PortfolioPredictionCache(PredictionCache):
    """Portfolio walk-forward predictions under ``<home>/cache/portfolio/<key>.parquet``
    (`PredictionCache`'s storage, checks and `last`, with this module's key and frame)."""

    SUBDIR = "portfolio"
    NAME = "portfolio cache"
    META_KEY = _META_KEY
    COLUMNS = COLUMNS

    def key(self, universe: Any, model: Any = "logreg", **kwargs) -> tuple[str, dict]:
        return portfolio_prediction_key(universe, model, **kwargs)

    def compute(self, universe: Any, model: Any = "logreg", **kwargs) -> pd.DataFrame:
        return pooled.portfolio_walk_forward(universe, model, **kwargs)

    def check_frame(self, frame: pd.DataFrame) -> None:
        if not isinstance(frame.index, pd.MultiIndex) or tuple(frame.index.names) != INDEX:
            raise CacheError("no (date, ticker) index")

    def digest(self, frame: pd.DataFrame, attrs: dict | None) -> str:
        return _values_digest(frame, attrs)

    def describe(self, fields: dict) -> dict:
        tickers = list(fields.get("tickers") or [])
        calendar = fields.get("calendar") or {}
        return {"ticker": f"{len(tickers)} tickers ({fields.get('target')})", "tickers": tickers,
                "model": fields.get("model"), "start": calendar.get("start"), "end": calendar.get("end")}

    def put(self, key: str, frame: pd.DataFrame, fields: dict) -> Path:
        if not isinstance(frame.index, pd.MultiIndex) or tuple(frame.index.names) != INDEX:
            raise ValueError("a portfolio predictions frame is indexed by (date, ticker)")
        return super().put(key, frame, fields)
