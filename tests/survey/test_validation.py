"""The survey suite (expectations/student_survey.json): scale bounds, known items, one answer per respondent and
item, one row per item when aggregated, minimum responses — run by the real Great Expectations runner."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ims_indicators.survey.suite import build_survey_suite
from ims_indicators.validate.frames import build_validation_frame, frames
from ims_indicators.validate.gxrun import make_runner, run_chunks
from ims_indicators.warehouse import ensure_schema

SUITE = Path(__file__).resolve().parents[2] / "expectations" / "student_survey.json"
ROWS = [  # submission, row, school, year, item, respondent_ref, score, comment, responses, mean, sd
    ("s1", 2, "a", "2023/24", "teaching", "r1", 2, None, None, None, None),
    ("s1", 3, "a", "2023/24", "teaching", "r1", 3, None, None, None, None),  # second answer of r1 to the item
    ("s1", 4, "a", "2023/24", "teaching", "r2", 7, None, None, None, None),  # above the scale
    ("s1", 5, "a", "2023/24", "teaching", None, 2, None, None, None, None),  # answer without respondent
    ("s1", 6, "a", "2023/24", "teaching", "r3", None, "ok", None, None, None),  # 'cannot judge': fine
    ("s1", 7, "a", "2023/24", "lab_safety", "r3", 2, None, None, None, None),  # unknown item
    ("s1", 8, "a", "2023/24", "exam_organisation", "r3", 0, None, None, None, None),  # below the scale
    ("s2", 2, "b", "2023/24", "teaching", None, None, None, 20, 2.1, 0.8),  # fine
    ("s2", 3, "b", "2023/24", "teaching", None, None, None, 25, 2.2, 0.8),  # the item twice
    ("s2", 4, "b", "2023/24", "exam_organisation", None, None, None, 20, 6.5, 0.8),  # mean above the scale
    ("s2", 5, "b", "2023/24", "clinical_training", None, None, None, 10, 2.0, None),  # < 15, no sd: warnings
    ("s2", 6, "b", "2023/24", "overall_study_situation", None, None, None, 20, None, 0.8),  # responses, no mean
    ("s2", 7, "b", "2023/24", "credit_recognition", None, 3, None, 20, 2.0, 0.8),  # both forms in one row
    ("s2", 8, "b", "2023/24", "support_going_abroad", None, None, None, 0, None, None),  # zero responses
]
EXPECTED = {  # (submission, row) -> {(rule family, severity)}
    ("s1", 2): {("unique_key", "critical")}, ("s1", 3): {("unique_key", "critical")},
    ("s1", 4): {("range", "critical")}, ("s1", 5): {("not_null", "critical")},
    ("s1", 7): {("in_set", "critical")}, ("s1", 8): {("range", "critical")},
    ("s2", 2): {("unique_key", "critical")}, ("s2", 3): {("unique_key", "critical")},
    ("s2", 4): {("range", "critical")},
    ("s2", 5): {("min_responses", "warning"), ("not_null", "warning")},
    ("s2", 6): {("not_null", "critical")},
    ("s2", 7): {("form", "critical"), ("not_null", "critical")},
    ("s2", 8): {("range", "critical"), ("not_null", "critical"), ("min_responses", "warning")},
}


def test_suite_file_is_the_generated_one_with_the_scale_bounds():
    on_disk = json.loads(SUITE.read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(build_survey_suite().to_json_dict())), \
        "expectations/student_survey.json is stale: python -m ims_indicators.survey.suite"
    between = {e["kwargs"]["column"]: e["kwargs"] for e in on_disk["expectations"]
               if e["type"] == "expect_column_values_to_be_between"}
    assert (between["score"]["min_value"], between["score"]["max_value"]) == (1, 6)
    assert (between["mean"]["min_value"], between["mean"]["max_value"]) == (1, 6)
    unique = [e["kwargs"]["column_list"] for e in on_disk["expectations"]
              if e["type"] == "expect_compound_columns_to_be_unique"]
    assert ["submission_id", "school_id", "academic_year", "respondent_ref", "item"] in unique
    assert ["submission_id", "school_id", "academic_year", "item"] in unique


def test_suite_finds_each_planted_problem_and_nothing_else():
    con = duckdb.connect()
    ensure_schema(con)
    con.executemany("INSERT INTO staging.student_survey (submission_id, source_row, school_id, academic_year, item, "
                    "respondent_ref, score, comment, responses, mean, sd, students_invited) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 200)", ROWS)  # every file states students invited
    n = build_validation_frame(con, "student_survey", ["s1", "s2"])
    runner = make_runner("student_survey", json.loads(SUITE.read_text(encoding="utf-8")), mode="ephemeral",
                         docs=False)
    findings, _ = run_chunks(runner, frames(con, n))
    family = {}
    for e in json.loads(SUITE.read_text(encoding="utf-8"))["expectations"]:
        kw = e["kwargs"]
        cols = ",".join(c for c in kw.get("column_list") or [kw.get("column")] if c != "submission_id")
        family[(e["type"], cols, e["severity"])] = e["meta"]["family"]
    got: dict[tuple, set] = {}
    for f in findings:
        got.setdefault((f["submission_id"], f["source_row"]), set()).add(
            (family[(f["rule"], f["column"], f["severity"])], f["severity"]))
    assert got == EXPECTED
    reasons = {(f["submission_id"], f["source_row"]): f["reason"] for f in findings if f["severity"] == "critical"}
    assert reasons[("s1", 4)] == "score 7 is outside the scale 1..6 (1 = very good … 6 = very poor)"
    assert "item 'teaching' has more than one aggregated row (rows 2, 3)" in reasons[("s2", 2)]
    con.close()
