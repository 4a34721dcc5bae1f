"""Read-only listings of what was received and what was held back (``ims submissions`` / ``ims quarantine``)."""

from __future__ import annotations

from ims_indicators import settings
from ims_indicators.warehouse import open_warehouse, rows


def list_submissions(dataset: str | None = None, school_id: str | None = None) -> list[dict]:
    if not settings.warehouse().exists():
        return []
    query, params = "SELECT * FROM meta.submissions WHERE 1 = 1", []
    if dataset:
        query += " AND dataset = ?"
        params.append(dataset)
    if school_id:
        query += " AND school_id = ?"
        params.append(school_id)
    with open_warehouse(read_only=True) as con:
        return rows(con, query + " ORDER BY dataset, school_id, academic_year, received_at", params)


def list_quarantine(submission_id: str | None = None) -> list[dict]:
    if not settings.warehouse().exists():
        return []
    query, params = "SELECT * FROM meta.quarantine", []
    if submission_id:
        query += " WHERE submission_id = ?"
        params.append(submission_id)
    with open_warehouse(read_only=True) as con:
        return rows(con, query + " ORDER BY submission_id, source_row, rule", params)
