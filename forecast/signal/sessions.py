"""Which session comes next, and whether the data is behind: weekdays without the New York
Stock Exchange's regular holidays (its unscheduled closings, such as 2012's hurricane or a
national day of mourning, are not known here). Used for messages and order dates only,
never for a forecast."""

from __future__ import annotations

import pandas as pd


def _sessions():
    from pandas.tseries.holiday import (
        AbstractHolidayCalendar,
        GoodFriday,
        Holiday,
        USLaborDay,
        USMartinLutherKingJr,
        USMemorialDay,
        USPresidentsDay,
        USThanksgivingDay,
        nearest_workday,
        sunday_to_monday,
    )
    from pandas.tseries.offsets import CustomBusinessDay

    class ExchangeHolidays(AbstractHolidayCalendar):
        rules = [
            Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
            USMartinLutherKingJr, USPresidentsDay, GoodFriday, USMemorialDay,
            Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
            Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
            USLaborDay, USThanksgivingDay,
            Holiday("Christmas", month=12, day=25, observance=nearest_workday),
        ]

    return CustomBusinessDay(calendar=ExchangeHolidays())


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
    return len(pd.date_range(last_bar + pd.Timedelta(days=1), last_done, freq=_sessions()))
