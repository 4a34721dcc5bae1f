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
    return apply_verdicts(con, dataset, [verdict])[0]


def apply_verdicts(con: duckdb.DuckDBPyConnection, dataset: str, verdicts: list[Verdict]) -> list[dict]:
    """:func:`apply_verdict` for many submissions of one dataset in ONE transaction, in their order (a later one
    for the same key supersedes an earlier one). Curated rows move in one DELETE and one INSERT: an open-data file
    holds dozens of submissions, and a commit each cost more than the rows."""
    outcomes = []
    with transaction(con):
        kept: list[str] = []
        gone: list[str] = []  # rejected (revalidation may reject what was curated before) or superseded
        for verdict in verdicts:
            sid = verdict.submission_id
            submissions.release(con, sid)
            if verdict.failures:
                _quarantine_failures(con, dataset, verdict)
            status, reason, held = submissions.decide(con, sid, verdict.file_reason)
            outcomes.append({"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held})
            if status == "rejected":
                gone.append(sid)
            elif not contract(dataset).per_year:  # the registry: a file adds or updates the schools it lists
                _promote(con, dataset, [sid])
            else:  # decided in order: the later ones of this batch are still 'staged' and not superseded here
                older = submissions.supersede(con, sid)
                gone += older
                kept = [k for k in kept if k not in older] + [sid]
        if kept:
            _promote(con, dataset, kept)
        if gone:
            con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id IN (SELECT unnest(?))", [gone])
    return outcomes


def promote_overridden(con: duckdb.DuckDBPyConnection, dataset: str, sid: str) -> dict:
    """After an override was recorded: the submission's status again, and its rows (now with the overridden
    ones) to curated. The caller holds the transaction."""
    status, reason, held = submissions.decide(con, sid)
    if status != "rejected":
        if contract(dataset).per_year:
            older = submissions.supersede(con, sid)
            if older:
                con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id IN (SELECT unnest(?))", [older])
        _promote(con, dataset, [sid])
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


def _promote(con: duckdb.DuckDBPyConnection, dataset: str, sids: list[str]) -> None:
    """Make these submissions the current ones for their keys: their rows (but the held-back ones) into curated."""
    cols = ", ".join(quote_ident(c) for c in ("submission_id", "source_row", *contract(dataset).names))
    con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id IN (SELECT unnest(?))", [sids])
    held = """NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.submission_id = s.submission_id
                          AND q.source_row = s.source_row AND q.override_id IS NULL)"""  # overridden rows go in
    if not contract(dataset).per_year:
        con.execute(f"""DELETE FROM curated.{dataset} WHERE school_id IN (SELECT school_id FROM staging.{dataset} s
                        WHERE submission_id IN (SELECT unnest($sids)) AND {held})""", {"sids": sids})
    con.execute(f"""INSERT INTO curated.{dataset} ({cols})
                    SELECT {cols} FROM staging.{dataset} s WHERE submission_id IN (SELECT unnest($sids)) AND {held}""",
                {"sids": sids})
