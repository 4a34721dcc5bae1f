"""Helpers for the survey tests: an in-memory warehouse and rows in either submission form."""

from __future__ import annotations

import statistics

import duckdb
import pytest

from ims_indicators.warehouse import ensure_schema
from tests.curated import accept_staged

YEAR = "2023/24"


@pytest.fixture
def con():
    c = duckdb.connect()
    ensure_schema(c)
    yield c
    c.close()


INVITED = 100  # students invited: 15 answers are a 15 % response rate


def add_respondents(con, school: str, item: str, scores: list[int | None], year: str = YEAR,
                    invited: int | None = INVITED, year_of_study: list[int] | None = None) -> None:
    """One curated row per respondent (respondent_ref r1, r2, …; None = 'cannot judge'; year of study 2 unless
    given per respondent)."""
    sub = f"student_survey.{school}.{year.replace('/', '-')}.resp"
    years = year_of_study or [2] * len(scores)
    con.executemany(
        "INSERT INTO staging.student_survey (submission_id, source_row, school_id, academic_year, item, respondent_ref, "
        "score, year_of_study, students_invited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[sub, i + 2, school, year, item, f"r{i + 1}", s, y, invited] for i, (s, y) in enumerate(zip(scores, years))])
    accept_staged(con, "student_survey")


def add_aggregated(con, school: str, item: str, n: int, mean: float, sd: float | None, year: str = YEAR,
                   invited: int | None = INVITED) -> None:
    sub = f"student_survey.{school}.{year.replace('/', '-')}.agg"
    row = con.execute("SELECT count(*) FROM staging.student_survey WHERE submission_id = ?", [sub]).fetchall()[0][0]
    con.execute("INSERT INTO staging.student_survey (submission_id, source_row, school_id, academic_year, item, "
                "responses, mean, sd, students_invited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sub, row + 2, school, year, item, n, mean, sd, invited])
    accept_staged(con, "student_survey")


def add_as_aggregate(con, school: str, item: str, scores: list[int | None], year: str = YEAR) -> None:
    """The same answers as the school's own aggregate (responses, mean, sd with n − 1), unrounded."""
    xs = [s for s in scores if s is not None]
    add_aggregated(con, school, item, len(xs), statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None,
                   year)


def items(con) -> dict[tuple[str, str], dict]:
    cur = con.execute("SELECT * FROM marts.survey_items")
    names = [d[0] for d in cur.description]
    return {(r["school_id"], r["item"]): r for r in (dict(zip(names, row)) for row in cur.fetchall())}
