"""Each expectation family, through the real suites in expectations/ and real GX runs: it fails on a crafted
bad row (with a concrete reason built from the row's values) and passes on a good one.

Every case is its own staged submission: a good base row (source_row 2) then the case's rows (3, 4, …).
All submissions of a dataset are validated together in one check_staged call, as in production.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ims_indicators.contracts import ddl_columns
from tests.curated import accept_staged

REPO = Path(__file__).resolve().parents[2]
D = dt.date
Y = "2023/24"

BASE = {
    "schools": {"school_id": "delta", "name": "Delta Medical School", "country_code": "DE", "city": "Berlin",
                "network_role": "member", "consent_to_be_named": True},
    "enrolment": {"school_id": "beta", "academic_year": Y, "programme_level": "long_cycle", "students_total": 1000,
                  "students_international": 100, "first_year_intake": 200, "graduates": 150, "ects_total": 3600.0,
                  "ects_taught_in_english": 500.0},
    "mobility": {"school_id": "alpha", "academic_year": Y, "mobility_ref": "M0", "direction": "outgoing",
                 "participant_type": "student", "activity": "study", "programme": "erasmus_plus",
                 "programme_level": "master", "partner_country": "FR", "partner_institution": "Université X",
                 "start_date": D(2023, 9, 15), "end_date": D(2024, 1, 31), "participants": 1, "ects_earned": 30.0,
                 "ects_recognised": 30.0, "person_ref": "p0"},
    "staffing": {"school_id": "beta", "academic_year": Y, "staff_category": "professor", "headcount": 10, "fte": 8.5,
                 "foreign_nationality": 2, "international_experience": 3, "intl_training_completed": 1,
                 "teaching_in_english": 4},
    "accreditation": {"school_id": "beta", "academic_year": Y, "programme_name": "Medicine", "scope": "programme",
                      "agency_name": "Akkreditierungsrat", "agency_country": "DE", "agency_wfme_recognised": True,
                      "decision": "accredited", "decision_date": D(2022, 5, 1), "valid_until": D(2029, 5, 1),
                      "open_conditions": 0},
}
# a second row of the same dataset that does not clash with the base row's key
OTHER = {"schools": {"school_id": "epsilon"}, "enrolment": {"programme_level": "master"},
         "mobility": {"mobility_ref": "M1"}, "staffing": {"staff_category": "lecturer"},
         "accreditation": {"programme_name": "Dentistry"}}


@dataclass
class Case:
    dataset: str
    name: str
    rows: list[dict]  # overrides of BASE (+ OTHER) for source rows 3, 4, …
    fails: dict[int, tuple[str, str]] = field(default_factory=dict)  # source_row -> (rule, reason regex)


def row(dataset: str, **kw) -> dict:
    return {**OTHER[dataset], **kw}


PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
CASES = [
    # passes
    *(Case(ds, "good", [row(ds)]) for ds in BASE),
    Case("mobility", "good: optional values empty", [row("mobility", ects_recognised=None, ects_earned=None,
                                                         programme_level=None, mobility_ref=None)]),
    Case("mobility", "good: starts in August, overlaps the year", [row("mobility", start_date=D(2023, 8, 20))]),
    Case("mobility", "good: Kosovo", [row("mobility", partner_country="XK")]),
    Case("accreditation", "good: no valid_until", [row("accreditation", valid_until=None)]),
    # not null
    Case("mobility", "not null", [row("mobility", direction=None)],
         {3: ("expect_column_values_to_not_be_null", r"^direction is empty; it is required$")}),
    Case("schools", "not null", [row("schools", name=None)],
         {3: ("expect_column_values_to_not_be_null", r"^name is empty")}),
    Case("staffing", "not null", [row("staffing", foreign_nationality=None)],
         {3: ("expect_column_values_to_not_be_null", r"^foreign_nationality is empty")}),
    # allowed values
    Case("mobility", "in set: direction", [row("mobility", direction="sideways")],
         {3: ("expect_column_values_to_be_in_set", r"^direction 'sideways' is not one of outgoing, incoming$")}),
    Case("mobility", "in set: participant_type", [row("mobility", participant_type="alien")],
         {3: ("expect_column_values_to_be_in_set", r"^participant_type 'alien' is not one of student, staff$")}),
    Case("mobility", "in set: activity", [row("mobility", activity="party")],
         {3: ("expect_column_values_to_be_in_set", r"^activity 'party' is not one of study, ")}),
    Case("mobility", "in set: programme", [row("mobility", programme="grand_tour")],
         {3: ("expect_column_values_to_be_in_set", r"^programme 'grand_tour' is not one of erasmus_plus")}),
    Case("mobility", "in set: programme_level", [row("mobility", programme_level="kindergarten")],
         {3: ("expect_column_values_to_be_in_set", r"^programme_level 'kindergarten' is not one of long_cycle")}),
    Case("enrolment", "in set: programme_level", [row("enrolment", programme_level="postdoc")],
         {3: ("expect_column_values_to_be_in_set", r"^programme_level 'postdoc' is not one of")}),
    Case("staffing", "in set: staff_category", [row("staffing", staff_category="janitor")],
         {3: ("expect_column_values_to_be_in_set", r"^staff_category 'janitor' is not one of professor")}),
    Case("accreditation", "in set: scope", [row("accreditation", scope="galactic")],
         {3: ("expect_column_values_to_be_in_set", r"^scope 'galactic' is not one of institutional, programme$")}),
    Case("accreditation", "in set: decision", [row("accreditation", decision="maybe")],
         {3: ("expect_column_values_to_be_in_set", r"^decision 'maybe' is not one of accredited, ")}),
    Case("schools", "in set: network_role", [row("schools", network_role="boss")],
         {3: ("expect_column_values_to_be_in_set", r"^network_role 'boss' is not one of partner, advisory, member$")}),
    # countries
    Case("mobility", "country", [row("mobility", partner_country="ZZ")],
         {3: ("expect_column_values_to_be_in_set", r"^partner_country 'ZZ' is not an ISO 3166-1 alpha-2 country code$")}),
    Case("accreditation", "country", [row("accreditation", agency_country="EU")],
         {3: ("expect_column_values_to_be_in_set", r"^agency_country 'EU' is not an ISO 3166-1")}),
    Case("schools", "country", [row("schools", country_code="QQ")],
         {3: ("expect_column_values_to_be_in_set", r"^country_code 'QQ' is not an ISO 3166-1")}),
    # ranges
    Case("mobility", "range: participants", [row("mobility", participants=0)],
         {3: ("expect_column_values_to_be_between", r"^participants 0 is below the minimum 1$")}),
    Case("enrolment", "range: graduates", [row("enrolment", graduates=-3)],
         {3: ("expect_column_values_to_be_between", r"^graduates -3 is below the minimum 0$")}),
    Case("accreditation", "range: open_conditions", [row("accreditation", open_conditions=-1)],
         {3: ("expect_column_values_to_be_between", r"^open_conditions -1 is below the minimum 0$")}),
    # at most
    Case("staffing", "fte <= headcount", [row("staffing", fte=12.5)],
         {3: (PAIR, r"^fte 12.5 exceeds headcount 10$")}),
    *(Case("staffing", f"{c} <= headcount", [row("staffing", **{c: 11})], {3: (PAIR, rf"^{c} 11 exceeds headcount 10$")})
      for c in ("foreign_nationality", "international_experience", "intl_training_completed", "teaching_in_english")),
    Case("mobility", "ects_recognised <= ects_earned", [row("mobility", ects_recognised=31.5)],
         {3: (PAIR, r"^ects_recognised 31.5 exceeds ects_earned 30$")}),
    Case("enrolment", "students_international <= students_total", [row("enrolment", students_international=1001)],
         {3: (PAIR, r"^students_international 1001 exceeds students_total 1000$")}),
    # dates
    Case("mobility", "end_date >= start_date", [row("mobility", start_date=D(2023, 9, 15), end_date=D(2023, 9, 10))],
         {3: (PAIR, r"^end_date 2023-09-10 is before start_date 2023-09-15$")}),
    Case("accreditation", "valid_until >= decision_date", [row("accreditation", valid_until=D(2021, 1, 1))],
         {3: (PAIR, r"^valid_until 2021-01-01 is before decision_date 2022-05-01$")}),
    Case("mobility", "after the academic year", [row("mobility", start_date=D(2024, 9, 10), end_date=D(2024, 10, 10))],
         {3: (PAIR, r"^the mobility starts on 2024-09-10, after the academic year 2023/24 ends \(2024-08-31\)$")}),
    Case("mobility", "before the academic year", [row("mobility", start_date=D(2022, 9, 10), end_date=D(2023, 1, 10))],
         {3: (PAIR, r"^the mobility ends on 2023-01-10, before the academic year 2023/24 begins \(2023-09-01\)$")}),
    # duplicates within a submission
    Case("mobility", "exact duplicate: only the later copy", [row("mobility"), row("mobility"), row("mobility")],
         {4: ("expect_column_values_to_be_between", r"^row 4 repeats row 3 exactly"),
          5: ("expect_column_values_to_be_between", r"^row 5 repeats row 3 exactly")}),
    Case("staffing", "exact duplicate: only the later copy", [row("staffing"), row("staffing")],
         {4: ("expect_column_values_to_be_between", r"^row 4 repeats row 3 exactly")}),
    Case("mobility", "duplicate key, different values: all rows", [row("mobility"), row("mobility", partner_country="IT")],
         {3: ("expect_compound_columns_to_be_unique", r"mobility_ref 'M1' is used by more than one row .*\(rows 3, 4\)"),
          4: ("expect_compound_columns_to_be_unique", r"mobility_ref 'M1' is used by more than one row")}),
    Case("staffing", "duplicate key, different values: all rows", [row("staffing"), row("staffing", headcount=20)],
         {3: ("expect_compound_columns_to_be_unique", r"staff_category 'lecturer' is used by more than one row"),
          4: ("expect_compound_columns_to_be_unique", r"staff_category 'lecturer' is used by more than one row")}),
    Case("mobility", "duplicate key with an exact copy among them: all rows",
         [row("mobility"), row("mobility"), row("mobility", participants=2)],
         {3: ("expect_compound_columns_to_be_unique", r"is used by more than one row"),
          4: ("expect_column_values_to_be_between", r"^row 4 repeats row 3 exactly"),
          5: ("expect_compound_columns_to_be_unique", r"is used by more than one row")}),
    Case("schools", "duplicate key", [row("schools"), row("schools", city="Bonn")],
         {3: ("expect_compound_columns_to_be_unique", r"school_id 'epsilon' is used by more than one row"),
          4: ("expect_compound_columns_to_be_unique", r"school_id 'epsilon' is used by more than one row")}),
    # cross-dataset checks (curated: alpha 2023/24 has 10 students enrolled and a staff headcount of 3)
    Case("enrolment", "cross: school not in the registry", [row("enrolment", school_id="nowhere")],
         {3: ("school_registered", r"^school_id 'nowhere' is not in the schools registry")}),
    Case("mobility", "cross: outgoing students above enrolment",
         [row("mobility", participants=6), row("mobility", mobility_ref="M2", participants=3)],
         {3: ("outgoing_students_within_enrolment",
              (r"^outgoing student mobilities of alpha in 2023/24 add up to 10 participants, more than its 9 "
              r"enrolled students; this row's 6 participant\(s\)"))}),
    Case("mobility", "cross: staff mobilities above headcount",
         [row("mobility", participant_type="staff", activity="teaching", programme_level=None, ects_earned=None,
              ects_recognised=None, participants=2),
          row("mobility", mobility_ref="M2", participant_type="staff", activity="teaching", programme_level=None,
              ects_earned=None, ects_recognised=None, participants=2)],
         {4: ("staff_mobility_within_headcount",
              (r"^outgoing staff mobilities of alpha in 2023/24 add up to 4 participants, more than its staff "
              r"headcount of 3"))}),
]
CROSS = {"school_registered", "outgoing_students_within_enrolment", "staff_mobility_within_headcount"}


def _sid(i: int, case: Case) -> str:
    return f"{case.dataset}.case{i:02d}"


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory):
    """Stage every case, validate each dataset once (real GX, the repo's suites); verdicts by submission."""
    from ims_indicators.validate import check_staged
    from ims_indicators.warehouse import open_warehouse

    home = tmp_path_factory.mktemp("families")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(home))
        mp.setenv("IMS_EXPECTATIONS_DIR", str(REPO / "expectations"))
        with open_warehouse() as con:
            for school in ("alpha", "beta"):
                con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, "
                            "network_role) VALUES ('registry', 2, ?, ?, 'DE', 'partner')", [school, school.title()])
            con.execute("INSERT INTO staging.enrolment (submission_id, source_row, school_id, academic_year, "
                        "programme_level, students_total, students_international, graduates) "
                        "VALUES ('e0', 2, 'alpha', ?, 'long_cycle', 9, 1, 1)", [Y])
            con.execute("INSERT INTO staging.staffing (submission_id, source_row, school_id, academic_year, "
                        "staff_category, headcount, fte, foreign_nationality) VALUES ('s0', 2, 'alpha', ?, "
                        "'professor', 3, 3, 0)", [Y])
            accept_staged(con)  # the registry and totals the cross-dataset checks compare with
            ids: dict[str, list[str]] = {}
            for i, case in enumerate(CASES):
                sid = _sid(i, case)
                ids.setdefault(case.dataset, []).append(sid)
                records = [BASE[case.dataset], *({**BASE[case.dataset], **r} for r in case.rows)]
                con.execute("INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, "
                            "file_name, sha256, received_at, status, rows_in, rows_quarantined) VALUES "
                            "(?, ?, ?, ?, 'school', 'f.csv', ?, now(), 'staged', ?, 0)",
                            [sid, case.dataset, records[0].get("school_id"), records[0].get("academic_year"),
                             sid, len(records)])
                cols = [c for c, _ in ddl_columns(case.dataset)]
                for n, rec in enumerate(records, start=2):
                    full = {"submission_id": sid, "source_row": n, **rec}
                    assert set(full) <= set(cols), set(full) - set(cols)
                    con.execute(f"INSERT INTO staging.{case.dataset} ({', '.join(full)}) VALUES "
                                f"({', '.join('?' * len(full))})", list(full.values()))
            out = {}
            for dataset, sids in ids.items():
                for v in check_staged(con, dataset, sids):
                    out[v.submission_id] = v
            runs = con.execute("SELECT submission_id, kind, rule, success, unexpected_count "
                               "FROM meta.validation_runs").fetchall()
    return out, runs


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c.dataset}-{c.name}" for c in CASES])
def test_family(verdicts, i):
    case = CASES[i]
    verdict = verdicts[0][_sid(i, case)]
    assert verdict.file_reason is None
    got: dict[int, list] = {}
    for f in verdict.failures:
        got.setdefault(f.source_row, []).append(f)
    assert set(got) == set(case.fails), [(f.source_row, f.rule, f.reason) for f in verdict.failures]
    assert 2 not in got  # the good base row always passes
    for source_row, (rule, pattern) in case.fails.items():
        found = got[source_row]
        assert len(found) == 1, [(f.rule, f.reason) for f in found]
        f = found[0]
        assert f.rule == rule
        assert re.search(pattern, f.reason), f.reason
        assert f.stage == ("cross" if rule in CROSS else "validate")


def test_results_recorded_per_submission(verdicts):
    _, runs = verdicts
    sids = {_sid(i, c) for i, c in enumerate(CASES)}
    assert {r[0] for r in runs} == sids
    assert {r[1] for r in runs} == {"gx", "cross"}
    by = {(r[0], r[2]): r for r in runs}
    i = next(i for i, c in enumerate(CASES) if c.name == "range: participants")
    sid = _sid(i, CASES[i])
    assert by[(sid, "school_registered")][3] is True
    assert any(r[0] == sid and r[2] == "expect_column_values_to_be_between" and not r[3] and r[4] == 1 for r in runs)
