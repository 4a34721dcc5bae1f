"""The catalogue is refused with a message naming the indicator (or source), the field and the problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ims_indicators.indicators import CatalogueError, check_catalogue, compute_indicators, load_catalogue
from ims_indicators.indicators.catalogue import parse_catalogue

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue" / "indicators.yaml"
FOUR = {"quality_assurance", "staff", "autonomy_accountability", "student_mobility"}  # teaching_learning: tests/survey


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def entry(data: dict, indicator_id: str) -> dict:
    return next(i for i in data["indicators"] if i["id"] == indicator_id)


def refused(data: dict) -> str:
    """The message of the CatalogueError the (structurally, then against DuckDB) checked catalogue raises."""
    with pytest.raises(CatalogueError) as exc:
        check_catalogue(parse_catalogue(data))
    return str(exc.value)


def test_the_shipped_catalogue_is_valid(catalogue):
    check_catalogue(catalogue)
    dims = {i.dimension for i in catalogue.indicators}
    assert dims >= {"quality_assurance", "staff", "autonomy_accountability", "student_mobility"}
    assert len([i for i in catalogue.indicators if i.dimension in FOUR]) >= 25
    required = {"qa_valid_accreditation", "qa_wfme_recognised", "qa_open_conditions", "qa_ects_recognition_rate",
                "staff_international_share", "staff_international_experience",
                "staff_outgoing_mobility_per_100_fte", "staff_trained_share", "staff_teaching_english_share",
                "aa_submission_completeness", "aa_submission_timeliness", "aa_submission_validity",
                "mob_outgoing_per_100_graduates", "mob_incoming_per_100_students", "mob_international_degree_share",
                "mob_balance", "mob_partner_countries", "mob_ects_english_share", "mob_mean_duration_days",
                "mob_partner_hhi"}
    assert required <= set(catalogue.by_id)


def test_unknown_column_in_an_expression(raw):
    data = copy.deepcopy(raw)
    entry(data, "staff_international_share")["numerator"]["expr"] = "sum(foreign_staff_count)"
    msg = refused(data)
    assert msg.startswith("indicator staff_international_share: numerator.expr: unknown column 'foreign_staff_count'")
    assert "over source staffing" in msg


def test_unknown_column_in_a_condition(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_clinical_share")["denominator"]["where"] = "direction = 'outgoing' AND flavour = 'x'"
    assert refused(data).startswith("indicator mob_clinical_share: denominator.where: unknown column 'flavour'")


def test_unknown_column_in_a_source(raw):
    data = copy.deepcopy(raw)
    data["sources"]["staffing"]["sql"] = "SELECT t.*, s.source, t.salary FROM curated.staffing AS t " \
                                         "JOIN meta.submissions AS s USING (submission_id)"
    assert refused(data).startswith("source staffing: sql: unknown column 'salary'")


def test_source_without_the_key_columns(raw):
    data = copy.deepcopy(raw)
    data["sources"]["staffing"]["sql"] = "SELECT * FROM curated.staffing"
    assert refused(data) == "source staffing: sql: must return column(s) source"


def test_missing_direction(raw):
    data = copy.deepcopy(raw)
    del entry(data, "mob_balance")["direction"]
    msg = refused(data)
    assert "indicator mob_balance: direction: missing (required)" in msg


def test_invalid_direction(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["direction"] = "up"
    assert "indicator mob_balance: direction: Input should be 'higher' or 'lower'; got 'up'" in refused(data)


def test_missing_field_of_an_entry_without_id(raw):
    data = copy.deepcopy(raw)
    del data["indicators"][2]["id"]
    assert "indicator #3: id: missing (required)" in refused(data)


def test_expression_must_be_one_aggregate(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["numerator"]["expr"] = "sum(participants) / sum(participants)"
    assert "indicator mob_balance: numerator.expr: must be one aggregate call" in refused(data)
    entry(data, "mob_balance")["numerator"]["expr"] = "participants"
    assert "indicator mob_balance: numerator.expr: must be one aggregate call" in refused(data)


def test_no_second_statement(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["numerator"]["where"] = "true; DROP TABLE curated.mobility"
    assert "indicator mob_balance: numerator.where: must be one SQL condition" in refused(data)


def test_unknown_source(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["numerator"]["from"] = "mobilty"
    assert "indicator mob_balance: numerator.from: unknown source 'mobilty'" in refused(data)


def test_duplicate_id(raw):
    data = copy.deepcopy(raw)
    data["indicators"].append(copy.deepcopy(entry(data, "mob_balance")))
    assert "indicator mob_balance: id: used twice" in refused(data)


def test_minimum_denominator_must_be_positive(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["min_denominator"] = 0
    assert "indicator mob_balance: min_denominator: Input should be greater than 0" in refused(data)


def test_datasets_must_match_the_sources(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["datasets"] = ["staffing"]
    assert "indicator mob_balance: datasets: ['staffing'] disagrees with its sources" in refused(data)


def test_bad_formula(raw):
    data = copy.deepcopy(raw)
    entry(data, "mob_balance")["formula"] = "numerator / denominatr"
    assert refused(data).startswith("indicator mob_balance: formula: unknown column 'denominatr'")


def test_file_errors(tmp_path):
    with pytest.raises(CatalogueError, match="catalogue file not found"):
        load_catalogue(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(bad)
    bad.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected a mapping"):
        load_catalogue(bad)


def test_compute_refuses_an_invalid_catalogue_before_writing(network, catalogue, raw):
    compute_indicators(network, catalogue)
    before = network.execute("SELECT count(*) FROM marts.indicator_values").fetchall()[0][0]
    data = copy.deepcopy(raw)
    entry(data, "staff_trained_share")["denominator"]["expr"] = "sum(head_count)"
    with pytest.raises(CatalogueError, match="staff_trained_share: denominator.expr: unknown column 'head_count'"):
        compute_indicators(network, parse_catalogue(data))
    assert network.execute("SELECT count(*) FROM marts.indicator_values").fetchall()[0][0] == before


def test_a_yes_no_indicator_with_quartile_groups_is_refused(raw):
    raw = copy.deepcopy(raw)
    e = entry(raw, "qa_valid_accreditation")
    e["groups"] = "quartile"
    del e["group_note"]
    msg = refused(raw)
    assert "indicator qa_valid_accreditation: groups: a yes/no indicator cannot have quartile groups" in msg
    assert "declare groups: fixed with cutoffs, or groups: none" in msg


def test_a_survey_mean_takes_the_interval_rule_only(raw):
    raw = copy.deepcopy(raw)
    entry(raw, "survey_teaching")["groups"] = "quartile"
    assert "indicator survey_teaching: groups: a survey mean (unit score) takes groups: interval or none" in \
        refused(raw)
    raw2 = copy.deepcopy(raw)
    entry(raw2, "survey_teaching")["groups"] = "interval"
    entry(raw2, "staff_international_share")["groups"] = "interval"
    assert "indicator staff_international_share: groups: interval (CHE's confidence-interval rule) is for " \
           "survey means" in refused(raw2)


def test_fixed_groups_need_cutoffs_in_the_indicators_direction(raw):
    raw = copy.deepcopy(raw)
    del entry(raw, "qa_ects_recognition_rate")["cutoffs"]
    assert "indicator qa_ects_recognition_rate: cutoffs: required with groups: fixed and only then" in refused(raw)
    entry(raw, "qa_ects_recognition_rate")["cutoffs"] = {"top": 0.5, "bottom": 0.9}
    assert "top must be at least as good as bottom (higher is better)" in refused(raw)


def test_no_group_needs_a_note(raw):
    raw = copy.deepcopy(raw)
    del entry(raw, "mob_balance")["group_note"]
    assert "indicator mob_balance: group_note: say why it has none groups" in refused(raw)


def test_every_yes_no_indicator_is_ungrouped_and_survey_means_use_the_interval_rule(catalogue):
    for ind in catalogue.indicators:
        if ind.unit == "yes/no":
            assert ind.groups in ("fixed", "none"), ind.id
        if ind.unit == "score":
            assert ind.groups == "interval", ind.id
        if ind.id.startswith("aa_"):  # data-quality information, not benchmarked
            assert ind.groups == "none", ind.id
