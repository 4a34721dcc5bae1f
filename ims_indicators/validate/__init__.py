"""Validation between staging and curated (Great Expectations suites + cross-dataset checks).

The contract with curation: :func:`check_staged` returns, per submission, the rows that must be held back
and, where a file-level rule fails, the reason to reject the submission whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class RowFailure:
    source_row: int
    rule: str  # expectation type or check name
    column: str | None
    reason: str  # a sentence a steward understands
    stage: str = "validate"


@dataclass
class Verdict:
    submission_id: str
    failures: list[RowFailure] = field(default_factory=list)
    file_reason: str | None = None  # set when a file-level rule fails: the submission is rejected whole


def check_staged(con: duckdb.DuckDBPyConnection, dataset: str, submission_ids: list[str]) -> list[Verdict]:
    """Validate staged submissions of one dataset. (Placeholder until the GX suites land: nothing fails.)"""
    return [Verdict(s) for s in submission_ids]
