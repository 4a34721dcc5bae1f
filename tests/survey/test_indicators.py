"""The survey indicators of the catalogue: in marts.indicator_values (lower is better, none under 15 answers),
equal to the survey mart's means whichever form a school sent, and CHE interval groups in benchmark_groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators.benchmark import compute_benchmarks, load_peer_sets
from ims_indicators.contracts import SURVEY_ITEMS
from ims_indicators.indicators import compute_indicators, load_catalogue
from ims_indicators.survey.che import apply_survey_groups, compute_survey
from tests.curated import accept_staged

from .test_che import GROUPS, NETWORK, load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(con):
    """The hand-computed network of test_che (b, d, e aggregated; a, c respondent-level), registered."""
    for school in NETWORK:
        con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, "
                    "network_role, consent_to_be_named) VALUES ('registry', 1, ?, ?, 'DE', 'member', true)",
                    [school, school.upper()])
    accept_staged(con, "schools")
    load(con, {"b": "aggregated", "d": "aggregated", "e": "aggregated"})  # its submissions recorded as accepted
    return con


def test_catalogue_has_one_lower_is_better_indicator_per_item():
    cat = load_catalogue(ROOT / "catalogue" / "indicators.yaml")
    survey = [i for i in cat.indicators if i.dimension == "teaching_learning"]
    assert [i.id for i in survey] == [f"survey_{item}" for item in SURVEY_ITEMS]
    assert {(i.direction, i.unit, i.min_denominator, tuple(i.datasets)) for i in survey} == {
        ("lower", "score", 15.0, ("student_survey",))}
    assert all("CHE" in i.reference for i in survey)


def test_indicator_values_and_benchmark_groups(warehouse):
    con = warehouse
    cat = load_catalogue(ROOT / "catalogue" / "indicators.yaml")
    compute_indicators(con, cat)
    compute_survey(con)  # the stages of ims_indicators.pipeline.MARTS, in order
    compute_benchmarks(con, load_peer_sets(ROOT / "catalogue" / "peer_sets.yaml"), cat)
    apply_survey_groups(con)
    values = {s: (v, ok, r) for s, v, ok, r in con.execute(
        "SELECT school_id, value, computable, reason FROM marts.indicator_values "
        "WHERE indicator_id = 'survey_teaching'").fetchall()}
    means = dict(con.execute("SELECT school_id, mean FROM marts.survey_items WHERE item = 'teaching'").fetchall())
    for school in ("a", "b", "c", "e"):
        assert values[school][1] and values[school][0] == pytest.approx(means[school], abs=1e-12)
    assert values["d"][:2] == (None, False) and values["d"][2] == "base too small: denominator 14 is below the minimum 15"
    other = dict(con.execute("SELECT school_id, reason FROM marts.indicator_values "
                             "WHERE indicator_id = 'survey_exam_organisation'").fetchall())
    assert other["a"] == "base too small: denominator 0 is below the minimum 15"
    groups = dict(con.execute("SELECT school_id, che_group FROM marts.benchmark_groups "
                              "WHERE indicator_id = 'survey_teaching' AND peer_set = 'network'").fetchall())
    assert groups == GROUPS
    dims = con.execute("SELECT DISTINCT dimension FROM marts.indicator_catalogue WHERE indicator_id LIKE 'survey_%'")
    assert dims.fetchall() == [("teaching_learning",)]
    reason = con.execute("SELECT reason FROM marts.benchmark_groups WHERE indicator_id = 'survey_teaching' AND "
                         "peer_set = 'network' AND school_id = 'a'").fetchall()[0][0]
    assert reason.startswith("CHE interval rule: 95 % interval 1.28–1.72 against the peer mean of school means 2.49")
    assert "fewer than 5: no group" not in reason  # the rank rule's minimum of 5 values does not apply
