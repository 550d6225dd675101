"""yfinance mocked at its boundary, in both frame shapes it has returned."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.data import yahoo
from forecast.data.synthetic import random_walk_bars
from forecast.errors import SourceError

# The real boundary function, captured before conftest replaces it in every test.
REAL_DOWNLOAD = yahoo._download


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
    monkeypatch.setattr(yahoo, "_download", REAL_DOWNLOAD)  # through fcast's own yfinance call
    out = yahoo.fetch_yahoo("AAPL", "2020-01-01", None, reachable=lambda: True)
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

    out = yahoo.fetch_yahoo("MSFT", download=download, sleep=sleeps.append, backoff=1.0,
                            reachable=lambda: True)
    assert len(out) == 10
    assert sleeps == [1.0, 2.0]


def test_rate_limit_gives_up_with_one_line():
    def download(ticker, start, end):
        raise RuntimeError("rate limit exceeded")

    with pytest.raises(SourceError, match="rate limiting"):
        yahoo.fetch_yahoo("MSFT", download=download, sleep=lambda s: None, retries=2,
                          reachable=lambda: True)


def test_unreachable_yahoo_fails_before_any_download():
    calls = []
    with pytest.raises(SourceError, match="cannot reach Yahoo Finance") as info:
        yahoo.fetch_yahoo("AAPL", download=lambda *a: calls.append(a), reachable=lambda: False)
    assert "fcast data import AAPL" in str(info.value)
    assert info.value.reason == "unreachable"
    assert calls == []  # an offline machine never waits on yfinance's own retries


def test_empty_answer_with_network_is_unknown_ticker():
    with pytest.raises(SourceError, match="unknown or delisted"):
        yahoo.fetch_yahoo("NOPE", download=lambda *a: pd.DataFrame(), reachable=lambda: True)


def test_reachability_probe_fails_without_network(monkeypatch):
    monkeypatch.delenv(yahoo.OFFLINE_ENV)  # the real probe, against conftest's refused sockets
    assert yahoo.yahoo_reachable(timeout=0.1) is False


def test_reachability_probe_gives_up_on_a_hanging_lookup(monkeypatch):
    """A name lookup that hangs (no network, broken DNS) must not hold the caller."""
    import socket
    import threading

    release = threading.Event()
    entered = threading.Event()

    def hang(*args, **kwargs):
        entered.set()
        release.wait(60)
        raise OSError("released")

    monkeypatch.delenv(yahoo.OFFLINE_ENV)
    monkeypatch.setattr(socket, "create_connection", hang)
    try:
        assert yahoo.yahoo_reachable(timeout=0.2) is False
        assert entered.is_set()  # the probe really ran, and was still stuck when we returned
    finally:
        release.set()


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_offline_switch(monkeypatch, value, expected):
    monkeypatch.setenv(yahoo.OFFLINE_ENV, value)
    assert yahoo.offline() is expected
    if expected:  # offline: no probe at all
        monkeypatch.setattr("socket.create_connection", lambda *a, **k: pytest.fail("probed"))
        assert yahoo.yahoo_reachable() is False


@pytest.mark.parametrize(
    "download, reachable, reason, detail",
    [
        (None, False, "unreachable", "Yahoo Finance unreachable"),
        (RuntimeError("rate limit exceeded"), True, "rate_limited",
         "Yahoo Finance is rate limiting requests"),
        (pd.DataFrame(), True, "no_data", "Yahoo Finance has no data (unknown or delisted ticker?)"),
        # yfinance's text names the ticker itself, and may run on past a semicolon.
        (ValueError("$KO: possibly delisted; no timezone found"), True, "failed",
         "Yahoo Finance download failed: possibly delisted"),
    ],
)
def test_failures_carry_reason_and_detail_fields(download, reachable, reason, detail):
    def fake(ticker, start, end):
        if isinstance(download, Exception):
            raise download
        return download

    with pytest.raises(SourceError) as info:
        yahoo.fetch_yahoo("KO", download=fake, sleep=lambda s: None, retries=0,
                          reachable=lambda: reachable)
    assert (info.value.reason, info.value.detail) == (reason, detail)
    assert str(info.value).startswith("KO: ")  # the message itself is unchanged
