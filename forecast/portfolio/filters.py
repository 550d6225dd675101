"""Universe filters: which tickers may be ranked on each decision day.

A ticker is eligible on day t when, from its own bars dated <= t only:
- its last `close` is >= `min_price`;
- the median of close x volume over its last `dollar_volume_window` bars
  is >= `min_dollar_volume` (fewer bars than the window: not eligible);
- with `drop_extreme_moves`, its last bar does not fail the data checks' extreme-move
  rule (`forecast.data.checks.extreme_moves`: |log move of the adjusted close| > 0.4).

`close` is the column of the frames given: `fcast portfolio` and experiments pass the
split- and dividend-adjusted bars they trade, so on back-adjusted history (as in the bundled
data and us_liquid) an old close is not the price that traded then, and a price floor over
a long history selects on splits that came later. Frames that still carry `adj_close` are
read as traded (and the extreme-move rule reads `adj_close`).

On a calendar day without a bar of its own the ticker keeps its last bar's answer
(a forward fill, so still only bars <= t); before its first bar it is not eligible.
The engine ANDs this mask with the point-in-time membership (see `run_portfolio`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import pandas as pd

from forecast import defaults
from forecast.data.checks import extreme_moves
from forecast.errors import ConfigError

log = logging.getLogger("fcast")


@dataclass(frozen=True)
class FilterSettings:
    """The universe filters of a run; the defaults filter nothing."""

    min_price: float | None = None
    min_dollar_volume: float | None = None
    dollar_volume_window: int = defaults.DOLLAR_VOLUME_WINDOW
    drop_extreme_moves: bool = False

    def __post_init__(self):
        for name in ("min_price", "min_dollar_volume"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not (number and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name.replace('_', '-')} must be a number > 0, not {value!r}")
            if value is not None:  # 60 from a spec and 60.0 from the CLI are one setting, one record
                object.__setattr__(self, name, float(value))
        window = self.dollar_volume_window
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ConfigError(f"dollar-volume-window must be a whole number >= 1, not {window!r}")
        if window != defaults.DOLLAR_VOLUME_WINDOW and self.min_dollar_volume is None:
            # Valid but surely not meant: say so rather than ignore it silently.
            log.warning("dollar-volume-window %d has no effect without min-dollar-volume", window)

    @property
    def active(self) -> bool:
        return self.min_price is not None or self.min_dollar_volume is not None or self.drop_extreme_moves

    @classmethod
    def from_table(cls, table: dict, where: str = "[filters]") -> FilterSettings:
        """From a spec's table (keys as the fields), one ConfigError line for an unknown key."""
        unknown = sorted(set(table) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)} "
                              f"(known: {', '.join(cls.__dataclass_fields__)})")
        return cls(**table)

    def as_dict(self) -> dict:
        """What the run records (metrics.json, run.json)."""
        return asdict(self)


def ticker_eligibility(frame: pd.DataFrame, settings: FilterSettings) -> pd.Series:
    """Per bar of one ticker's canonical daily bars, whether it passes every filter."""
    ok = pd.Series(True, index=frame.index)
    if settings.min_price is not None:
        ok &= frame["close"] >= settings.min_price
    if settings.min_dollar_volume is not None:
        dollars = frame["close"] * frame["volume"]
        window = settings.dollar_volume_window
        median = dollars.rolling(window, min_periods=window).median()  # trailing: bars <= t
        ok &= median >= settings.min_dollar_volume  # NaN (too few bars) compares False
    if settings.drop_extreme_moves:
        ok &= ~extreme_moves(frame)
    return ok


def eligibility(bars: dict[str, pd.DataFrame], dates, tickers, settings: FilterSettings) -> pd.DataFrame:
    """dates x tickers booleans: eligible on that decision day (see the module)."""
    dates = pd.DatetimeIndex(dates)
    columns = {}
    for t in tickers:
        frame = bars.get(t)
        if frame is None or not len(frame):
            columns[t] = pd.Series(False, index=dates)
            continue
        ok = ticker_eligibility(frame, settings).astype(float)
        columns[t] = ok.reindex(dates, method="ffill").fillna(0.0).astype(bool)
    return pd.DataFrame(columns, index=dates, columns=list(tickers)).astype(bool)
