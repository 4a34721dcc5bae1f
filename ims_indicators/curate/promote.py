"""Staging → curated: hold back failing rows, decide the status, supersede (curated.<dataset> is the view of
what passed: no row is copied)."""

from __future__ import annotations

import duckdb

from ims_indicators import submissions
from ims_indicators.contracts import contract
from ims_indicators.validate.verdict import Verdict
from ims_indicators.warehouse import insert_rows, quote_ident, transaction


def pending(con: duckdb.DuckDBPyConnection, dataset: str | None = None) -> dict[str, list[str]]:
    """Staged submissions waiting for validation, per dataset (registry first)."""
    query = "SELECT dataset, submission_id FROM meta.submissions WHERE status = 'staged'"
    params: list = []
    if dataset:
        query += " AND dataset = ?"
        params.append(dataset)
    out: dict[str, list[str]] = {}
    for ds, sid in con.execute(query + " ORDER BY dataset <> 'schools', dataset, received_at, submission_id",
                               params).fetchall():
        out.setdefault(ds, []).append(sid)
    return out


def apply_verdict(con: duckdb.DuckDBPyConnection, dataset: str, verdict: Verdict) -> dict:
    """In one transaction: quarantine the failing rows, set the status, and promote the rest to curated."""
    return apply_verdicts(con, dataset, [verdict])[0]


def apply_verdicts(con: duckdb.DuckDBPyConnection, dataset: str, verdicts: list[Verdict]) -> list[dict]:
    """:func:`apply_verdict` for many submissions of one dataset in ONE transaction, in their order (a later one
    for the same key supersedes an earlier one): an open-data file holds dozens of submissions, and a commit each
    cost more than the rows. No row is copied: curated.<dataset> is the view of the staged rows of the current
    submissions that passed (``sql/curated.sql``), so a decision and a supersession are what promote them."""
    outcomes = []
    with transaction(con):
        for verdict in verdicts:
            sid = verdict.submission_id
            submissions.release(con, sid)
            if verdict.failures:
                _quarantine_failures(con, dataset, verdict)
            status, reason, held = submissions.decide(con, sid, verdict.file_reason)
            outcomes.append({"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held})
            if status != "rejected":
                submissions.supersede(con, sid)  # the registry: a file adds or updates the schools it lists
    return outcomes


def promote_overridden(con: duckdb.DuckDBPyConnection, sid: str) -> dict:
    """After an override was recorded: the submission's status again (its overridden rows now pass into curated),
    superseding the earlier ones for its key. The caller holds the transaction."""
    status, reason, held = submissions.decide(con, sid)
    if status != "rejected":
        submissions.supersede(con, sid)
    return {"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held}


def _quarantine_failures(con: duckdb.DuckDBPyConnection, dataset: str, verdict: Verdict) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _failures (source_row BIGINT, stage VARCHAR, rule VARCHAR, "
                "column_name VARCHAR, reason VARCHAR)")
    insert_rows(con, "_failures", ["source_row", "stage", "rule", "column_name", "reason"],
                [[f.source_row, f.stage, f.rule, f.column, f.reason] for f in verdict.failures])
    row = ", ".join(f"{quote_ident(c)} := s.{quote_ident(c)}" for c in contract(dataset).names)  # DuckDB 2: no s.*
    submissions.quarantine_query(con, f"""
        SELECT $sid, f.source_row, f.stage, f.rule, f.column_name, f.reason, to_json(struct_pack({row}))::VARCHAR
        FROM _failures f LEFT JOIN staging.{dataset} s ON s.submission_id = $sid AND s.source_row = f.source_row
        ORDER BY f.source_row""", {"sid": verdict.submission_id})
    con.execute("DROP TABLE _failures")
