"""Every COINr 1.1 normalisation (n_*) and aggregation (a_*) against values worked by hand.

Fixture: one indicator, five units, x = [2, 4, 4, NA, 10] (a tie, a missing value). COINr's conventions
(R/normalise.R, R/aggregate.R of bluefoxr/COINr): the value is multiplied by the direction first; ranks use
``ties.method = "min"`` with NA kept; n_zscore defaults to mean 0, sd 1 (sd with n - 1); n_scaled to
npara (0, 100) and scale 100; n_dist2targ / n_dist2ref do not cap unless cap_max; n_goalposts truncates
to the posts and multiplies by gposts[3]; a zero range gives NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from ims_indicators.score import steps
from ims_indicators.score.aggregate import AggregationError, weighted_mean
from ims_indicators.score.engine import score_table
from ims_indicators.score.model import ModelError, model_from_dict

NAN = np.nan
X = np.array([[2.0], [4.0], [4.0], [NAN], [10.0]])


def p(direction=1.0, target=8.0, lo=1.0, hi=9.0, **coinr) -> steps.NormaliseParams:
    return steps.NormaliseParams(direction=np.array([direction]), target=np.array([target]),
                                 worst=np.array([0.0]), post_lo=np.array([lo]), post_hi=np.array([hi]),
                                 coinr=steps.CoinrParams(**coinr))


def norm(method, x=X, **kw):
    return steps.normalise(x, method, kw.pop("params", None) or p(**kw))[:, 0]


HAND = {
    # (x - min) / (max - min) * 100 with min 2, max 10
    "n_minmax": [0.0, 25.0, 25.0, NAN, 100.0],
    # mean 5, sd sqrt(((-3)^2 + 1 + 1 + 25) / 3) = sqrt(12)
    "n_zscore": [-3 / np.sqrt(12), -1 / np.sqrt(12), -1 / np.sqrt(12), NAN, 5 / np.sqrt(12)],
    # (x - 0) / (100 - 0) * 100 = x
    "n_scaled": [2.0, 4.0, 4.0, NAN, 10.0],
    "n_fracmax": [0.2, 0.4, 0.4, NAN, 1.0],
    # ranks with ties "min": 1, 2, 2, NA, 4
    "n_rank": [1.0, 2.0, 2.0, NAN, 4.0],
    "n_borda": [0.0, 1.0, 1.0, NAN, 3.0],
    # (rank - 1) / (n - 1) with n = 4 values
    "n_prank": [0.0, 1 / 3, 1 / 3, NAN, 1.0],
    # goalposts [1, 9], truncated: (x - 1) / 8
    "n_goalposts": [1 / 8, 3 / 8, 3 / 8, NAN, 1.0],
    # (x - min) / (target - min) with target 8, not capped: 10 -> 8/6
    "n_dist2targ": [0.0, 2 / 6, 2 / 6, NAN, 8 / 6],
    # 1 - (max - x) / (max - min)
    "n_dist2max": [0.0, 0.25, 0.25, NAN, 1.0],
}


@pytest.mark.parametrize("method", sorted(HAND))
def test_coinr_normalisation_by_hand(method):
    np.testing.assert_allclose(norm(method), HAND[method], rtol=1e-12)


def test_every_coinr_normalisation_is_covered():
    assert set(HAND) | {"n_dist2ref"} == set(steps.COINR_NORMALISE)


def test_dist2ref_reference_unit_and_cap():
    # reference = unit 2 (x = 4): 1 - (4 - x) / (4 - 2)
    np.testing.assert_allclose(norm("n_dist2ref", ref_index=1), [0.0, 1.0, 1.0, NAN, 4.0])
    np.testing.assert_allclose(norm("n_dist2ref", ref_index=1, cap_max=True), [0.0, 1.0, 1.0, NAN, 1.0])


def test_dist2targ_cap_and_direction():
    np.testing.assert_allclose(norm("n_dist2targ", cap_max=True), [0.0, 2 / 6, 2 / 6, NAN, 1.0])
    # lower is better: y = -x = [-2, -4, -4, NA, -10], target -> -3, min -10: (y + 10) / 7
    np.testing.assert_allclose(norm("n_dist2targ", direction=-1.0, target=3.0), [8 / 7, 6 / 7, 6 / 7, NAN, 0.0])


def test_direction_flips_before_normalising():
    # y = -x: min -10, max -2 -> (y + 10) / 8 * 100
    np.testing.assert_allclose(norm("n_minmax", direction=-1.0), [100.0, 75.0, 75.0, NAN, 0.0])
    # ranks of -x, ties min: -2 -> 4, -4 -> 2 (tie), -10 -> 1
    np.testing.assert_allclose(norm("n_rank", direction=-1.0), [4.0, 2.0, 2.0, NAN, 1.0])
    # goalposts for lower-is-better: (high - x) / (high - low) = (9 - x) / 8, truncated
    np.testing.assert_allclose(norm("n_goalposts", direction=-1.0), [7 / 8, 5 / 8, 5 / 8, NAN, 0.0])


def test_parameters_other_than_the_defaults():
    np.testing.assert_allclose(norm("n_zscore", m_sd=(50.0, 10.0))[[0, 4]],
                               [50 - 30 / np.sqrt(12), 50 + 50 / np.sqrt(12)])
    np.testing.assert_allclose(norm("n_scaled", npara=(2.0, 10.0), scale_factor=1.0), [0.0, 0.25, 0.25, NAN, 1.0])
    np.testing.assert_allclose(norm("n_goalposts", goalpost_scale=100.0), [12.5, 37.5, 37.5, NAN, 100.0])
    np.testing.assert_allclose(norm("n_goalposts", trunc2posts=False), [1 / 8, 3 / 8, 3 / 8, NAN, 9 / 8])
    np.testing.assert_allclose(norm("n_rank", ties="average"), [1.0, 2.5, 2.5, NAN, 4.0])
    np.testing.assert_allclose(norm("n_rank", ties="max"), [1.0, 3.0, 3.0, NAN, 4.0])


def test_zero_range_gives_nan_as_coinr():
    same = np.array([[3.0], [3.0], [NAN]])
    assert np.isnan(norm("n_minmax", x=same)[:2]).all()
    assert np.isnan(norm("n_dist2max", x=same)[:2]).all()


def test_n_methods_broadcast_over_draws():
    x = np.stack([X, X * 2])  # (2 draws, 5 units, 1 indicator)
    out = steps.normalise(x, "n_rank", p())
    np.testing.assert_allclose(out[1, :, 0], HAND["n_rank"])


# ------------------------------------------------------------------------------------------ aggregation
ONE = np.ones((3, 1))
XA = np.array([[1.0, 4.0, 16.0]])
W = np.array([1.0, 1.0, 2.0])


@pytest.mark.parametrize("method, expected", [
    ("a_amean", (1 + 4 + 32) / 4),
    ("a_gmean", (1 * 4 * 16**2) ** (1 / 4)),  # exp(sum w log x / sum w) = 1024^(1/4)
    ("a_hmean", 4 / (1 + 1 / 4 + 2 / 16)),
    ("a_genmean", ((1 + 16 + 2 * 256) / 4) ** 0.5),  # p = 2
])
def test_coinr_aggregation_by_hand(method, expected):
    out = weighted_mean(XA, W, ONE, method, zeros="error", p=2.0)
    assert out[0, 0] == pytest.approx(expected, rel=1e-12)


def test_genmean_p_minus_one_is_harmonic_and_missing_skipped():
    h = weighted_mean(XA, W, ONE, "a_genmean", zeros="error", p=-1.0)
    assert h[0, 0] == pytest.approx(4 / (1 + 1 / 4 + 2 / 16))
    x = np.array([[NAN, 4.0, 16.0]])
    assert weighted_mean(x, W, ONE, "a_genmean", zeros="error", p=1.0)[0, 0] == pytest.approx((4 + 32) / 3)


def test_coinr_zero_rules():
    with pytest.raises(AggregationError):
        weighted_mean(np.array([[0.0, 4.0, 16.0]]), W, ONE, "a_gmean", zeros="error")
    # a_genmean with p > 0 takes zeros (COINr refuses them only for p < 0)
    out = weighted_mean(np.array([[0.0, 4.0, 16.0]]), W, ONE, "a_genmean", zeros="error", p=1.0)
    assert out[0, 0] == pytest.approx((0 + 4 + 32) / 4)
    with pytest.raises(AggregationError):
        weighted_mean(np.array([[0.0, 4.0, 16.0]]), W, ONE, "a_genmean", zeros="error", p=-1.0)


def test_methods_and_parameters_settable_with_set():
    from .conftest import small_raw, small_table

    raw = small_raw()
    m = model_from_dict(raw, "small", ["normalise.method=n_dist2ref", "normalise.ref_unit=s1",
                                       "normalise.cap_max=true", "aggregate.method=a_genmean", "aggregate.p=3"])
    assert m.normalise.method == "n_dist2ref" and m.aggregate.p == 3.0
    t = score_table(m, small_table()).table.set_index("school_id")
    # s1 is the reference: every indicator scores 1 (capped), so each aggregate is 1
    assert t.loc["s1", "overall"] == pytest.approx(1.0)
    with pytest.raises(ModelError, match="ref_unit"):
        model_from_dict(raw, "small", ["normalise.method=n_dist2ref"])
    with pytest.raises(ModelError, match="p != 0"):
        model_from_dict(raw, "small", ["aggregate.method=a_genmean", "aggregate.p=0"])


@pytest.mark.parametrize("method", steps.COINR_NORMALISE)
def test_no_units_gives_an_empty_result_not_an_error(method):
    assert steps.normalise(np.empty((0, 1)), method, p(ref_index=0)).shape == (0, 1)
