"""The portfolio prediction cache: a repeated universe-wide run trains nothing and gives the
same frame; the key follows every ticker's bars (never serving old predictions for new
data) and every setting; a damaged entry is reported and recomputed; homes do not mix."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forecast import cache as pcache
from forecast.cache import PredictionCache, prediction_key
from forecast.evaluate import pooled
from forecast.portfolio.universe import Universe, load_universe

WF = {"test_days": 126}


def universe_key(*args, **kwargs):
    return prediction_key(*args, universe=True, **kwargs)


@pytest.fixture(scope="module")
def base_universe():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        return load_universe(["KO", "MSFT", "AAPL"], source="bundled", start="2015-01-01")


@pytest.fixture
def universe(base_universe):
    """A private copy: tests edit bars freely."""
    return Universe(bars={t: b.copy() for t, b in base_universe.bars.items()},
                    calendar=base_universe.calendar.copy())


@pytest.fixture
def runs(count_calls):
    """A list that grows by one for every portfolio walk-forward actually run."""
    return count_calls(pooled, "portfolio_walk_forward")


def rebuilt(bars: dict) -> Universe:
    return Universe.from_bars(bars)


def with_close(universe: Universe, ticker: str, pos: int, factor: float = 1.001) -> Universe:
    bars = {t: b.copy() for t, b in universe.bars.items()}
    b = bars[ticker]
    b.iloc[pos, b.columns.get_loc("close")] *= factor
    return rebuilt(bars)


def with_day_appended(universe: Universe, ticker: str) -> Universe:
    """One more bar for `ticker` only, after every ticker's last date."""
    bars = {t: b.copy() for t, b in universe.bars.items()}
    b = bars[ticker]
    extra = b.iloc[[-1]].copy()
    extra.index = pd.DatetimeIndex([b.index[-1] + pd.offsets.BDay(1)], name=b.index.name)
    grown = pd.concat([b, extra])
    grown.attrs = dict(b.attrs)
    bars[ticker] = grown
    return rebuilt(bars)


def assert_key_follows(key_fn, before: Universe, after: Universe, **kwargs) -> None:
    """The check every key test relies on: different inputs, different keys."""
    assert key_fn(before, "logreg", **kwargs)[0] != key_fn(after, "logreg", **kwargs)[0]


def test_hit_returns_the_identical_frame_and_runs_nothing(universe, runs, isolated_home):
    cache = PredictionCache(universe=True)
    assert cache.dir == isolated_home / "cache" / "portfolio"
    first = cache.walk_forward(universe, "logreg", **WF)
    assert cache.last == "miss" and len(runs) == 1
    assert len(list(cache.dir.glob("*.parquet"))) == 1
    second = cache.walk_forward(universe, "logreg", **WF)
    assert cache.last == "hit" and len(runs) == 1  # nothing trained
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert list(second.index.names) == ["date", "ticker"]
    assert list(second.index.dtypes) == list(first.index.dtypes)
    assert second.dtypes.to_dict() == first.dtypes.to_dict()
    assert second.attrs == first.attrs and second.attrs["tickers"] == "AAPL,KO,MSFT"
    # Another cache object on the same home reads the same entry.
    other = PredictionCache(universe=True)
    third = other.walk_forward(universe, "logreg", **WF)
    assert other.last == "hit" and len(runs) == 1
    pd.testing.assert_frame_equal(first, third, check_exact=True)


def test_round_trip_of_put_and_get(universe):
    frame = pooled.portfolio_walk_forward(universe, "logreg", **WF)
    key, fields = universe_key(universe, "logreg", **WF)
    cache = PredictionCache(universe=True)
    assert cache.get(key) is None  # a miss before
    cache.put(key, frame, fields)
    back = cache.get(key)
    pd.testing.assert_frame_equal(frame, back, check_exact=True)
    assert back.attrs == frame.attrs
    assert fields["tickers"] == ["KO", "MSFT", "AAPL"]
    assert fields["calendar"]["length"] == len(universe.calendar)


def test_key_changes_when_one_close_changes(universe):
    for ticker in universe.bars:
        for pos in (0, 300, -1):
            assert_key_follows(universe_key, universe, with_close(universe, ticker, pos), **WF)


@pytest.mark.slow
def test_new_data_for_one_ticker_is_a_miss_never_old_predictions(universe, runs):
    grown = with_day_appended(universe, "MSFT")
    assert grown.calendar[-1] > universe.calendar[-1]
    assert_key_follows(universe_key, universe, grown, **WF)
    cache = PredictionCache(universe=True)
    cache.walk_forward(universe, "logreg", **WF)
    cache.walk_forward(grown, "logreg", **WF)
    assert cache.last == "miss" and len(runs) == 2


def test_key_changes_with_the_tickers_and_their_order(universe):
    bars = universe.bars
    dropped = rebuilt({t: bars[t] for t in ("KO", "MSFT")})
    reordered = rebuilt({t: bars[t] for t in ("AAPL", "KO", "MSFT")})
    assert_key_follows(universe_key, universe, dropped, **WF)
    assert_key_follows(universe_key, universe, reordered, **WF)
    # A removed day in one ticker.
    shorter = {t: b.copy() for t, b in bars.items()}
    shorter["KO"] = shorter["KO"].drop(shorter["KO"].index[400])
    assert_key_follows(universe_key, universe, rebuilt(shorter), **WF)
    # The same ticker under another name is another universe.
    renamed = {("COKE" if t == "KO" else t): b for t, b in bars.items()}
    assert_key_follows(universe_key, universe, rebuilt(renamed), **WF)


@pytest.mark.parametrize("change", [
    {"target": "beats-median"},
    {"pooled": False},
    {"seed": 1},
    {"model_params": {"C": 0.5}},
    {"window": 10},
    {"retrain_every": 21},
    {"test_days": 100},
    {"embargo": 3},
    {"min_train": 200},
    {"train_window": 400},
    {"spec": {"rsi": False}},
])
def test_key_changes_with_each_setting(universe, change):
    base = universe_key(universe, "logreg", **WF)[0]
    assert universe_key(universe, "logreg", **{**WF, **change})[0] != base


def test_key_changes_with_the_model(universe):
    base = universe_key(universe, "logreg", **WF)[0]
    assert universe_key(universe, "gbm", **WF)[0] != base
    # An estimator object: its class and full parameters are keyed.
    from sklearn.linear_model import LogisticRegression

    one = universe_key(universe, LogisticRegression(C=1.0), **WF)[0]
    assert one != base and one != universe_key(universe, LogisticRegression(C=2.0), **WF)[0]


def test_defaults_and_progress_do_not_change_the_key(universe):
    from forecast.features.spec import as_spec

    base, fields = universe_key(universe, **WF)
    explicit = dict(pooled=True, target="direction", model_params=None, spec=None, window=20,
                    retrain_every=63, train_window=None, min_train=252, embargo=None, seed=0)
    assert universe_key(universe, "logreg", **WF, **explicit)[0] == base
    assert universe_key(universe, "logreg", **WF, embargo=1)[0] == base  # the filled default
    assert universe_key(universe, "logreg", **WF, spec=as_spec(None).to_dict())[0] == base
    assert universe_key(universe, "logreg", **WF, progress=lambda i, n: None)[0] == base
    assert "progress" not in fields and fields["schedule"]["embargo"] == 1
    # A copy of the same bars is the same key: the key hashes content, not identity.
    copy = Universe(bars={t: b.copy() for t, b in universe.bars.items()}, calendar=universe.calendar.copy())
    assert universe_key(copy, "logreg", **WF)[0] == base


def test_a_weakened_key_is_caught(universe, runs, monkeypatch):
    """A key that ignored KO's bars would serve stale predictions for a changed KO bar; the
    check used above fails on it (so the key tests can fail)."""
    real = pcache.bars_fingerprint

    def ignores_ko(bars):
        return "constant" if bars.attrs.get("ticker") == "KO" else real(bars)

    monkeypatch.setattr(pcache, "bars_fingerprint", ignores_ko)
    changed = with_close(universe, "KO", -5)
    with pytest.raises(AssertionError):
        assert_key_follows(universe_key, universe, changed, **WF)
    # What the check protects against: the changed bars hit the old entry.
    cache = PredictionCache(universe=True)
    old = cache.walk_forward(universe, "logreg", **WF)
    served = cache.walk_forward(changed, "logreg", **WF)
    assert cache.last == "hit" and len(runs) == 1
    pd.testing.assert_frame_equal(old, served)
    # The real key sends the same change to a fresh run.
    monkeypatch.setattr(pcache, "bars_fingerprint", real)
    assert_key_follows(universe_key, universe, changed, **WF)
    cache.walk_forward(changed, "logreg", **WF)
    assert cache.last == "miss" and len(runs) == 2


def test_a_tampered_entry_warns_and_is_a_miss(universe, runs, warnings):
    cache = PredictionCache(universe=True)
    first = cache.walk_forward(universe, "logreg", **WF)
    key = universe_key(universe, "logreg", **WF)[0]
    path = cache.path(key)
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.iloc[3, frame.columns.get_loc("prob_up")] = 0.987654321
    forged = pa.Table.from_pandas(frame, preserve_index=True)
    forged = forged.replace_schema_metadata({**forged.schema.metadata,
                                             cache.META_KEY: table.schema.metadata[cache.META_KEY]})
    pq.write_table(forged, path)

    assert cache.get(key) is None
    assert len(warnings) == 1 and "hash mismatch" in warnings[0] and path.name in warnings[0]
    again = cache.walk_forward(universe, "logreg", **WF)
    assert cache.last == "miss" and len(runs) == 2  # recomputed, the forged value unused
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert cache.walk_forward(universe, "logreg", **WF) is not None and cache.last == "hit"


def test_a_truncated_entry_warns_and_is_a_miss(universe, warnings):
    cache = PredictionCache(universe=True)
    cache.walk_forward(universe, "logreg", **WF)
    key = universe_key(universe, "logreg", **WF)[0]
    data = cache.path(key).read_bytes()
    cache.path(key).write_bytes(data[: len(data) // 2])
    assert cache.get(key) is None
    assert len(warnings) == 1 and "unusable" in warnings[0]


def test_another_home_does_not_see_the_entries(universe, runs, tmp_path):
    here = PredictionCache(tmp_path / "a", universe=True)
    there = PredictionCache(tmp_path / "b", universe=True)
    here.walk_forward(universe, "logreg", **WF)
    key = universe_key(universe, "logreg", **WF)[0]
    assert here.get(key) is not None and there.get(key) is None
    there.walk_forward(universe, "logreg", **WF)
    assert there.last == "miss" and len(runs) == 2


def test_bad_settings_raise_like_the_run(universe):
    from forecast.errors import ConfigError

    with pytest.raises(ConfigError):
        universe_key(universe, "logreg", target="nonsense")
    with pytest.raises(ConfigError):
        universe_key(universe, "logreg", pooled="yes")
    with pytest.raises(TypeError):
        universe_key(universe, "logreg", horizon=3)


def test_cache_list_and_clear_show_and_remove_portfolio_entries(universe, tmp_path, capsys):
    """`fcast cache list` shows a portfolio entry beside the per-ticker ones; `cache clear
    --ticker T` removes the portfolio entries T is part of, and only those."""
    from forecast.cli.app import main

    home = tmp_path / "home"
    cache = PredictionCache(home, universe=True)
    cache.walk_forward(universe, "logreg", **WF)
    (entry,) = cache.entries()
    assert entry["tickers"] == ["KO", "MSFT", "AAPL"] and entry["model"] == "logreg"
    assert entry["ticker"] == "3 tickers (direction)"
    span = (str(universe.calendar[0].date()), str(universe.calendar[-1].date()))
    assert (entry["start"], entry["end"]) == span
    assert main(["--home", str(home), "cache", "list"]) == 0
    listed = capsys.readouterr().out
    assert "the prediction cache is empty" in listed and "3 tickers (direction)" in listed
    assert main(["--home", str(home), "cache", "clear", "--ticker", "IBM", "--yes"]) == 0
    assert "deleted 0 entries" in capsys.readouterr().out and len(cache.entries()) == 1
    assert main(["--home", str(home), "cache", "clear", "--ticker", "msft", "--yes"]) == 0
    assert "deleted 1 entry (" in capsys.readouterr().out and cache.entries() == []
