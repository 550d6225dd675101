"""The Qlib-style top-k/drop-n book of bench/bench_zoo.py, against a hand-followed example."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from topk_dropout import qlib_figures, topk_dropout  # noqa: E402


def frame(rows):
    return pd.DataFrame(rows, columns=list("ABCDE"), index=pd.bdate_range("2020-01-01", periods=len(rows)))


def test_a_two_name_book_dropping_one_followed_by_hand():
    score = frame([[5, 4, 3, 2, 1], [1, 4, 5, 3, 2], [1, 4, 5, 3, 2]])
    realized = frame([[0.10, 0.00, 0.0, 0.0, 0.0], [0.0, 0.10, 0.20, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    book = topk_dropout(score, realized, k=2, n_drop=1, buy_cost=0.01, sell_cost=0.02)
    # day 1: buy A, B with 1 / 2 / 1.01 each; A gains 10%
    each = 0.5 / 1.01
    end1 = each * 1.1 + each
    # day 2: held A (1), B (4); best unheld C (5); ranked C, B, A: A (bottom) sold, C bought
    cash = each * 1.1 * 0.98
    c = cash / 1.01
    end2 = each * 1.1 + c * 1.2  # B +10%, C +20%
    assert book["ret"].iloc[0] == pytest.approx(end1 - 1)
    assert book["ret"].iloc[1] == pytest.approx(end2 / end1 - 1)
    assert book["turnover"].iloc[1] == pytest.approx((each * 1.1 + c) / end1)
    assert book["bench"].iloc[1] == pytest.approx(0.06)
    assert book["excess"].iloc[2] == pytest.approx(0.0)  # nothing moved, nothing traded: C, B held
    figures = qlib_figures(book)
    assert figures["excess_return"] == pytest.approx(252 * book["excess"].mean())


def test_a_book_on_random_scores_earns_about_the_benchmark_before_costs():
    rng = np.random.default_rng(0)
    days, names = 500, 120
    idx = pd.bdate_range("2015-01-01", periods=days)
    score = pd.DataFrame(rng.normal(size=(days, names)), index=idx)
    realized = pd.DataFrame(rng.normal(0, 0.01, size=(days, names)), index=idx)
    book = topk_dropout(score, realized, k=20, n_drop=4, buy_cost=0.0, sell_cost=0.0)
    assert abs(book["excess"].mean()) < 4 * book["excess"].std() / np.sqrt(days)
    # with the score equal to the outcome it beats the benchmark every day
    oracle = topk_dropout(realized, realized, k=20, n_drop=4, buy_cost=0.0, sell_cost=0.0)
    assert (oracle["excess"].iloc[1:] > 0).mean() > 0.9
