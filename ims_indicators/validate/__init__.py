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
    """Validate staged submissions of one dataset: the GX suite ``expectations/<dataset>.json`` over all of
    them at once (in chunks), then the cross-dataset checks; results go to ``meta.validation_runs``.

    Great Expectations is imported only when this runs (never at ``ims --help``).
    """
    from ims_indicators.validate.run import check_staged as _check_staged

    return _check_staged(con, dataset, submission_ids)
