"""`universe = "NAME"` in an experiment spec: a universe imported with `fcast universe import`
(synthetic, into the test's home), resolved as `fcast portfolio --universe NAME` resolves it,
its portfolios trading members only."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.data.synthetic import random_walk_bars
from forecast.data.universe_import import import_universe
from forecast.errors import ConfigError
from forecast.experiment import ExperimentSpec, run_experiment

TICKERS = ("AAA", "BBB", "CCC", "DDD")
# Forecasts start in April 2003: BBB leaves for six weeks, AAA joins in mid-June.
MEMBERSHIP = ("ticker,start,end\nBBB,2001-01-01,2003-05-31\nBBB,2003-07-15,\n"
              "AAA,2003-06-16,\nCCC,2001-01-01,\nDDD,2001-01-01,\n")
SPEC = """\
name = "stored"
universe = "mine"
[walk_forward]
test_days = 100
[[models]]
name = "logreg"
[[portfolios]]
name = "top-k"
params = { k = 2 }
[costs]
commission = [0.001]
"""


def member(day, ticker) -> bool:
    """MEMBERSHIP, written again by hand (the independent check)."""
    if ticker == "BBB":
        return not (pd.Timestamp("2003-06-01") <= day <= pd.Timestamp("2003-07-14"))
    return ticker != "AAA" or day >= pd.Timestamp("2003-06-16")


def non_member_weights(weights: pd.DataFrame) -> list:
    return [(d, t) for d, row in weights.iterrows() for t, w in row.items()
            if abs(w) > 1e-12 and not member(d, t)]


def bars_file(folder) -> str:
    frames = []
    for i, ticker in enumerate(TICKERS):
        one = random_walk_bars(700, seed=i, start="2001-01-02").reset_index()
        one.insert(0, "ticker", ticker)
        frames.append(one)
    path = folder / "bars.parquet"
    pd.concat(frames).to_parquet(path, index=False)
    return path


def imported(folder, home, name="mine", membership=MEMBERSHIP) -> None:
    path = None
    if membership is not None:
        path = folder / f"{name}.csv"
        path.write_text(membership)
    import_universe(name, bars_file(folder), path, home=home)


# --- the spec ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_stored_universe_resolves_as_load_universe_does(tmp_path):
    from forecast.portfolio.universe import load_universe

    imported(tmp_path, tmp_path / "home")
    spec = ExperimentSpec.from_toml(_spec(tmp_path), home=tmp_path / "home")
    assert spec.tickers == tuple(load_universe("mine", home=tmp_path / "home").tickers) == TICKERS
    assert (spec.universe, spec.membership) == ("mine", "intervals")
    assert spec.to_dict()["universe"] == {"name": "mine", "membership": "intervals"}
    # members some day in the span, as load_universe: AAA joins only in June 2003
    early = ExperimentSpec.from_toml(_spec(tmp_path, 'end = "2003-05-01"\n'), home=tmp_path / "home")
    assert early.tickers == tuple(load_universe("mine", home=tmp_path / "home", end="2003-05-01").tickers)
    assert early.tickers == ("BBB", "CCC", "DDD")


def test_specs_without_a_stored_universe_record_what_they_did():
    for data in ({"tickers": ["KO", "MSFT"]}, {"universe": "dow30"}):
        spec = ExperimentSpec.from_dict({**data, "models": ["logreg"]})
        assert spec.universe is None and "universe" not in spec.to_dict()


def test_an_unknown_universe_fails_in_one_line_naming_the_known_ones(tmp_path):
    imported(tmp_path, tmp_path / "home")
    with pytest.raises(ConfigError) as caught:
        ExperimentSpec.from_dict({"universe": "nope", "models": ["logreg"]}, home=tmp_path / "home")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("unknown universe 'nope' (known: dow30, bundled, mine)")


@pytest.mark.slow
def test_the_cli_says_an_unknown_universe_in_one_line(tmp_path, capsys, isolated_home):
    from cli_run import run

    imported(tmp_path, isolated_home)
    (tmp_path / "bad.toml").write_text(SPEC.replace('"mine"', '"nope"'))
    code, out, err = run(capsys, "experiment", "run", tmp_path / "bad.toml")
    assert code != 0 and out == ""
    assert err.strip().splitlines() == ["error: unknown universe 'nope' (known: dow30, bundled, mine); "
                                        "import one with `fcast universe import`"]


def test_per_ticker_strategies_are_refused_on_a_point_in_time_universe(tmp_path):
    imported(tmp_path, tmp_path / "home")
    with pytest.raises(ConfigError, match="only \\[\\[portfolios\\]\\] follow"):
        ExperimentSpec.from_toml(_spec(tmp_path, tables='[[strategies]]\nname = "long-only"\n'),
                                 home=tmp_path / "home")


@pytest.mark.slow
def test_the_cache_key_differs_when_the_membership_differs(tmp_path):
    from forecast.cache import prediction_key
    from forecast.portfolio.universe import Universe, load_universe

    home = tmp_path / "home"
    imported(tmp_path, home)
    imported(tmp_path, home, "same", MEMBERSHIP)
    imported(tmp_path, home, "other", MEMBERSHIP.replace("AAA,2003-06-16", "AAA,2003-06-17"))
    imported(tmp_path, home, "plain", None)
    wf = {"test_days": 100}

    def key(name):
        universe = load_universe(name, home=home)
        assert universe.tickers == list(TICKERS)  # the same bars: only the membership differs
        return prediction_key(universe, "logreg", universe=True, **wf)[0]

    assert key("mine") == key("same") != key("other")
    # without a membership the key is the one a list of the same tickers always had
    bare = Universe.from_bars(load_universe("mine", home=home).bars)
    assert key("plain") == prediction_key(bare, "logreg", universe=True, **wf)[0] != key("mine")


# --- running it -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The spec run by `fcast experiment run`, and `fcast portfolio --universe mine` with the
    same settings, on one home."""
    from cli_run import run

    root = tmp_path_factory.mktemp("experiment_universe")
    imported(root, root / "home")
    spec = _spec(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FCAST_OFFLINE", "1")
        mp.setenv("FCAST_HOME", str(root / "home"))
        capsys = _NoCapture()
        assert run(capsys, "experiment", "run", spec, "--output", root / "exp")[0] == 0
        assert run(capsys, "portfolio", "--universe", "mine", "--model", "logreg", "--strategy", "top-k",
                   "--param", "k=2", "--test-days", "100", "--commission", "0.001",
                   "--output", root / "pf")[0] == 0
    return root


class _NoCapture:
    """`cli_run.run` wants a capsys; a module fixture has none (the output is not read)."""

    def readouterr(self):
        return type("Captured", (), {"out": "", "err": ""})()


@pytest.mark.slow
def test_the_experiment_row_writes_the_files_fcast_portfolio_writes(ran):
    import json

    record = json.loads((ran / "exp" / "experiment.json").read_text())
    assert record["spec"]["universe"] == {"name": "mine", "membership": "intervals"}
    (row,) = record["rows"]
    assert row["status"] == "ok" and row["portfolio"]["tickers"] == list(TICKERS)
    folder = ran / "exp" / row["run"]
    names = ("metrics.json", "equity.csv", "weights.csv", "trades.csv", "predictions.csv", "ic.csv",
             "legs.csv")
    for name in names:
        assert (folder / name).read_bytes() == (ran / "pf" / name).read_bytes(), name
    assert row["total_return"] == json.loads((ran / "pf" / "metrics.json").read_text())["strategy"][
        "total_return"]


@pytest.mark.slow
def test_no_non_member_ever_holds_a_weight_in_the_experiment(ran):
    import json

    (row,) = json.loads((ran / "exp" / "experiment.json").read_text())["rows"]
    weights = pd.read_csv(ran / "exp" / row["run"] / "weights.csv", index_col="date", parse_dates=True)
    held = [(d, t) for d, r in weights.iterrows() for t, w in r.items() if abs(w) > 1e-12]
    assert held and non_member_weights(weights) == []
    assert {"AAA", "BBB"} <= {t for _, t in held}  # both traded, each while a member


@pytest.mark.slow
def test_the_check_fails_on_the_same_tickers_without_membership(tmp_path, isolated_home):
    """The same four tickers listed by hand (no membership) hold non-member weights: the
    check above can fail."""
    imported(tmp_path, isolated_home)
    data = _data(tmp_path)
    del data["universe"]
    data["tickers"] = list(TICKERS)
    result = run_experiment(ExperimentSpec.from_dict(data), home=isolated_home, source="store",
                            cache=False, output=tmp_path / "out")
    (row,) = result.rows
    weights = pd.read_csv(tmp_path / "out" / row["run"] / "weights.csv", index_col="date", parse_dates=True)
    assert non_member_weights(weights)


@pytest.mark.slow
def test_a_second_run_trains_nothing(ran, monkeypatch):
    from forecast.evaluate import pooled

    monkeypatch.setattr(pooled, "portfolio_walk_forward", lambda *a, **k: pytest.fail("trained again"))
    spec = ExperimentSpec.from_toml(ran / "spec.toml", home=ran / "home")
    result = run_experiment(spec, home=ran / "home")
    assert result.cache["hits"] == 1 and result.rows[0]["status"] == "ok"


def _data(folder) -> dict:
    from forecast.tomlfile import read_toml

    return dict(read_toml(_spec(folder), "experiment spec"))


def _spec(folder, top: str = "", tables: str = ""):
    """SPEC in `folder`, with `top` lines before its tables and `tables` after them."""
    path = folder / "spec.toml"
    head, rest = SPEC.split("[walk_forward]")
    path.write_text(head + top + "[walk_forward]" + rest + tables)
    return path
