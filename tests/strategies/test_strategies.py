"""Built-in strategies' targets, the loader and parameter parsing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import strategies
from forecast.backtest import simulate
from forecast.data.synthetic import random_walk_bars
from forecast.errors import ConfigError
from strategies import (
    STRATEGIES,
    LongOnly,
    PredictionStrategy,
    VolTargeted,
    list_strategies,
    load_strategy,
    parse_params,
    strategy_label,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "custom_strategy.py"


@pytest.fixture(scope="module")
def bars():
    return random_walk_bars(400, seed=11)


@pytest.fixture(scope="module")
def preds(bars):
    rng = np.random.default_rng(4)
    index = bars.index[250:390]
    return pd.DataFrame({"prob_up": rng.uniform(0, 1, len(index)), "fold": 0}, index=index)


def targets(bars, preds, strategy, params=None) -> pd.Series:
    cls = load_strategy(strategy)  # names are resolved above the engine
    return simulate(bars, preds, cls, params).predictions.set_index("date")["target"]


def independent_garch(returns: np.ndarray) -> tuple[float, float, float, float, float]:
    """(mu, omega, alpha, beta, next_var) from `arch` itself and a hand-written recursion.

    The convention documented in forecast.features.garch: percent returns, a constant-mean
    normal GARCH(1,1), the recursion started from the unconditional variance.
    """
    from arch import arch_model

    r = 100.0 * np.asarray(returns, dtype=float)
    fit = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal").fit(
        disp="off", show_warning=False
    )
    mu, omega, alpha, beta = (float(fit.params[k]) for k in ("mu", "omega", "alpha[1]", "beta[1]"))
    var = omega / (1.0 - alpha - beta) if alpha + beta < 1.0 else float(np.var(r - mu))
    for x in r:
        var = omega + alpha * (x - mu) ** 2 + beta * var
    return mu, omega, alpha, beta, var


def test_threshold_strategies_map_probabilities(bars, preds):
    p = preds["prob_up"]
    assert (targets(bars, preds, "long-only", {"threshold": 0.6}) == np.where(p > 0.6, 1.0, 0.0)).all()
    expected = np.select([p > 0.55, p < 0.45], [1.0, -1.0], 0.0)
    assert (targets(bars, preds, "long-short") == expected).all()
    assert (targets(bars, preds, "buy-and-hold") == 1.0).all()


def test_probability_sized_grows_with_confidence_and_is_capped(bars, preds):
    p = preds["prob_up"]
    got = targets(bars, preds, "probability-sized", {"cap": 0.8})
    np.testing.assert_allclose(got, np.clip(2.0 * (2 * p - 1), 0.0, 0.8))
    got = targets(bars, preds, "probability-sized", {"gain": 1.0, "allow_short": True})
    np.testing.assert_allclose(got, 2 * p - 1)


def test_vol_targeted_realized_matches_trailing_rolling_std(bars, preds):
    got = targets(bars, preds, "vol-targeted", {"vol_window": 15, "target_vol": 0.08})
    # Trailing window ends at the decision bar: no future return enters it.
    vol = np.log(bars["close"]).diff().rolling(15).std() * math.sqrt(252)
    expected = np.where(preds["prob_up"] > 0.5, np.minimum(1.0, 0.08 / vol.loc[preds.index]), 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_vol_targeted_garch_uses_returns_up_to_the_bar(bars):
    preds = pd.DataFrame({"prob_up": 0.9}, index=bars.index[300:330])
    got = targets(bars, preds, "vol-targeted", {"method": "garch", "garch_window": 200, "refit_every": 10})
    returns = np.log(bars["close"]).diff()
    for offset in (0, 10, 20):  # the refit bars: an independent fit on the same window
        t = 300 + offset
        *_, var = independent_garch(returns.iloc[t - 199 : t + 1].to_numpy())
        assert got.iloc[offset] == pytest.approx(min(1.0, 0.10 / (math.sqrt(var * 252) / 100)), rel=1e-9)
    # Between refits the variance rolls forward with fixed parameters, one new return per bar.
    mu, omega, alpha, beta, var = independent_garch(returns.iloc[101:301].to_numpy())
    var = omega + alpha * (100 * returns.iloc[301] - mu) ** 2 + beta * var
    assert got.iloc[1] == pytest.approx(min(1.0, 0.10 / (math.sqrt(var * 252) / 100)), rel=1e-9)


def test_custom_strategy_from_file_runs(bars, preds):
    cls = load_strategy(f"{FIXTURE}:Contrarian")
    assert issubclass(cls, PredictionStrategy)
    spec = f"{FIXTURE}:Contrarian"
    r = simulate(bars, preds, cls, ["threshold=0.4", "size=0.5"], name=strategy_label(spec, cls))
    expected = np.where(preds["prob_up"] < 0.4, 0.5, 0.0)
    assert (r.predictions["target"].to_numpy() == expected).all()
    assert r.metrics["strategy"]["n_trades"] > 0 and r.strategy.endswith(":Contrarian")


def test_plain_backtrader_strategy_runs(bars, preds):
    r = simulate(bars, preds, load_strategy(f"{FIXTURE}:PlainStrategy"), {"threshold": 0.7})
    assert r.predictions["target"].isna().all()  # a plain strategy records no targets
    assert len(r.fills) > 0 and (r.fills["size"].abs() == 10).all()
    assert r.fills["date"].min() > preds.index[0]


def test_load_by_name_and_module():
    assert load_strategy("long-only") is LongOnly
    assert load_strategy("strategies.vol_targeted:VolTargeted") is VolTargeted
    assert load_strategy(LongOnly) is LongOnly


@pytest.mark.parametrize(
    "spec, message",
    [
        ("moon-shot", "unknown strategy"),
        ("no_such_module_xyz:Thing", "cannot import strategy module"),
        ("strategies.builtin:Nope", "has no class 'Nope'"),
        (f"{FIXTURE}:NotAStrategy", "not a backtrader Strategy"),
        ("missing/dir/strat.py:X", "not found"),
        (42, "strategy must be"),
    ],
)
def test_bad_specs_fail_with_one_line(spec, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_strategy(spec)
    assert "\n" not in str(info.value)


def test_file_with_syntax_error_fails_with_one_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import backtrader as bt\nclass S(bt.Strategy)\n    pass\n")
    with pytest.raises(ConfigError, match="cannot import strategy file") as info:
        load_strategy(f"{broken}:S")
    assert "\n" not in str(info.value) and "SyntaxError" in str(info.value)


def test_parse_params_types_from_defaults():
    cls = load_strategy("vol-targeted")
    got = parse_params(cls, ["target_vol=0.2", "vol_window=30", "allow_short=yes", "method=garch"])
    assert got == {"target_vol": 0.2, "vol_window": 30, "allow_short": True, "method": "garch"}
    assert isinstance(got["vol_window"], int) and isinstance(got["target_vol"], float)
    assert parse_params(cls, {"target_vol": 0.3}) == {"target_vol": 0.3}


@pytest.mark.parametrize(
    "items, message",
    [
        (["vol_window=2.5"], "takes int"),
        (["target_vol=high"], "takes float"),
        (["allow_short=maybe"], "takes bool"),
        (["leverage=2"], "no parameter 'leverage'"),
        (["target_vol"], "key=value"),
    ],
)
def test_parse_params_rejects_bad_items(items, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_params(VolTargeted, items)
    assert "\n" not in str(info.value)


def test_list_strategies_names_classes_and_defaults():
    rows = {row["name"]: row for row in list_strategies()}
    assert set(rows) == {"long-only", "long-short", "probability-sized", "vol-targeted", "buy-and-hold"}
    assert rows["long-only"]["params"]["threshold"] == 0.5
    assert rows["long-short"]["params"]["upper"] == 0.55 and rows["long-short"]["params"]["lower"] == 0.45
    assert all(row["class"] is STRATEGIES[name] for name, row in rows.items())
    assert set(strategies.__all__) >= {
        "LongOnly",
        "LongShort",
        "ProbabilitySized",
        "VolTargeted",
        "BuyAndHold",
    }


class Peeking(PredictionStrategy):
    """Deliberately leaky: trades on tomorrow's close (the preloaded feed allows it)."""

    def target_exposure(self) -> float:
        return 1.0 if self.data.close[1] > self.data.close[0] else 0.0


def test_a_peeking_strategy_is_caught_by_the_shock_check(bars, preds):
    """The check in test_backtest: rewriting the future must not move past decisions."""
    k = preds.index[60]
    shocked = bars.copy()
    # Reverse the move from day k to day k + 1: only a strategy that reads it reacts.
    went_up = bars["close"].shift(-1).loc[k] > bars.at[k, "close"]
    shocked.loc[shocked.index > k, ["open", "high", "low", "close"]] *= 0.5 if went_up else 2.0
    honest = [targets(b, preds, LongOnly).loc[:k] for b in (bars, shocked)]
    leaky = [targets(b, preds, Peeking).loc[:k] for b in (bars, shocked)]
    pd.testing.assert_series_equal(*honest)
    assert not leaky[0].equals(leaky[1])


def test_results_name_the_strategy_as_the_user_gave_it(bars, preds):
    assert strategy_label("long-only", LongOnly) == "long-only"
    assert strategy_label(LongOnly, LongOnly) == "long-only"  # a built-in class: its CLI name
    spec = f"{FIXTURE}:Contrarian"
    assert strategy_label(spec, load_strategy(spec)) == spec
    assert strategy_label(Peeking, Peeking) == "Peeking"
    # The engine only knows classes: without a name, the result carries the class's.
    assert simulate(bars, preds, LongOnly).strategy == "LongOnly"
