"""The backtrader feed: canonical bars joined to out-of-sample predictions.

Trimming rule: the feed starts `warmup` bars before the first prediction date (history a
strategy may read, never traded on) and ends on the bar after the last prediction (so
that prediction's order can fill at that bar's open). Bars without a prediction carry
`prob_up = NaN`; `PredictionStrategy` takes no decision on them.
"""

from __future__ import annotations

import backtrader as bt
import pandas as pd

from forecast.errors import ConfigError, DataError

PRICE_COLUMNS = ["open", "high", "low", "close", "volume"]


def validate_predictions(predictions: pd.DataFrame, bars: pd.DataFrame) -> None:
    """Raise ConfigError/DataError unless `predictions` fits the contract and `bars`."""
    if not isinstance(predictions, pd.DataFrame) or "prob_up" not in predictions.columns:
        raise DataError("predictions must be a DataFrame with a 'prob_up' column")
    if predictions.empty:
        raise ConfigError("no out-of-sample predictions to backtest")
    if not isinstance(predictions.index, pd.DatetimeIndex) or not predictions.index.is_unique:
        raise DataError("predictions must be indexed by unique decision dates")
    p = predictions["prob_up"].to_numpy(dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise DataError("prob_up must lie in [0, 1]")
    outside = predictions.index.difference(bars.index)
    if len(outside):
        raise DataError(f"{len(outside)} prediction date(s) are not bars, first {outside[0].date()}")
    if bars.index.get_loc(predictions.index.min()) == len(bars) - 1:
        raise ConfigError("predictions leave no bar to fill an order on")


def feed_frame(bars: pd.DataFrame, predictions: pd.DataFrame, warmup: int = 0) -> pd.DataFrame:
    """Bars joined to `prob_up` (columns in `PredictionData`'s order), trimmed as described
    in the module docstring."""
    frame = bars[PRICE_COLUMNS].astype("float64").join(predictions[["prob_up"]].astype("float64"))
    first = bars.index.get_loc(predictions.index.min())
    last = bars.index.get_loc(predictions.index.max())
    return frame.iloc[max(0, first - int(warmup)) : min(len(bars), last + 2)]


class PredictionData(bt.feeds.PandasDirectData):
    """backtrader's PandasDirectData (rows read with `itertuples`) plus the `prob_up` line.

    Its parameters are positions in a row, the date index first: `feed_frame`'s columns.
    """

    lines = ("prob_up",)
    params = (("openinterest", -1), ("prob_up", 1 + len(PRICE_COLUMNS)))
