"""yfinance mocked at its boundary, in both frame shapes it has returned."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.data import yahoo
from forecast.data.synthetic import random_walk_bars
from forecast.errors import SourceError


def _yahoo_frame(ticker: str, multiindex: bool) -> pd.DataFrame:
    bars = random_walk_bars(10, seed=1)
    frame = bars.rename(columns=str.title)
    frame.index.name = "Date"
    if multiindex:  # yfinance >= 0.2.51: (Price, Ticker) columns, auto-adjusted, no Adj Close
        frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]],
                                                   names=["Price", "Ticker"])
    else:  # older yfinance: flat columns with Adj Close
        frame["Adj Close"] = frame["Close"] * 0.5
    return frame


@pytest.mark.parametrize("multiindex", [True, False])
def test_both_yfinance_shapes_normalize(monkeypatch, multiindex):
    calls = []

    def fake_download(ticker, *args, **kwargs):
        calls.append((ticker, kwargs))
        return _yahoo_frame(ticker, multiindex)

    import yfinance

    monkeypatch.setattr(yfinance, "download", fake_download)
    out = yahoo.fetch_yahoo("AAPL", "2020-01-01", None)
    assert calls and calls[0][1]["auto_adjust"] is True
    expected = ["open", "high", "low", "close", "volume"] + ([] if multiindex else ["adj_close"])
    assert list(out.columns) == expected
    assert out.index.name == "date" and len(out) == 10
    assert out.attrs["source"] == "yahoo"


def test_rate_limit_is_retried_with_backoff():
    attempts, sleeps = [], []

    class YFRateLimitError(Exception):
        pass

    def download(ticker, start, end):
        attempts.append(1)
        if len(attempts) < 3:
            raise YFRateLimitError("Too Many Requests. Rate limited.")
        return _yahoo_frame(ticker, True)

    out = yahoo.fetch_yahoo("MSFT", download=download, sleep=sleeps.append, backoff=1.0)
    assert len(out) == 10
    assert sleeps == [1.0, 2.0]


def test_rate_limit_gives_up_with_one_line():
    def download(ticker, start, end):
        raise RuntimeError("rate limit exceeded")

    with pytest.raises(SourceError, match="rate limiting"):
        yahoo.fetch_yahoo("MSFT", download=download, sleep=lambda s: None, retries=2)


def test_empty_answer_without_network_says_so():
    with pytest.raises(SourceError, match="cannot reach Yahoo Finance") as info:
        yahoo.fetch_yahoo("AAPL", download=lambda *a: pd.DataFrame(), reachable=lambda: False)
    assert "fcast data import AAPL" in str(info.value)


def test_empty_answer_with_network_is_unknown_ticker():
    with pytest.raises(SourceError, match="unknown or delisted"):
        yahoo.fetch_yahoo("NOPE", download=lambda *a: pd.DataFrame(), reachable=lambda: True)


def test_reachability_probe_fails_without_network():
    assert yahoo.yahoo_reachable(timeout=0.1) is False
