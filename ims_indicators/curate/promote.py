"""Staging → curated: hold back failing rows, decide the status, supersede, replace the curated key."""

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
    sid = verdict.submission_id
    spec = contract(dataset)
    with transaction(con):
        submissions.release(con, sid)
        if verdict.failures:
            con.execute("CREATE OR REPLACE TEMP TABLE _failures (source_row BIGINT, stage VARCHAR, rule VARCHAR, "
                        "column_name VARCHAR, reason VARCHAR)")
            insert_rows(con, "_failures", ["source_row", "stage", "rule", "column_name", "reason"],
                        [[f.source_row, f.stage, f.rule, f.column, f.reason] for f in verdict.failures])
            row = ", ".join(f"{quote_ident(c)} := s.{quote_ident(c)}" for c in spec.names)  # DuckDB 2: no s.* here
            submissions.quarantine_query(con, f"""
                SELECT $sid, f.source_row, f.stage, f.rule, f.column_name, f.reason,
                       to_json(struct_pack({row}))::VARCHAR
                FROM _failures f LEFT JOIN staging.{dataset} s ON s.submission_id = $sid AND s.source_row = f.source_row
                ORDER BY f.source_row""", {"sid": sid})
            con.execute("DROP TABLE _failures")
        status, reason, held = submissions.decide(con, sid, verdict.file_reason)
        if status != "rejected":
            _promote(con, dataset, sid)
        else:  # revalidation may reject a submission that was curated before: take its rows back out
            con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id = ?", [sid])
    return {"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held}


def promote_overridden(con: duckdb.DuckDBPyConnection, dataset: str, sid: str) -> dict:
    """After an override was recorded: the submission's status again, and its rows (now with the overridden
    ones) to curated. The caller holds the transaction."""
    status, reason, held = submissions.decide(con, sid)
    if status != "rejected":
        _promote(con, dataset, sid)
    return {"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held}


def _promote(con: duckdb.DuckDBPyConnection, dataset: str, sid: str) -> None:
    """Make this submission the current one for its key; the ones it supersedes leave curated."""
    cols = ", ".join(quote_ident(c) for c in ("submission_id", "source_row", *contract(dataset).names))
    older = submissions.supersede(con, sid)
    con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id IN (SELECT unnest(?))", [[sid, *older]])
    if not contract(dataset).per_year:  # the registry: a file adds or updates the schools it lists
        con.execute(f"""DELETE FROM curated.{dataset} WHERE school_id IN (SELECT school_id FROM staging.{dataset}
                        WHERE submission_id = $sid AND source_row NOT IN
                        (SELECT source_row FROM meta.quarantine WHERE submission_id = $sid AND source_row IS NOT NULL
                        AND override_id IS NULL))""", {"sid": sid})
    con.execute(f"""INSERT INTO curated.{dataset} ({cols})
                    SELECT {cols} FROM staging.{dataset} WHERE submission_id = $sid AND source_row NOT IN
                    (SELECT source_row FROM meta.quarantine WHERE submission_id = $sid AND source_row IS NOT NULL
                     AND override_id IS NULL)""", {"sid": sid})
