"""`fcast data update` and `update_store`: Yahoo faked at its boundary (`download`,
`reachable`), the store real. What an update reports is checked against the fake market's
frames, never against the update's own arithmetic."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_run import run
from filelock import FileLock

from forecast.data import yahoo
from forecast.data.store import Store
from forecast.data.synthetic import random_walk_bars
from forecast.data.update import FAILED, KEPT, SKIPPED, UP_TO_DATE, UPDATED, update_store
from forecast.errors import ConfigError
from forecast.locking import TIMEOUT_ENV

STORED = 60  # bars in the store; the market has 80


class FakeYahoo:
    """`download(ticker, start, end)` serving each ticker's market history (end exclusive,
    as Yahoo counts) in yfinance's (Price, Ticker) column shape; every call recorded.
    A ticker the market lacks gets an empty frame, as a delisted one does."""

    def __init__(self, market: dict[str, pd.DataFrame]):
        self.market = market
        self.calls: list[tuple[str, pd.Timestamp | None, pd.Timestamp | None]] = []

    def __call__(self, ticker, start, end):
        self.calls.append((ticker, start, end))
        bars = self.market.get(ticker)
        if bars is None:
            return pd.DataFrame()
        if start is not None:
            bars = bars[bars.index >= start]
        if end is not None:
            bars = bars[bars.index < end]
        frame = bars.rename(columns=str.title)
        frame.index.name = "Date"
        frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
        return frame


def market(*tickers: str, n: int = 80) -> dict[str, pd.DataFrame]:
    return {t: random_walk_bars(n, seed=i + 1) for i, t in enumerate(tickers)}


def stock(store: Store, bars: dict[str, pd.DataFrame], n: int = STORED) -> None:
    """Store each ticker's first `n` market bars, as an earlier Yahoo fetch would have."""
    for ticker, frame in bars.items():
        store.write(frame.iloc[:n], ticker, source="yahoo")


def snapshot(store: Store) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.bars_dir.glob("*.parquet"))}


def online(fake):
    return {"download": fake, "reachable": lambda: True, "sleep": lambda s: None}


@pytest.fixture
def store():
    return Store()  # the test's own FCAST_HOME (conftest)


def _day(stamp) -> str:
    return str(pd.Timestamp(stamp).date())


def test_adds_only_the_new_bars_and_reports_them(store):
    bars = market("AAA", "BBB")
    stock(store, {"AAA": bars["AAA"]})
    stock(store, {"BBB": bars["BBB"]}, n=80)  # already complete
    before = {t: store.read(t) for t in bars}
    fake = FakeYahoo(bars)
    report = update_store(store, **online(fake))

    aaa, bbb = report.results
    expected_new = bars["AAA"].index.difference(before["AAA"].index)
    assert (aaa.ticker, aaa.status, aaa.added) == ("AAA", UPDATED, len(expected_new)) and aaa.added == 20
    assert (aaa.first_new, aaa.last_new) == (_day(expected_new[0]), _day(expected_new[-1]))
    assert (aaa.revised, aaa.readjusted, aaa.last) == (0, False, _day(bars["AAA"].index[-1]))
    assert (bbb.status, bbb.added, bbb.revised) == (UP_TO_DATE, 0, 0)
    assert report.ok and report.reachable is True
    # The store now holds the market's bars, the stored ones unchanged.
    after = store.read("AAA")
    np.testing.assert_array_equal(after.index, bars["AAA"].index)
    np.testing.assert_allclose(after.to_numpy(), bars["AAA"].to_numpy(), rtol=0, atol=0)
    pd.testing.assert_frame_equal(after.iloc[:STORED], before["AAA"], check_freq=False)
    # Incremental: each download starts a few days before the stored last bar, no earlier.
    for ticker, start, _end in fake.calls:
        assert start == before[ticker].index[-1] - pd.Timedelta(days=yahoo.OVERLAP_DAYS)


def test_unreachable_yahoo_writes_nothing_and_asks_nothing(store):
    stock(store, market("AAA", "BBB"))
    before = snapshot(store)
    fake = FakeYahoo({})
    report = update_store(store, download=fake, reachable=lambda: False)
    assert report.reachable is False and not report.ok
    assert [(r.ticker, r.status, r.reason) for r in report.results] == [
        ("AAA", KEPT, "unreachable"), ("BBB", KEPT, "unreachable")]
    assert fake.calls == []
    assert snapshot(store) == before


def test_yahoo_is_probed_once_for_many_tickers(store):
    bars = market("AAA", "BBB", "CCC")
    stock(store, bars)
    probes = []
    update_store(store, download=FakeYahoo(bars), reachable=lambda: probes.append(1) or True)
    assert len(probes) == 1


def test_one_failing_ticker_does_not_stop_the_others(store):
    bars = market("AAA", "BAD", "GONE", "ZZZ")
    stock(store, bars)
    bad = bars["BAD"].copy()
    bad.iloc[70, bad.columns.get_loc("low")] = -1.0  # a new bar the import checks refuse
    bars["BAD"] = bad
    del bars["GONE"]  # delisted: Yahoo answers with nothing
    before = snapshot(store)
    report = update_store(store, **online(FakeYahoo(bars)))
    by = {r.ticker: r for r in report.results}
    assert [by[t].status for t in ("AAA", "BAD", "GONE", "ZZZ")] == [UPDATED, FAILED, FAILED, UPDATED]
    assert by["AAA"].added == by["ZZZ"].added == 20
    assert by["BAD"].reason == "invalid_data" and "price <= 0" in by["BAD"].message
    assert by["GONE"].reason == "no_data" and by["GONE"].message.startswith("GONE: ")
    assert not report.ok
    after = snapshot(store)
    assert after["BAD.parquet"] == before["BAD.parquet"] and after["GONE.parquet"] == before["GONE.parquet"]


def test_a_revision_in_the_overlap_is_reported_and_stored(store):
    bars = market("AAA")
    stock(store, bars)
    revised = bars["AAA"].copy()
    # The last stored bar was fetched before the close (its volume grows), and the day before
    # had its close corrected by a cent (within the adjustment check's tolerance: merged).
    last, prev = revised.index[STORED - 1], revised.index[STORED - 2]
    revised.loc[last, "volume"] += 12345.0
    revised.loc[prev, "close"] *= 1 + 2e-5
    revised.loc[prev, "high"] = max(revised.loc[prev, "high"], revised.loc[prev, "close"])
    bars["AAA"] = revised
    [result] = update_store(store, **online(FakeYahoo(bars))).results
    assert (result.status, result.added, result.revised) == (UPDATED, 20, 2)
    assert result.revised_from == _day(prev) and result.readjusted is False
    stored = store.read("AAA")
    assert stored.loc[last, "volume"] == revised.loc[last, "volume"]
    assert stored.loc[prev, "close"] == revised.loc[prev, "close"]


def test_a_re_adjusted_history_replaces_the_stored_one_and_says_so(store):
    """A dividend rescales Yahoo's whole adjusted history: stitching would fake a jump."""
    bars = market("AAA")
    stock(store, bars)
    adjusted = bars["AAA"].copy()
    adjusted.loc[:, ["open", "high", "low", "close"]] *= 0.98
    bars["AAA"] = adjusted
    [result] = update_store(store, **online(FakeYahoo(bars))).results
    assert (result.status, result.added, result.revised, result.readjusted) == (UPDATED, 20, STORED, True)
    assert result.revised_from == _day(adjusted.index[0]) and result.warnings == ()
    np.testing.assert_allclose(store.read("AAA")["close"], adjusted["close"], rtol=0, atol=0)


def test_a_re_adjusted_history_missing_stored_bars_is_refused(store):
    bars = market("AAA")
    stock(store, bars)
    adjusted = bars["AAA"].copy()
    adjusted.loc[:, ["open", "high", "low", "close"]] *= 0.98
    bars["AAA"] = adjusted.drop(adjusted.index[[5, 6]])  # Yahoo lost two stored days
    before = snapshot(store)
    [result] = update_store(store, **online(FakeYahoo(bars))).results
    assert (result.status, result.reason) == (FAILED, "would_drop_bars")
    assert "2 stored bars" in result.message and _day(adjusted.index[5]) in result.message
    assert snapshot(store) == before


def test_new_bars_go_through_the_data_checks_and_old_ones_are_not_reported_again(store):
    bars = market("AAA")
    jumped = bars["AAA"].copy()
    prices = ["open", "high", "low", "close"]
    jumped.loc[jumped.index[30]:, prices] *= 2.0  # an old unadjusted split, already stored
    jumped.loc[jumped.index[STORED]:, prices] *= 0.5  # a new one, in the first new bar
    bars["AAA"] = jumped
    stock(store, bars)
    [result] = update_store(store, **online(FakeYahoo(bars))).results
    assert result.status == UPDATED
    [warning] = result.warnings
    assert "1 one-day close move" in warning and _day(jumped.index[STORED]) in warning
    assert _day(jumped.index[30]) not in warning


def test_bars_imported_from_a_file_are_skipped_never_mixed(store):
    bars = market("AAA", "FILE")
    stock(store, {"AAA": bars["AAA"]})
    store.write(bars["FILE"].iloc[:STORED], "FILE", source="file:file.csv")
    before = snapshot(store)["FILE.parquet"]
    fake = FakeYahoo(bars)
    report = update_store(store, **online(fake))
    by = {r.ticker: r for r in report.results}
    assert (by["FILE"].status, by["FILE"].reason) == (SKIPPED, "mixed_sources")
    assert "--replace" in by["FILE"].message and report.ok
    assert [c[0] for c in fake.calls] == ["AAA"]
    assert snapshot(store)["FILE.parquet"] == before


def test_named_tickers_only_and_one_not_stored_fails(store):
    bars = market("AAA", "BBB")
    stock(store, bars)
    fake = FakeYahoo(bars)
    report = update_store(store, ["bbb", "NOPE", "BBB"], **online(fake))
    assert [(r.ticker, r.status) for r in report.results] == [("BBB", UPDATED), ("NOPE", FAILED)]
    assert "fcast data fetch NOPE" in report.results[1].message
    assert [c[0] for c in fake.calls] == ["BBB"]  # bbb and BBB: asked once


def test_universe_refreshes_its_stored_tickers_and_counts_members_without_bars(store, tmp_path):
    from forecast.data.universe_import import import_universe

    rows = [(2000, "AAA"), (2000, "BBB"), (2000, "CCC"), (2000, "ZZZ")]
    pd.DataFrame({"year": [y for y, _ in rows], "ticker": [t for _, t in rows]}).to_csv(
        tmp_path / "members.csv", index=False)
    bars = market("AAA", "BBB", "CCC", "OUT")
    long = pd.concat([bars[t].iloc[:STORED].reset_index().assign(ticker=t) for t in ("AAA", "BBB", "CCC")])
    long.to_csv(tmp_path / "bars.csv", index=False)
    import_universe("u", tmp_path / "bars.csv", tmp_path / "members.csv")
    stock(store, {t: bars[t] for t in ("AAA", "BBB", "OUT")})  # now Yahoo's; CCC still the file's
    fake = FakeYahoo(bars)
    report = update_store(store, universe="u", **online(fake))
    assert [(r.ticker, r.status) for r in report.results] == [("AAA", UPDATED), ("BBB", UPDATED),
                                                              ("CCC", SKIPPED)]
    assert report.without_bars == ["ZZZ"] and report.universe == "u"
    assert {c[0] for c in fake.calls} == {"AAA", "BBB"}  # OUT is not a member
    with pytest.raises(ConfigError, match="not both"):
        update_store(store, ["AAA"], universe="u", **online(fake))
    with pytest.raises(ConfigError, match="unknown universe"):
        update_store(store, universe="nope", **online(fake))


def test_a_held_ticker_lock_fails_that_ticker_in_one_line(store, monkeypatch):
    bars = market("AAA", "BBB")
    stock(store, bars)
    before = snapshot(store)
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")
    with FileLock(store.lock_path("AAA")):  # another fcast process writing AAA
        report = update_store(store, **online(FakeYahoo(bars)))
    aaa, bbb = report.results
    assert (aaa.status, aaa.reason) == (FAILED, "locked") and "another fcast process" in aaa.message
    assert "\n" not in aaa.message and bbb.status == UPDATED
    assert snapshot(store)["AAA.parquet"] == before["AAA.parquet"]


def test_rate_limiting_stops_the_run_and_keeps_the_rest(store):
    bars = market("AAA", "BBB", "CCC")
    stock(store, bars)
    fake = FakeYahoo(bars)

    def limited(ticker, start, end):
        if ticker == "BBB":
            raise RuntimeError("Too Many Requests. Rate limited.")
        return fake(ticker, start, end)

    report = update_store(store, download=limited, reachable=lambda: True, sleep=lambda s: None)
    assert [r.status for r in report.results] == [UPDATED, FAILED, KEPT]
    assert report.stopped == "Yahoo Finance is rate limiting requests"
    assert [c[0] for c in fake.calls] == ["AAA"]


def test_a_network_lost_half_way_stops_the_run(store):
    bars = market("AAA", "BBB", "CCC")
    stock(store, bars)
    fake = FakeYahoo(bars)
    answers = iter([True, False])  # reachable at the start, gone after BBB's failure

    def flaky(ticker, start, end):
        if ticker == "BBB":
            raise OSError("Connection reset by peer")
        return fake(ticker, start, end)

    report = update_store(store, download=flaky, reachable=lambda: next(answers), sleep=lambda s: None)
    assert [r.status for r in report.results] == [UPDATED, FAILED, KEPT]
    assert report.stopped == "Yahoo Finance became unreachable" and not report.ok


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def yahoo_online(monkeypatch):
    """Yahoo reachable, serving the market it is given, for the CLI (in-process)."""
    def serve(bars):
        fake = FakeYahoo(bars)
        monkeypatch.setattr(yahoo, "yahoo_reachable", lambda *a, **k: True)
        monkeypatch.setattr(yahoo, "_download", fake)
        return fake
    return serve


def test_cli_offline_is_one_line_exit_1_and_the_store_untouched(capsys, store):
    stock(store, market("AAA", "BBB"))
    before = snapshot(store)
    code, out, err = run(capsys, "data", "update")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Yahoo Finance is unreachable" in err and "2 tickers" in err
    assert snapshot(store) == before


def test_cli_reports_the_changed_tickers_and_a_summary(capsys, store, yahoo_online):
    bars = market("AAA", "BBB")
    stock(store, {"AAA": bars["AAA"]})
    stock(store, {"BBB": bars["BBB"]}, n=80)
    yahoo_online(bars)
    code, out, err = run(capsys, "data", "update")
    assert code == 0, err
    assert "AAA" in out and "BBB" not in out.split("updated 1")[0]  # only the changed row
    assert f"{_day(bars['AAA'].index[STORED])} to {_day(bars['AAA'].index[-1])}" in out
    assert "updated 1 of 2 tickers (+20 bars, 0 revised); 1 up to date" in out


def test_cli_json_and_a_failure_exit_1(capsys, store, yahoo_online):
    bars = market("AAA", "GONE")
    stock(store, bars)
    del bars["GONE"]
    yahoo_online(bars)
    code, out, _ = run(capsys, "data", "update", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["counts"]["updated"] == 1
    assert [(t["ticker"], t["status"], t["added"]) for t in doc["tickers"]] == [
        ("AAA", "updated", 20), ("GONE", "failed", 0)]
    code, out, err = run(capsys, "data", "update", "AAA", "GONE")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: GONE: ")


def test_cli_tickers_and_universe_together_is_one_line(capsys):
    code, _, err = run(capsys, "data", "update", "AAA", "--universe", "dow30")
    assert code == 1 and err.count("\n") == 1 and "not both" in err


def test_cli_empty_store_has_nothing_to_update(capsys):
    code, out, _ = run(capsys, "data", "update")
    assert code == 0 and "nothing to update" in out


def test_cli_universe_without_stored_members_says_how_many(capsys):
    code, out, _ = run(capsys, "data", "update", "--universe", "dow30")
    assert code == 0 and "30 members of dow30 without stored bars" in out
    assert "universe dow30 has no tickers in the store: nothing to update" in out
