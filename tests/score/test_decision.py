"""Gates, decisions and reasons on the small hand-computed model (see conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ims_indicators.score.engine import score_table
from ims_indicators.score.gates import parse_gate

from .conftest import small_model, small_raw


def by_id(result) -> pd.DataFrame:
    return result.table.set_index("school_id")


def test_hand_computed_scores_and_decisions(model, table):
    t = by_id(score_table(model, table))
    np.testing.assert_allclose(t["d1"], [70.0, 40.0, 90.0, 15.0])
    np.testing.assert_allclose(t["d2"], [77.5, 42.5, 97.5, 27.5])  # c: 100, 50, 90, 20; e weight 3
    np.testing.assert_allclose(t["overall"], [73.75, 41.25, 93.75, 21.25])
    assert list(t["decision"]) == ["awarded", "not_awarded", "not_awarded", "not_awarded"]
    assert list(t["rank"]) == [2, 3, 1, 4]
    assert t.loc["s1", "reasons"] == ""
    assert t.loc["s2", "reasons"] == "overall 41.25 below 45 required for conditional"
    assert t.loc["s4", "reasons"] == ("overall 21.25 below 45 required for conditional; "
                                      "dimension d1 15.00 below 25 required for conditional")


def test_gate_failing_overrides_a_top_score(model, table):
    res = score_table(model, table)
    t = by_id(res)
    assert t.loc["s3", "overall"] > 90 and t.loc["s3", "decision"] == "not_awarded"
    assert t.loc["s3", "reasons"] == "gate accreditation failed: accredited >= 1 (accredited=0.00)"
    assert list(res.gates["accreditation"]) == [True, True, False, True]


def test_gate_on_fail_conditional_caps(table):
    raw = small_raw()
    raw["gates"]["accreditation"]["on_fail"] = "conditional"
    t = by_id(score_table(small_model(gates=raw["gates"]), table))
    assert t.loc["s3", "decision"] == "conditional"
    assert "decision capped at conditional" in t.loc["s3", "reasons"]


def test_gate_on_missing_value_fails(model, table):
    table = table.assign(accredited=[1, np.nan, 1, 1])
    t = by_id(score_table(model, table))
    assert "accredited=missing" in t.loc["s2", "reasons"]


def test_decision_on_the_threshold(table):
    # s1 scores exactly 58 overall (0.58 * 100 is 57.99999999999999 in floating point): on the threshold = met
    raw = small_raw()
    raw["decision"]["awarded"] = {"overall_min": 58, "dimension_min": 58}
    row = {"school_id": "edge", "region": "n", "accredited": 1, "a": 58.0, "b": 58.0, "c": 4.2, "e": 58.0}
    t = by_id(score_table(small_model(decision=raw["decision"]), pd.DataFrame([row])))
    assert t.loc["edge", "overall"] == pytest.approx(58.0)
    assert t.loc["edge", "decision"] == "awarded"
    row["e"] = 57.0
    t = by_id(score_table(small_model(decision=raw["decision"]), pd.DataFrame([row])))
    assert t.loc["edge", "decision"] == "conditional"
    assert t.loc["edge", "reasons"] == ("overall 57.62 below 58 required for awarded; "
                                        "dimension d2 57.25 below 58 required for awarded")


def test_unit_with_all_indicators_missing(model, table):
    empty = {"school_id": "s5", "region": "s", "accredited": 1, "a": np.nan, "b": np.nan, "c": np.nan, "e": np.nan}
    table = pd.concat([table, pd.DataFrame([empty])], ignore_index=True)
    t = by_id(score_table(model, table))
    assert np.isnan(t.loc["s5", ["d1", "d2", "overall"]].astype(float)).all()
    assert pd.isna(t.loc["s5", "rank"]) and t.loc["s5", "decision"] == "not_awarded"
    assert t.loc["s5", "reasons"].startswith("no overall score")
    np.testing.assert_allclose(t.loc[["s1", "s2", "s3", "s4"], "overall"], [73.75, 41.25, 93.75, 21.25])
    # with a screen it is screened out instead, and says so
    t = by_id(score_table(small_model(screen={"threshold": 0.5}), table))
    assert t.loc["s5", "reasons"] == "screened out: data availability 0% below 50%"


def test_missing_dimension_is_a_reason(model, table):
    table = table.assign(a=[np.nan, 50, 90, 20], b=[np.nan, 30, 90, 10])
    t = by_id(score_table(model, table))
    assert np.isnan(t.loc["s1", "d1"]) and t.loc["s1", "overall"] == pytest.approx(77.5)
    assert t.loc["s1", "decision"] == "not_awarded"
    assert "dimension d1 has no score (conditional requires 25)" in t.loc["s1", "reasons"]


@pytest.mark.parametrize("rule, expected", [
    ("x >= 1 and y >= 1", [True, False, False, False]),
    ("x >= 1 or y >= 1", [True, True, True, True]),
    ("x >= 1 or y >= 2", [True, True, True, False]),
    ("not (x >= 1)", [False, False, True, False]),  # unknown stays unknown: a gate on a missing value fails
    ("x == 1 and not y < 1 or x > 5", [True, False, False, False]),
    ("1 <= x", [True, True, False, False]),
])
def test_gate_language(rule, expected):
    env = {"x": np.array([1.0, 2.0, 0.0, np.nan]), "y": np.array([1.0, 0.0, 3.0, 1.0])}
    assert list(parse_gate(rule).evaluate(env)) == expected


@pytest.mark.parametrize("rule", ["x >=", "x >= 1 and", "(x >= 1", "x 1", "x >= 1 y", "__import__('os')", ""])
def test_gate_language_refuses(rule):
    with pytest.raises(ValueError):
        parse_gate(rule)
