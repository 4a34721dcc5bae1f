"""Each step on small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ims_indicators.score import steps

NAN = np.nan


def params(n: int, **kw) -> steps.NormaliseParams:
    base = {"direction": np.ones(n), "target": np.full(n, 100.0), "worst": np.zeros(n), "post_lo": np.zeros(n),
                "post_hi": np.full(n, 100.0)}
    base.update(kw)
    return steps.NormaliseParams(**base)


def test_denominate_zero_or_missing_denominator_is_missing():
    x = np.array([[10.0, 5.0], [10.0, 5.0], [10.0, 5.0]])
    den = np.array([[2.0, 1.0], [0.0, 1.0], [NAN, 1.0]])
    out = steps.denominate(x, den, np.array([[100.0, 1.0]]))
    np.testing.assert_array_equal(out, [[500.0, 5.0], [NAN, 5.0], [NAN, 5.0]])


@pytest.mark.parametrize("method, fill", [("mean", 2.0), ("median", 1.5)])
def test_impute_mean_median_flags_cells(method, fill):
    x = np.array([[1.0, NAN], [NAN, 2.0], [1.5, NAN], [3.5, NAN]])
    x[:, 1] = [NAN, 2.0, NAN, NAN]
    out, flags = steps.impute(x, method)
    assert out[1, 0] == pytest.approx(fill)
    np.testing.assert_array_equal(out[:, 1], [2.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(flags, np.isnan(x))


def test_impute_group_mean_and_none():
    x = np.array([[1.0], [3.0], [NAN], [10.0], [NAN]])
    groups = np.array(["a", "a", "a", "b", "c"])
    out, flags = steps.impute(x, "group_mean", groups)
    np.testing.assert_array_equal(out[:, 0], [1.0, 3.0, 2.0, 10.0, NAN])  # group c has nothing to impute from
    np.testing.assert_array_equal(flags[:, 0], [False, False, True, False, False])
    same, none_flags = steps.impute(x, "none")
    np.testing.assert_array_equal(same, x)
    assert not none_flags.any()


def test_screen_by_availability():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, NAN, 3.0, 4.0], [NAN, NAN, 3.0, 4.0], [NAN] * 4])
    np.testing.assert_array_equal(steps.availability(x), [1.0, 0.75, 0.5, 0.0])
    np.testing.assert_array_equal(steps.screen(x, 0.75), [True, True, False, False])


def test_winsorise_records_which_points():
    x = np.array([*range(1, 21), 60.0, 100.0])
    treated, rec = steps.treat_column(x, winmax=5)
    assert rec.treatment == "winsorise" and rec.passed
    assert rec.points == {20: "winhi", 21: "winhi"}  # 100 -> 60 still fails, then both 60s -> 20
    assert rec.nwin == 2
    np.testing.assert_array_equal(treated[20:], [20.0, 20.0])
    np.testing.assert_array_equal(treated[:20], x[:20])
    one = steps.treat_column(np.array([*range(1, 11), 30.0, 100.0]))[1]  # COINr's example: one point is enough
    assert one.points == {11: "winhi"} and one.nwin == 1


def test_winsorise_ties_move_together_and_low_side():
    x = np.array([-100.0, -100.0, *np.linspace(0, 1, 20)])
    _, nwin, points = steps.winsorise(x, winmax=5)
    assert points == {0: "winlo", 1: "winlo"} and nwin == 2  # tied minima treated in one step


def test_log_when_winsorising_is_not_enough():
    x = np.array([*np.ones(15), 2.0, 3.0, 50.0, 1000.0, 10000.0])
    treated, rec = steps.treat_column(x, winmax=0)  # no winsorising allowed -> log of the original column
    assert rec.treatment == "log"
    assert set(rec.points.values()) == {"log"} and len(rec.points) == len(x)
    mn, mx = x.min(), x.max()
    np.testing.assert_allclose(treated, np.log(x - mn + 0.01 * (mx - mn)))


def test_treat_passing_column_untouched():
    x = np.arange(10.0)
    treated, recs = steps.treat(x[:, None])
    assert recs[0].treatment == "none" and recs[0].points == {}
    np.testing.assert_array_equal(treated[:, 0], x)


def test_minmax_with_direction():
    x = np.array([[1.0, 1.0], [3.0, 3.0], [5.0, NAN]])
    out = steps.normalise(x, "minmax", params(2, direction=np.array([1.0, -1.0])))
    np.testing.assert_allclose(out, [[0.0, 100.0], [50.0, 0.0], [100.0, NAN]])


def test_distance_to_target_capped_and_floored():
    x = np.array([[50.0, 0.0], [120.0, 12.0], [-5.0, 5.0]])
    p = params(2, direction=np.array([1.0, -1.0]), target=np.array([100.0, 0.0]), worst=np.array([0.0, 10.0]))
    out = steps.normalise(x, "distance_to_target", p)
    np.testing.assert_allclose(out, [[50.0, 100.0], [100.0, 0.0], [0.0, 50.0]])


def test_goalposts_zscore_rank():
    x = np.array([[10.0], [20.0], [20.0], [50.0]])
    p = params(1, post_lo=np.array([20.0]), post_hi=np.array([40.0]))
    np.testing.assert_allclose(steps.normalise(x, "goalposts", p)[:, 0], [0.0, 0.0, 0.0, 100.0])
    z = steps.normalise(x, "zscore", params(1, mean_sd=(0.0, 1.0)))[:, 0]
    assert z.mean() == pytest.approx(0.0) and z.std(ddof=1) == pytest.approx(1.0)
    r = steps.normalise(x, "rank", params(1))[:, 0]
    np.testing.assert_allclose(r, [0.0, 50.0, 50.0, 100.0])  # average ranks 1, 2.5, 2.5, 4 -> 0..100


def test_normalise_broadcasts_over_draws():
    x = np.array([[50.0], [80.0]])
    targets = np.array([100.0, 50.0]).reshape(2, 1, 1)  # two draws with different targets
    out = steps.normalise(x, "distance_to_target", params(1), target=targets)
    np.testing.assert_allclose(out[:, :, 0], [[50.0, 80.0], [100.0, 100.0]])
