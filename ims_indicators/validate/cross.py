"""Cross-dataset checks that one GX batch cannot see: SQL files in ``validate/sql/``, each returning the
violating rows (submission_id, source_row, column_name, reason)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ims_indicators.contracts import contract
from ims_indicators.warehouse import insert_rows, sql_text


@dataclass(frozen=True)
class Check:
    sql: str  # file in validate/sql/
    datasets: tuple[str, ...]  # the datasets it guards ("*": every per-year dataset, i.e. all but the registry)
    identifiers: dict[str, str] = field(default_factory=dict)  # {name} in the SQL -> our own table/column names
    params: dict[str, str] = field(default_factory=dict)  # bound values


CHECKS: dict[str, Check] = {
    "school_registered": Check("school_registered.sql", ("*",)),
    "outgoing_students_within_enrolment": Check(
        "mobility_within_total.sql", ("mobility",), {"totals": "enrolment", "total_column": "students_total"},
        {"totals_dataset": "enrolment", "participant_type": "student", "limit_text": "{} enrolled students"}),
    "staff_mobility_within_headcount": Check(
        "mobility_within_total.sql", ("mobility",), {"totals": "staffing", "total_column": "headcount"},
        {"totals_dataset": "staffing", "participant_type": "staff", "limit_text": "staff headcount of {}"}),
}
# checks whose failure concerns the whole file (the school is the file's): the submission is rejected with one
# reason instead of every row being held back
FILE_LEVEL = {"school_registered"}
DESCRIPTIONS = {
    "school_registered": "the school is in the schools registry",
    "outgoing_students_within_enrolment": "outgoing student mobilities (participants) ≤ enrolled students",
    "staff_mobility_within_headcount": "outgoing staff mobilities (participants) ≤ staff headcount",
}


def checks_for(dataset: str) -> list[str]:
    per_year = contract(dataset).per_year
    return [name for name, check in CHECKS.items()
            if dataset in check.datasets or ("*" in check.datasets and per_year)]


def run_checks(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str],
               held: list[tuple[str, int]], table: str | None = None) -> dict[str, list[dict]]:
    """Run each cross check of ``dataset``; {check: violating rows}. ``held`` (submission_id, source_row) lists
    rows the suite already holds back, left out of sums so one bad row is not blamed twice."""
    table = table or f"staging.{dataset}"
    out: dict[str, list[dict]] = {}
    con.execute("CREATE OR REPLACE TEMP TABLE _gx_failed (submission_id VARCHAR, source_row BIGINT)")
    insert_rows(con, "_gx_failed", ["submission_id", "source_row"], held)
    try:
        for name in checks_for(dataset):
            check = CHECKS[name]
            query = sql_text("ims_indicators.validate.sql", check.sql).replace("{table}", table)
            for ident, value in check.identifiers.items():
                query = query.replace("{" + ident + "}", value)
            cur = con.execute(query, {"ids": list(submission_ids), **check.params})
            cols = [d[0] for d in cur.description]
            out[name] = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.execute("DROP TABLE _gx_failed")
    return out
