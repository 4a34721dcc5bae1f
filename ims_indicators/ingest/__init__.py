"""Ingestion: stage received files, validate them, promote to curated and publish Parquet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from ims_indicators.curate.promote import apply_verdict, pending
from ims_indicators.curate.publish import publish_stale
from ims_indicators.ingest.stage import SubmissionResult, discover, stage_file

Progress = Callable[[str, int], None]  # (file name, rows) after each file


@dataclass
class IngestReport:
    results: list[SubmissionResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def refused(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status == "rejected"]

    def summary(self) -> dict:
        statuses: dict[str, int] = {}
        for r in self.results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        return {"files": len(self.results), "statuses": statuses,
                "rows_in": sum(r.rows_in for r in self.results if r.status != "unchanged"),
                "rows_quarantined": sum(r.rows_quarantined for r in self.results if r.status != "unchanged")}


def process_pending(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> list[dict]:
    """Validate every staged submission, then quarantine/promote each in its own transaction and publish."""
    from ims_indicators.validate import check_staged

    outcomes = []
    for ds, ids in pending(con, dataset).items():
        outcomes.extend(apply_verdict(con, ds, verdict) for verdict in check_staged(con, ds, ids))
    publish_stale(con)
    return outcomes


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[Path], *, dataset: str | None = None,
                 school_id: str | None = None, academic_year: str | None = None,
                 progress: Progress | None = None) -> IngestReport:
    """Ingest files and/or data/raw-style folders: stage each, then validate and promote what was staged."""
    report = IngestReport()
    by_id: dict[str, SubmissionResult] = {}
    for path in discover(paths):
        result = stage_file(con, path, dataset=dataset, school_id=school_id, academic_year=academic_year)
        report.results.append(result)
        by_id[result.submission_id] = result
        if progress:
            progress(path.name, result.rows_in)
    for outcome in process_pending(con):
        if (r := by_id.get(outcome["submission_id"])) is not None:
            r.status, r.reason, r.rows_quarantined = outcome["status"], outcome["reason"], outcome["rows_quarantined"]
    return report
