"""The session estimates behind "next session" and the stale-data line."""

from __future__ import annotations

import pandas as pd

from forecast.signal.sessions import last_completed_session, next_session, sessions_behind


def test_the_next_session_skips_weekends_and_holidays():
    assert next_session("2017-11-10") == pd.Timestamp("2017-11-13")  # Friday -> Monday
    assert next_session("2017-11-22") == pd.Timestamp("2017-11-24")  # Thanksgiving
    assert next_session("2017-12-22") == pd.Timestamp("2017-12-26")  # Christmas on Monday
    assert next_session("2018-03-29") == pd.Timestamp("2018-04-02")  # Good Friday
    assert next_session("2017-11-09") == pd.Timestamp("2017-11-10")  # Veterans Day: the exchange trades


def test_today_never_counts_as_completed():
    assert last_completed_session("2026-12-07") == pd.Timestamp("2026-12-04")  # a Monday -> Friday
    assert last_completed_session("2026-12-05") == pd.Timestamp("2026-12-04")  # a Saturday


def test_sessions_behind_counts_the_completed_sessions_after_the_last_bar():
    assert sessions_behind("2026-12-04", today="2026-12-07") == 0
    assert sessions_behind("2026-12-03", today="2026-12-07") == 1
    assert sessions_behind("2026-11-30", today="2026-12-07") == 4
    # by hand: weekdays 2017-11-13 .. 2017-11-30 less Thanksgiving (23rd)
    assert sessions_behind("2017-11-10", today="2017-12-01") == 13
