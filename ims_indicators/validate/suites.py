"""Great Expectations suites, one JSON file per dataset under ``expectations/`` (reviewed in git like code).

A suite is derived from the dataset's contract the first time (``build_suite``) and read from its file
after that (``load_suite``), so a reviewed edit of the file is what validation runs. Every expectation
carries ``meta.reason``: a sentence template filled with the failing row's values for the stewards
(``{column}`` is the value, ``{column!r}`` the value in quotes, empty values read ``empty``) and
``meta.family`` (the kind of rule, used by the report and the tests).

The frame GX sees is a staging table plus helper columns computed in DuckDB (see ``frames.py``):
``_copy_no`` (1 for the first of identical rows in a submission), ``_first_row`` (source row of that
first copy) and ``_year_start``/``_year_end`` (the academic year, 1 September – 31 August).

Write missing files from the contracts with ``python -m ims_indicators.validate.suites [--dir DIR]``; regenerate
named ones with ``--force mobility staffing`` (the file is the reviewed truth: a regenerated one loses edits).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

from ims_indicators import settings
from ims_indicators.contracts import contract

# A ≤ B relations within one row: (dataset, smaller, larger, reason). Written to GX as "A ≥ B".
AT_MOST = {
    "enrolment": [
        ("students_international", "students_total",
         "students_international {students_international} exceeds students_total {students_total}"),
    ],
    "mobility": [
        ("start_date", "end_date", "end_date {end_date} is before start_date {start_date}"),
        ("ects_recognised", "ects_earned", "ects_recognised {ects_recognised} exceeds ects_earned {ects_earned}"),
    ],
    "staffing": [
        ("fte", "headcount", "fte {fte} exceeds headcount {headcount}"),
        *((c, "headcount", f"{c} {{{c}}} exceeds headcount {{headcount}}")
          for c in ("foreign_nationality", "international_experience", "intl_training_completed",
                    "teaching_in_english")),
    ],
    "accreditation": [
        ("decision_date", "valid_until", "valid_until {valid_until} is before decision_date {decision_date}"),
    ],
}
# The mobility must overlap its academic year (a few start in August with a language course).
YEAR_OVERLAP = [
    ("_year_start", "end_date",
     "the mobility ends on {end_date}, before the academic year {academic_year} begins ({_year_start})",
     "the mobility ends on or after the first day of its academic year (1 September)"),
    ("start_date", "_year_end",
     "the mobility starts on {start_date}, after the academic year {academic_year} ends ({_year_end})",
     "the mobility starts on or before the last day of its academic year (31 August)"),
]
HELPER_COLUMNS = ("_copy_no", "_first_row", "_year_start", "_year_end")


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (pycountry) plus XK (Kosovo, used by the EU and Erasmus+)."""
    import pycountry

    return tuple(sorted({c.alpha_2 for c in pycountry.countries} | {"XK"}))


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def build_suite(dataset: str):
    """The suite for ``dataset`` derived from its contract (a ``gx.ExpectationSuite``)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from ims_indicators.validate.gxrun import quiet_gx

    quiet_gx()
    gx.get_context(mode="ephemeral")  # add_expectation() needs an active context
    spec = contract(dataset)
    suite = gx.ExpectationSuite(name=dataset, meta={
        "dataset": dataset, "generated_from": "ims_indicators/contracts.py",
        "notes": "Edit and review like code. meta.reason is the sentence stewards read, filled with the row's "
                 "values; severity 'critical' holds a row back, 'warning' and 'info' only report."})

    def add(exp, family: str, reason: str, description: str) -> None:
        exp.meta = {"family": family, "reason": reason}
        exp.description = description
        exp.severity = "critical"
        suite.add_expectation(exp)

    for col in spec.required:
        add(gxe.ExpectColumnValuesToNotBeNull(column=col), "not_null", f"{col} is empty; it is required",
            f"{col} is filled in (required)")
    for c in spec.columns:
        if c.kind == "enum" and c.allowed:
            add(gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.allowed)), "in_set",
                f"{c.name} {{{c.name}!r}} is not one of {', '.join(c.allowed)}",
                f"{c.name} is one of {', '.join(c.allowed)}")
        elif c.kind == "country":
            add(gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(country_codes())), "country",
                f"{c.name} {{{c.name}!r}} is not an ISO 3166-1 alpha-2 country code",
                f"{c.name} is an ISO 3166-1 alpha-2 country code (or XK)")
    for c in spec.columns:
        if c.min_value is not None:
            add(gxe.ExpectColumnValuesToBeBetween(column=c.name, min_value=_num(c.min_value)), "range",
                f"{c.name} {{{c.name}}} is below the minimum {_num(c.min_value)}",
                f"{c.name} is at least {_num(c.min_value)}")
    for small, large, reason in AT_MOST.get(dataset, []):
        family = "date_order" if spec.column(small).kind == "date" else "at_most"
        add(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=large, column_B=small, or_equal=True,
                                                        ignore_row_if="either_value_is_missing"), family, reason,
            f"{small} is not after {large}" if family == "date_order" else f"{small} is at most {large}")
    if dataset == "mobility":
        for small, large, reason, description in YEAR_OVERLAP:
            add(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=large, column_B=small, or_equal=True,
                                                            ignore_row_if="either_value_is_missing"),
                "academic_year", reason, description)
    add(gxe.ExpectColumnValuesToBeBetween(column="_copy_no", min_value=1, max_value=1), "duplicate_row",
        "row {source_row} repeats row {_first_row} exactly (the first copy is kept)",
        "no row repeats an earlier row of the submission exactly (later copies are held back)")
    add(gxe.ExpectCompoundColumnsToBeUnique(column_list=["submission_id", *spec.key],
                                            ignore_row_if="any_value_is_missing",
                                            row_condition="_copy_no == 1", condition_parser="pandas"),
        "unique_key",
        " ".join(f"{k} {{{k}!r}}" for k in spec.key) + " is used by more than one row with different values "
                                                          "(rows {_group_rows})",
        f"{', '.join(spec.key)} is unique within a submission (every row of a clashing key is held back)")
    return suite


def suite_dict(dataset: str) -> dict:
    return build_suite(dataset).to_json_dict()


def suite_path(dataset: str, folder: Path | None = None) -> Path:
    return Path(folder or settings.expectations_dir()) / f"{dataset}.json"


def write_suite(dataset: str, folder: Path | None = None) -> Path:
    path = suite_path(dataset, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(suite_dict(dataset), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def load_suite(dataset: str, folder: Path | None = None) -> dict:
    """The suite JSON from ``expectations/<dataset>.json``, created from the contract the first time."""
    path = suite_path(dataset, folder)
    if not path.exists():
        write_suite(dataset, folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); expected a Great Expectations suite") from exc
    data["name"] = dataset  # the file name decides which dataset a suite guards
    return data


def main(argv: list[str]) -> int:  # pragma: no cover - maintenance entry point
    """Write missing suites; ``--force DATASET…`` regenerates the named ones (a reviewed edit is lost)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ims_indicators.validate.suites", description=main.__doc__)
    ap.add_argument("datasets", nargs="*", help="datasets (default: every missing suite)")
    ap.add_argument("--dir", type=Path, default=None, help="folder (default: IMS_EXPECTATIONS_DIR or expectations/)")
    ap.add_argument("--force", action="store_true", help="overwrite the named datasets' files")
    args = ap.parse_args(argv)
    if args.force and not args.datasets:
        ap.error("--force needs the dataset names to overwrite")
    for dataset in args.datasets or settings.DATASETS:
        if args.force or not suite_path(dataset, args.dir).exists():
            print(write_suite(dataset, args.dir))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
