"""The student-survey suite: what ``validate/suites.py`` derives from the contract, plus the survey's own rules.

Written to ``expectations/student_survey.json`` (reviewed in git like every suite). Regenerate it with
``python -m ims_indicators.survey.suite [DIR]`` — not with ``python -m ims_indicators.validate.suites --force``,
which knows only the contract-derived part (until the builder honours ``Column.max_value``, the scale's upper
bound would be lost too).

Added to the contract-derived expectations:

- ``score`` and ``mean`` within the scale 1..6 (``Column.max_value``; the builder sets only ``min_value``);
- one answer per respondent and item is the contract key (derived); one row per item in the aggregated form;
- a respondent-level answer names its respondent; a row is one form, not both;
- an aggregated row has ``mean`` with ``responses`` (and the reverse); ``sd`` from 2 responses (warning);
- minimum responses: an aggregated item under 15 responses is reported (warning: kept, no CHE group).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ims_indicators.contracts import SURVEY_SCALE, contract
from ims_indicators.survey.che import MIN_RESPONSES

DATASET = "student_survey"


def build_survey_suite():
    """The survey's ``gx.ExpectationSuite``: the contract-derived suite with the survey rules added."""
    import great_expectations.expectations as gxe

    from ims_indicators.validate.suites import _num, build_suite

    suite = build_suite(DATASET)
    lo, hi = SURVEY_SCALE
    spec = contract(DATASET)
    for exp in suite.expectations:  # the scale's upper bound on the derived range checks
        col = getattr(exp, "column", None)
        if type(exp).__name__ == "ExpectColumnValuesToBeBetween" and col in spec.names:
            c = spec.column(col)
            if c.max_value is not None and getattr(exp, "max_value", None) is None:
                exp.max_value = _num(c.max_value)
                exp.meta = {**(exp.meta or {}), "reason": f"{col} {{{col}}} is outside the scale {lo}..{hi} "
                                                          f"(1 = very good … 6 = very poor)"}

    def add(exp, family: str, reason: str, severity: str = "critical") -> None:
        exp.meta = {"family": family, "reason": reason}
        exp.severity = severity
        suite.add_expectation(exp)

    aggregated = "_copy_no == 1 and respondent_ref.isnull() and score.isnull()"
    add(gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["submission_id", "school_id", "academic_year", "item"], ignore_row_if="any_value_is_missing",
        row_condition=aggregated, condition_parser="pandas"), "unique_key",
        "item {item!r} has more than one aggregated row (rows {_group_rows}); expected one row per item")
    add(gxe.ExpectColumnValuesToNotBeNull(column="respondent_ref", row_condition="score.notnull()",
                                          condition_parser="pandas"), "not_null",
        "respondent_ref is empty; every answer needs its respondent (one answer per respondent and item)")
    add(gxe.ExpectColumnValuesToBeNull(column="mean", row_condition="score.notnull() or respondent_ref.notnull()",
                                       condition_parser="pandas"), "form",
        "the row has a respondent's answer and an aggregated mean {mean}; expected one form per row")
    add(gxe.ExpectColumnValuesToNotBeNull(column="mean", row_condition="responses.notnull()",
                                          condition_parser="pandas"), "not_null",
        "mean is empty for {responses} responses; an aggregated row needs responses and mean")
    add(gxe.ExpectColumnValuesToNotBeNull(column="responses", row_condition="mean.notnull()",
                                          condition_parser="pandas"), "not_null",
        "responses is empty for the mean {mean}; an aggregated row needs responses and mean")
    add(gxe.ExpectColumnValuesToNotBeNull(column="sd", row_condition="responses >= 2", condition_parser="pandas"),
        "not_null", "sd is empty for {responses} responses: kept, but no confidence interval and no CHE group",
        severity="warning")
    add(gxe.ExpectColumnValuesToBeBetween(column="responses", min_value=MIN_RESPONSES), "min_responses",
        f"item {{item!r}} has {{responses}} responses, fewer than {MIN_RESPONSES}: kept, but reported without a "
        "CHE group", severity="warning")
    add(gxe.ExpectColumnValuesToNotBeNull(column="students_invited"), "not_null",
        "students_invited is empty: the response rate cannot be checked, so an item with fewer than 50 answers "
        "gets no CHE group", severity="warning")
    suite.meta = {**(suite.meta or {}), "generated_from": "ims_indicators/contracts.py + ims_indicators/survey/suite.py",
                  "regenerate": "python -m ims_indicators.survey.suite"}
    return suite


def write_survey_suite(folder: Path | None = None) -> Path:
    """Write ``<folder>/student_survey.json`` (default: the expectations folder)."""
    from ims_indicators.validate.suites import suite_path

    path = suite_path(DATASET, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_survey_suite().to_json_dict(), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    print(write_survey_suite(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
