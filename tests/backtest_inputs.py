"""Small hand-checkable inputs shared by the backtest tests."""

from __future__ import annotations

import pandas as pd


def hand_bars() -> pd.DataFrame:
    """Five daily bars whose fills and P&L can be worked out by hand."""
    index = pd.bdate_range("2021-01-04", periods=5, name="date")
    frame = pd.DataFrame(
        {
            "open": [100.0, 102.0, 104.0, 103.0, 110.0],
            "high": [101.0, 105.0, 106.0, 104.0, 111.0],
            "low": [99.0, 101.0, 103.0, 100.0, 109.0],
            "close": [100.0, 104.0, 105.0, 101.0, 110.0],
            "volume": [1e6] * 5,
        },
        index=index,
    )
    frame.attrs["ticker"] = "HAND"
    return frame
