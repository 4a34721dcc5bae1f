"""What validation hands to curation: per submission, the rows to hold back and any file-level reason."""

from __future__ import annotations

from dataclasses import dataclass, field


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
