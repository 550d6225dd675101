"""Which session comes next, and whether the data is behind: weekdays without the US
federal holidays, an estimate of the exchange calendar (it misses Good Friday and counts
Columbus and Veterans Day as holidays), used for messages and order dates only, never
for a forecast."""

from __future__ import annotations

import pandas as pd


def _sessions():
    from pandas.tseries.holiday import USFederalHolidayCalendar
    from pandas.tseries.offsets import CustomBusinessDay

    return CustomBusinessDay(calendar=USFederalHolidayCalendar())


def next_session(day) -> pd.Timestamp:
    """The session after `day` (estimated)."""
    return pd.Timestamp(day).normalize() + _sessions()


def last_completed_session(today=None) -> pd.Timestamp:
    """The last session before `today` (default: the UTC date now): today's own session is
    not complete until its close, so it never counts."""
    today = pd.Timestamp.now(tz="UTC").tz_localize(None) if today is None else pd.Timestamp(today)
    return today.normalize() - _sessions()


def sessions_behind(last_bar, today=None) -> int:
    """How many sessions after `last_bar` have completed by `today` (0: up to date)."""
    last_done = last_completed_session(today)
    last_bar = pd.Timestamp(last_bar).normalize()
    if last_bar >= last_done:
        return 0
    return len(pd.date_range(last_bar, last_done, freq=_sessions())) - 1
