"""Every catalogue indicator against a value computed by hand on the fixture network (see conftest.py)."""

from __future__ import annotations

import pytest

from ims_indicators import warehouse
from ims_indicators.indicators import IndicatorError, compute_indicators, explain_indicator
from tests.indicators.conftest import mob

Y = "2023/24"

# alpha 2023/24, by hand from the rows in conftest.py: (value, numerator, denominator)
ALPHA = {
    # quality assurance — reporting date 2024-08-31: Medicine/ZEvA and Medicine/AAQ (CH, WFME, 2 conditions)
    # are valid, Dentistry expired 2022-01-01
    "qa_valid_accreditation": (1.0, 1, 3),
    "qa_wfme_recognised": (1.0, 1, 3),
    "qa_international_accreditation": (1.0, 1, 3),
    "qa_open_conditions": (2.0, 2, 2),
    "qa_accredited_programme_share": (0.5, 1, 2),
    "qa_ects_recognition_rate": ((270 + 50) / (300 + 50), 320, 350),
    "qa_full_recognition_share": (5 / 15, 5, 15),
    # staff — professor 40 hc / 35 fte / 8 foreign / 20 exp / 10 trained / 30 English;
    # lecturer 60 / 45 / 6 / – / 5 / –
    "staff_international_share": (14 / 100, 14, 100),
    "staff_international_professor_share": (8 / 40, 8, 40),
    # experience and English are reported for professors only: 40 of 100 headcount < 90 % → not computable
    "staff_international_experience": (None, 20, 40),
    "staff_outgoing_mobility_per_100_fte": (100 * 4 / 80, 4, 80),
    "staff_incoming_mobility_per_100_fte": (100 * 2 / 80, 2, 80),
    "staff_trained_share": (15 / 100, 15, 100),
    "staff_teaching_english_share": (None, 30, 40),
    # autonomy & accountability — enrolment on time, mobility late (5 Nov), staffing rejected then accepted on
    # 20 Oct, accreditation 31 Oct 23:00 (on the deadline day); rows 2 + 8 (1 held back) + 2 (rejected) + 2 + 3
    "aa_submission_completeness": (1.0, 4, 4),
    "aa_submission_timeliness": (0.75, 3, 4),
    "aa_submission_validity": (14 / 17, 14, 17),
    "aa_clean_submission_share": (3 / 5, 3, 5),
    "aa_resubmissions_per_dataset": (5 / 4, 5, 4),
    # student mobility — outgoing students 10 + 5 + 5, incoming 12 (exchange) + 3 (free mover); students 1200,
    # graduates 200, international 200, ECTS 4000 of which 1000 in English. Credit-mobile persons: the 10 in
    # Spain (153 days) and the 5 in the US (30 days but 50 ECTS); the 5 trainees (60 days, no ECTS) are not.
    "mob_outgoing_per_100_graduates": (100 * 15 / 200, 15, 200),
    "mob_outgoing_mobilities_per_100_graduates": (100 * 20 / 200, 20, 200),
    "mob_incoming_per_100_students": (100 * 12 / 1200, 12, 1200),
    "mob_international_degree_share": (200 / 1200, 200, 1200),
    "mob_balance": (15 / 20, 15, 20),
    "mob_in_out_ratio": (15 / 20, 15, 20),
    "mob_partner_countries": (4.0, 4, 35),  # ES, US, FR, IT
    "mob_partner_hhi": ((15**2 + 5**2 + 12**2 + 3**2) / 35**2, 403, 35),
    "mob_partner_countries_effective": (35**2 / (15**2 + 5**2 + 12**2 + 3**2), 403, 35),  # ES 15, FR 12, US 5, IT 3
    "mob_mean_duration_days": ((10 * 153 + 5 * 30 + 5 * 60) / 20, 1980, 20),
    "mob_long_mobility_share": (10 / 20, 10, 20),
    "mob_clinical_share": (5 / 20, 5, 20),
    "mob_structured_programme_share": (15 / 20, 15, 20),
    "mob_ects_english_share": (1000 / 4000, 1000, 4000),
}


def values(con, school: str, year: str = Y) -> dict:
    return {r["indicator_id"]: r for r in warehouse.rows(
        con, "SELECT * FROM marts.indicator_values WHERE school_id = ? AND academic_year = ?", [school, year])}


def test_every_indicator_is_checked_by_hand(catalogue):
    # the survey's teaching_learning indicators are checked in tests/survey
    assert set(ALPHA) == {i.id for i in catalogue.indicators if i.dimension != "teaching_learning"}


@pytest.mark.parametrize("indicator", sorted(ALPHA))
def test_indicator_against_hand_computed_value(computed, indicator):
    row = values(computed, "alpha")[indicator]
    value, num, den = ALPHA[indicator]
    if value is None:  # the coverage rule
        assert row["computable"] is False and row["value"] is None
        assert row["reason"] == ("coverage too low: the reported base 40 is 40 % of academic_headcount 100, "
                                 "below the required 90 %")
    else:
        assert row["computable"] is True and row["reason"] is None
        assert row["value"] == pytest.approx(value, rel=1e-12)
    assert (row["numerator"], row["denominator"]) == (pytest.approx(num), pytest.approx(den))
    assert row["source"] == "school"


def test_frame_is_registry_times_years(network, catalogue):
    n = compute_indicators(network, catalogue)
    assert n == 3 * 1 * len(catalogue.indicators)
    dup = network.execute("SELECT count(*) FROM (SELECT school_id, academic_year, indicator_id "
                          "FROM marts.indicator_values GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]
    assert dup == 0
    assert compute_indicators(network, catalogue) == n  # recomputing replaces, never appends


def test_minimum_base_gives_not_computable_never_zero(computed):
    beta = values(computed, "beta")
    r = beta["mob_incoming_per_100_students"]  # 3 incoming on 80 students, minimum 100
    assert r["computable"] is False and r["value"] is None
    assert (r["numerator"], r["denominator"]) == (3.0, 80.0)
    assert r["reason"] == "base too small: denominator 80 is below the minimum 100"
    assert beta["mob_balance"]["value"] is None and "below the minimum 5" in beta["mob_balance"]["reason"]
    # data sent, nothing matches: a real 0 (25 graduates >= 20)
    zero = beta["mob_outgoing_per_100_graduates"]
    assert (zero["value"], zero["computable"], zero["numerator"]) == (0.0, True, 0.0)


def test_no_data_is_not_computable_with_a_reason(computed):
    gamma, beta = values(computed, "gamma"), values(computed, "beta")
    assert gamma["mob_outgoing_per_100_graduates"]["reason"] == \
        "no mobility data for this school and year (data source school)"
    assert beta["staff_international_share"]["reason"] == \
        "no staffing data for this school and year (data source school)"
    assert gamma["staff_international_share"]["value"] is None
    # completeness is measured against the expected datasets, so sending nothing is a real 0
    assert (gamma["aa_submission_completeness"]["value"], beta["aa_submission_completeness"]["value"]) == (0.0, 0.5)
    assert sum(r["computable"] for r in gamma.values()) == 2  # completeness and timeliness only


def test_open_data_rows_are_not_the_schools_own(computed):
    assert values(computed, "alpha")["mob_outgoing_mobilities_per_100_graduates"]["numerator"] == 20  # not 120
    assert values(computed, "alpha")["mob_outgoing_per_100_graduates"]["numerator"] == 15  # not 115


def test_outgoing_students_are_distinct_credit_mobile_persons(built, catalogue):
    # delta: p1 twice (120 days + a 30-day placement) counts once; p2 30 days with 20 ECTS counts; p3 30 days
    # without ECTS does not; p4 is incoming; a group row of 3 without person_ref (100 days) counts 3.
    # 1 + 1 + 3 = 5 persons on 25 graduates → 20.0; mobilities 1 + 1 + 1 + 1 + 3 = 7 → 28.0
    built.school("delta", "DE")
    built.dataset("enrolment", "delta", Y, [{"programme_level": "long_cycle", "students_total": 300,
                                             "students_international": 10, "graduates": 25}])
    rows = [
        {**mob("outgoing", "student", "study", "erasmus_plus", "ES", "2023-09-01", "2023-12-29"), "person_ref": "p1"},
        {**mob("outgoing", "student", "clinical_placement", "bilateral", "FR", "2024-03-01", "2024-03-30"),
         "person_ref": "p1"},
        {**mob("outgoing", "student", "study", "erasmus_plus", "IT", "2024-03-01", "2024-03-30", 1, 20, 20),
         "person_ref": "p2"},
        {**mob("outgoing", "student", "traineeship", "free_mover", "IT", "2024-03-01", "2024-03-30"),
         "person_ref": "p3"},
        {**mob("incoming", "student", "study", "erasmus_plus", "PL", "2023-09-01", "2023-12-29"), "person_ref": "p4"},
        mob("outgoing", "student", "study", "erasmus_plus", "ES", "2023-09-01", "2023-12-09", 3),
    ]
    built.dataset("mobility", "delta", Y, rows)
    compute_indicators(built.con, catalogue)
    d = values(built.con, "delta")
    assert (d["mob_outgoing_per_100_graduates"]["value"], d["mob_outgoing_per_100_graduates"]["numerator"]) == \
        (pytest.approx(20.0), 5.0)
    assert d["mob_outgoing_mobilities_per_100_graduates"]["value"] == pytest.approx(28.0)


def test_staff_shares_need_90_percent_coverage(built, catalogue):
    # professors 95 of 100 headcount report experience: 95 % covers → 50 / 95
    built.school("delta", "DE")
    built.dataset("staffing", "delta", Y, [
        {"staff_category": "professor", "headcount": 95, "fte": 90.0, "foreign_nationality": 5,
         "international_experience": 50, "intl_training_completed": None, "teaching_in_english": 80},
        {"staff_category": "lecturer", "headcount": 5, "fte": 5.0, "foreign_nationality": 0,
         "international_experience": None, "intl_training_completed": None, "teaching_in_english": 1}])
    compute_indicators(built.con, catalogue)
    d = values(built.con, "delta")
    assert d["staff_international_experience"]["value"] == pytest.approx(50 / 95)
    assert d["staff_teaching_english_share"]["value"] == pytest.approx(81 / 100)
    assert d["staff_trained_share"]["value"] is None  # nobody reports it: no matching row, never 0
    assert d["staff_trained_share"]["computable"] is False


def test_accredited_programme_share_is_over_the_enrolled_programmes(built, catalogue):
    # delta teaches three programme levels (doctoral has no students: not a programme of the year) and holds a
    # valid institutional accreditation, which covers them all; beta lists no accreditation: 0 of 1
    built.school("delta", "DE")
    built.dataset("enrolment", "delta", Y, [
        {"programme_level": level, "students_total": n, "students_international": 0, "graduates": 0}
        for level, n in (("long_cycle", 900), ("master", 50), ("doctoral", 0))])
    built.dataset("accreditation", "delta", Y, [
        {"programme_name": "Delta University (institutional)", "scope": "institutional", "agency_name": "AQAS",
         "agency_country": "DE", "agency_wfme_recognised": True, "decision": "accredited",
         "decision_date": "2021-01-01", "valid_until": "2028-01-01", "open_conditions": 0}])
    compute_indicators(built.con, catalogue)
    d = values(built.con, "delta")["qa_accredited_programme_share"]
    assert (d["value"], d["numerator"], d["denominator"]) == (1.0, 2.0, 2.0)
    b = values(built.con, "beta")["qa_accredited_programme_share"]
    assert (b["value"], b["numerator"], b["denominator"]) == (0.0, 0.0, 1.0)


def test_reporting_date_setting(network, catalogue, monkeypatch):
    monkeypatch.setenv("IMS_REPORTING_DATE", "2021-06-01")  # before AAQ's 2022 decision, Dentistry still valid
    compute_indicators(network, catalogue)
    a = values(network, "alpha")
    assert a["qa_valid_accreditation"]["value"] == 1.0
    assert a["qa_wfme_recognised"]["value"] == 0.0
    assert a["qa_international_accreditation"]["value"] == 0.0
    assert a["qa_open_conditions"]["value"] == 1.0  # Dentistry's condition
    assert a["qa_accredited_programme_share"]["value"] == 1.0


def test_accreditation_report_counts_until_it_expires(built, catalogue):
    # a later year without a new accreditation report: the 2023/24 report still applies (reporting date
    # 2025-08-31: both Medicine decisions valid); in 2027/28 (2028-08-31) only AAQ's (until 2029) is left
    for year in ("2024/25", "2027/28"):
        built.dataset("enrolment", "alpha", year, [{"programme_level": "long_cycle", "students_total": 900,
                                                   "students_international": 90, "graduates": 100}])
    compute_indicators(built.con, catalogue)
    later, much_later = values(built.con, "alpha", "2024/25"), values(built.con, "alpha", "2027/28")
    assert later["qa_valid_accreditation"]["value"] == 1.0 and later["qa_open_conditions"]["value"] == 2.0
    assert later["qa_international_accreditation"]["value"] == 1.0
    assert much_later["qa_valid_accreditation"]["value"] == 1.0
    assert much_later["qa_wfme_recognised"]["value"] == 1.0
    # one programme enrolled that year (long_cycle), covered by the valid Medicine accreditation
    assert much_later["qa_accredited_programme_share"]["value"] == 1.0
    # the frame: every registry school × every year present
    assert built.con.execute("SELECT count(*) FROM marts.indicator_frame").fetchall()[0][0] == 3 * 3
    assert values(built.con, "gamma", "2027/28")["aa_submission_completeness"]["value"] == 0.0


def test_submission_deadline_is_a_catalogue_parameter(network, catalogue):
    later = catalogue.model_copy(update={"parameters": catalogue.parameters.model_copy(
        update={"submission_deadline": "11-30"})})
    compute_indicators(network, later)
    assert values(network, "alpha")["aa_submission_timeliness"]["value"] == 1.0
    deadline = network.execute("SELECT DISTINCT submission_deadline FROM marts.indicator_frame").fetchall()
    assert str(deadline[0][0]) == "2024-11-30"


def test_catalogue_table_and_views(network, catalogue):
    compute_indicators(network, catalogue)
    n = network.execute("SELECT count(*) FROM marts.indicator_catalogue").fetchall()[0][0]
    assert n == len(catalogue.indicators)
    row = warehouse.rows(network, "SELECT * FROM marts.v_indicator_values WHERE school_id = 'alpha' "
                                  "AND indicator_id = 'staff_international_share'")[0]
    assert (row["school_name"], row["indicator_name"], row["unit"], row["direction"]) == \
        ("Alpha", "International academic staff share", "share", "higher")


@pytest.mark.parametrize("indicator", sorted(ALPHA))
def test_explain_reproduces_the_stored_value(computed, catalogue, indicator):
    for school in ("alpha", "beta", "gamma"):
        e = explain_indicator(computed, school, "2023-24", indicator, catalogue)
        assert e["stored"]
        # equal up to the last bits (parallel sums of doubles may add in another order); None stays None
        assert e["value"] == (None if e["stored_value"] is None else pytest.approx(e["stored_value"], rel=1e-12))
        assert e["numerator"]["value"] == values(computed, school)[indicator]["numerator"]


def test_explain_counts_the_curated_rows_behind(computed, catalogue):
    e = explain_indicator(computed, "alpha", Y, "mob_outgoing_mobilities_per_100_graduates", catalogue)
    num, den = e["numerator"], e["denominator"]
    assert (num["name"], num["value"], num["source_rows"]) == ("outgoing_student_mobilities", 20.0, 3)
    assert [b["dataset"] for b in num["rows_behind"]] == ["mobility"]  # the open-data submission is not behind it
    assert (den["name"], den["value"], den["curated_rows"]) == ("graduates", 200.0, 2)
    assert den["rows_behind"][0]["file_name"] == "enrolment.csv"
    assert "FILTER (WHERE direction = 'outgoing' AND participant_type = 'student')" in e["sql"]
    hhi = explain_indicator(computed, "alpha", Y, "mob_partner_hhi", catalogue)["numerator"]
    assert (hhi["source_rows"], hhi["curated_rows"]) == (4, 5)  # 4 countries from 5 student rows


@pytest.mark.parametrize("args, message", [
    (("nobody", Y, "mob_balance"), "unknown school 'nobody'"),
    (("alpha", Y, "mob_nothing"), "unknown indicator 'mob_nothing'"),
    (("alpha", "2031/32", "mob_balance"), "year 2031/32: not in the indicator frame"),
    (("alpha", "last year", "mob_balance"), "expected an academic year"),
])
def test_explain_refuses_unknown_ids(computed, catalogue, args, message):
    with pytest.raises(IndicatorError, match=message):
        explain_indicator(computed, *args, catalogue)
