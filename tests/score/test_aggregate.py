"""Weighted means on hand-computed cases: missing children, zeros in the geometric mean, harmonic."""

from __future__ import annotations

import numpy as np
import pytest

from ims_indicators.score.aggregate import AggregationError, weighted_mean

ONE = np.ones((3, 1))


def test_arithmetic_skips_missing_and_rescales_weights():
    x = np.array([[50.0, np.nan, 80.0]])
    out = weighted_mean(x, np.array([1.0, 1.0, 2.0]), ONE)
    assert out[0, 0] == pytest.approx((50 + 2 * 80) / 3)


def test_all_children_missing_gives_missing():
    out = weighted_mean(np.array([[np.nan, np.nan, np.nan]]), np.ones(3), ONE)
    assert np.isnan(out[0, 0])


def test_geometric_with_a_zero_maps_to_1_100_first():
    x = np.array([[0.0, 100.0, np.nan]])
    out = weighted_mean(x, np.ones(3), ONE, "geometric", (0.0, 100.0))
    # 0 -> 1 and 100 -> 100 on the 1..100 scale: sqrt(1 * 100) = 10, mapped back: (10 - 1) * 100 / 99
    assert out[0, 0] == pytest.approx(9 * 100 / 99)
    assert np.isfinite(out).all()


def test_geometric_zero_refused_under_error_rule():
    with pytest.raises(AggregationError, match="<= 0"):
        weighted_mean(np.array([[0.0, 100.0, 50.0]]), np.ones(3), ONE, "geometric", (0.0, 100.0), zeros="error")


def test_geometric_and_harmonic_weighted():
    x = np.array([[25.0, 100.0, 100.0]])
    w = np.array([2.0, 1.0, 1.0])
    to = 1 + 99 * x[0] / 100
    g = np.exp((w * np.log(to)).sum() / w.sum())
    h = w.sum() / (w / to).sum()
    assert weighted_mean(x, w, ONE, "geometric")[0, 0] == pytest.approx((g - 1) * 100 / 99)
    assert weighted_mean(x, w, ONE, "harmonic")[0, 0] == pytest.approx((h - 1) * 100 / 99)
    # equal values stay themselves under every mean
    for m in ("arithmetic", "geometric", "harmonic"):
        assert weighted_mean(np.full((1, 3), 37.0), w, ONE, m)[0, 0] == pytest.approx(37.0)


def test_geometric_without_zeros_matches_coinr_under_error_rule():
    x = np.array([[4.0, 16.0, np.nan]])
    out = weighted_mean(x, np.ones(3), ONE, "geometric", zeros="error")
    assert out[0, 0] == pytest.approx(8.0)  # COINr a_gmean: prod(x^w)^(1/sum(w)), NA removed


def test_per_draw_weights_broadcast():
    x = np.array([[0.0, 100.0, 50.0]])
    w = np.array([[[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]])  # (draws, 1, children)
    np.testing.assert_allclose(weighted_mean(x, w, ONE)[:, 0, 0], [0.0, 100.0])
