"""The GRU, TCN and Transformer networks' own properties (the shared contract, learnability
and seeding are in test_models.py; the walk-forward leakage checks in test_leakage.py).

A forecast for decision t is made from a window whose last row is bar t, so a network may
mix the window's rows in any order without reading a later bar: within-window causality is
the TCN's design, not the leak guard. It is still tested here, with a planted non-causal
("same"-padded) TCN that the check catches; test_leakage.py shows when it would matter.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.models.backend import keras, seed_everything
from forecast.models.tcn import TCNForecaster
from forecast.models.transformer import TransformerForecaster, sinusoidal_positions

pytestmark = [pytest.mark.keras]

WINDOW, N_FEATURES = 10, 2


class SamePaddedTCN(TCNForecaster):
    """Planted: "same" padding lets output step i read rows after i."""

    _padding = "same"


def per_step_outputs(model: TCNForecaster):
    """The last residual block's output at every window step (the forecaster keeps only the
    last step), untrained but seeded."""
    k = keras()
    seed_everything(0)
    inputs = k.Input(shape=(WINDOW, N_FEATURES))
    steps = k.Model(inputs, model._blocks(k, inputs, "float32"))
    return lambda x: np.asarray(steps(x.astype(np.float32)))


def later_rows_changed(x: np.ndarray, after: int, seed: int = 1) -> np.ndarray:
    out = x.copy()
    out[:, after + 1:] += np.random.default_rng(seed).normal(0, 3, out[:, after + 1:].shape)
    return out


def moves_past_steps(model: TCNForecaster) -> bool:
    """Whether changing rows after step i moves any output at steps <= i (for every i), and
    asserts that the change does move the output at the changed rows."""
    run = per_step_outputs(model)
    x = np.random.default_rng(0).normal(size=(4, WINDOW, N_FEATURES))
    base = run(x)
    moved = False
    for i in range(WINDOW - 1):
        other = run(later_rows_changed(x, i))
        assert not np.allclose(other[:, i + 1:], base[:, i + 1:])  # the change reaches the network
        moved |= not np.allclose(other[:, : i + 1], base[:, : i + 1], rtol=0, atol=1e-6)
    return moved


@pytest.mark.slow
def test_tcn_output_at_a_step_reads_no_later_row():
    assert not moves_past_steps(TCNForecaster(filters=8, kernel_size=3, dilations=(1, 2), dropout=0.0))


@pytest.mark.slow
def test_the_causality_check_catches_a_same_padded_tcn():
    assert moves_past_steps(SamePaddedTCN(filters=8, kernel_size=3, dilations=(1, 2), dropout=0.0))


@pytest.mark.slow
def test_tcn_last_step_reads_its_receptive_field_and_no_older_row():
    """kernel 2, dilations (1, 2), two convolutions a block: the last output reaches back
    1 + 1 + 2 + 2 = 6 rows, so it reads rows 3..9 of a 10-row window, not rows 0..2."""
    run = per_step_outputs(TCNForecaster(filters=8, kernel_size=2, dilations=(1, 2), dropout=0.0))
    x = np.random.default_rng(0).normal(size=(4, WINDOW, N_FEATURES))
    base = run(x)[:, -1]
    for row in range(WINDOW):
        other = x.copy()
        other[:, row] += 3.0
        changed = not np.allclose(run(other)[:, -1], base, rtol=0, atol=1e-6)
        assert changed == (row >= 3), f"row {row}"


def test_sinusoidal_positions_match_the_formula():
    table = sinusoidal_positions(5, 4)
    assert table.shape == (5, 4)
    # Columns 0/1 share frequency 1, columns 2/3 frequency 1/10000**(2/4) = 0.01.
    for pos in range(5):
        np.testing.assert_allclose(table[pos], [np.sin(pos), np.cos(pos), np.sin(pos / 100),
                                                np.cos(pos / 100)], rtol=0, atol=1e-12)


@pytest.mark.slow
def test_transformer_knows_row_order(monkeypatch):
    """Self-attention and a mean over rows alone ignore the order of the rows; with the
    position encoding, reversing a window changes P(up)."""
    k = keras()
    seed_everything(0)
    model = TransformerForecaster(d_model=8, heads=2, layers=1, ff_units=8, dropout=0.0, pooling="mean")
    net = model._build_network(k, (WINDOW, N_FEATURES), "float32")
    x = np.random.default_rng(0).normal(size=(4, WINDOW, N_FEATURES)).astype(np.float32)
    forward, backward = np.asarray(net(x)), np.asarray(net(x[:, ::-1].copy()))
    assert not np.allclose(forward, backward, rtol=0, atol=1e-6)
    # Without the position layer (planted: it adds nothing), the mean pooling is order-blind.
    position = next(layer for layer in net.layers if type(layer).__name__ == "SinusoidalPosition")
    monkeypatch.setattr(type(position), "call", lambda self, h: h)
    blind = model._build_network(k, (WINDOW, N_FEATURES), "float32")
    blind.set_weights(net.get_weights())
    np.testing.assert_allclose(np.asarray(blind(x)), np.asarray(blind(x[:, ::-1].copy())), rtol=1e-5)


@pytest.mark.slow
def test_transformer_mixed_precision_on_a_pretend_gpu(pretend_gpu):
    """float16 inside (the position layer casts its table to it), the float32 sigmoid out.
    The other networks use Keras's own layers only (the LSTM's test covers the policy)."""
    from forecast.models.registry import make_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, WINDOW, N_FEATURES))
    y = (X[:, -1, 0] > 0).astype(int)
    model = make_model("transformer", d_model=8, heads=2, layers=1, ff_units=8, epochs=1, batch_size=16,
                       device="gpu", mixed_precision=True).fit(X, y)
    position = next(layer for layer in model.model_.layers if type(layer).__name__ == "SinusoidalPosition")
    assert position.dtype_policy.name == "mixed_float16"
    assert model.model_.layers[-1].dtype_policy.name == "float32"
    p = model.predict_proba(X)
    assert p.dtype == np.float64 and np.isfinite(p).all()
