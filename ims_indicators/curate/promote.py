"""Staging → curated: hold back failing rows, decide the status, supersede, replace the curated key."""

from __future__ import annotations

import datetime as dt

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import contract
from ims_indicators.validate.verdict import Verdict
from ims_indicators.warehouse import quote_ident, rows, transaction


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
    sub = rows(con, "SELECT * FROM meta.submissions WHERE submission_id = ?", [sid])[0]
    now = dt.datetime.now()
    with transaction(con):
        con.execute("DELETE FROM meta.quarantine WHERE submission_id = ? AND stage <> 'read'", [sid])
        if verdict.failures:
            con.execute("CREATE OR REPLACE TEMP TABLE _failures (source_row BIGINT, stage VARCHAR, rule VARCHAR, "
                        "column_name VARCHAR, reason VARCHAR)")
            con.executemany("INSERT INTO _failures VALUES (?, ?, ?, ?, ?)",
                            [[f.source_row, f.stage, f.rule, f.column, f.reason] for f in verdict.failures])
            row = ", ".join(f"{quote_ident(c)} := s.{quote_ident(c)}" for c in spec.names)  # DuckDB 2: no s.* here
            con.execute(f"""
                INSERT INTO meta.quarantine (submission_id, source_row, stage, rule, column_name, reason, row_json,
                                             quarantined_at)
                SELECT $sid, f.source_row, f.stage, f.rule, f.column_name, f.reason,
                       to_json(struct_pack({row}))::VARCHAR, $now
                FROM _failures f LEFT JOIN staging.{dataset} s ON s.submission_id = $sid AND s.source_row = f.source_row
                ORDER BY f.source_row""", {"sid": sid, "now": now})
            con.execute("DROP TABLE _failures")
        held = con.execute("SELECT count(DISTINCT source_row) FROM meta.quarantine WHERE submission_id = ?",
                           [sid]).fetchall()[0][0]
        rows_in = sub["rows_in"] or 0
        share = held / rows_in if rows_in else 1.0
        if verdict.file_reason:
            status, reason = "rejected", verdict.file_reason
        elif share > settings.quarantine_max_share():
            status = "rejected"
            reason = (f"{sub['file_name']}: {held} of {rows_in} rows failed validation "
                      f"({share:.0%} > {settings.quarantine_max_share():.0%} allowed, IMS_QUARANTINE_MAX_SHARE)")
        else:
            status, reason = ("accepted_with_quarantine" if held else "accepted"), None
        con.execute("UPDATE meta.submissions SET status = ?, reason = ?, rows_quarantined = ? WHERE submission_id = ?",
                    [status, reason, held, sid])
        if status != "rejected":
            _promote(con, dataset, spec.per_year, sub)
        else:  # revalidation may reject a submission that was curated before: take its rows back out
            con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id = ?", [sid])
    return {"submission_id": sid, "status": status, "reason": reason, "rows_quarantined": held}


def _promote(con: duckdb.DuckDBPyConnection, dataset: str, per_year: bool, sub: dict) -> None:
    """Make this submission the current one for its key; older ones for the key are superseded."""
    sid = sub["submission_id"]
    cols = ", ".join(quote_ident(c) for c in ("submission_id", "source_row", *contract(dataset).names))
    if per_year and sub["source"] == "erasmus_open_data":  # ims_indicators/erasmus decides what a file supersedes
        older = []
        con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id = ?", [sid])
    elif per_year:
        older = [r[0] for r in con.execute(
            """SELECT submission_id FROM meta.submissions WHERE dataset = ? AND school_id = ? AND academic_year = ?
               AND source = ? AND submission_id <> ? AND status IN ('accepted', 'accepted_with_quarantine')
               AND superseded_by IS NULL""",
            [dataset, sub["school_id"], sub["academic_year"], sub["source"], sid]).fetchall()]
        # curated holds exactly one submission per key: drop whatever the key had from this source
        con.execute(f"""DELETE FROM curated.{dataset} WHERE school_id = ? AND academic_year = ? AND submission_id IN
                        (SELECT submission_id FROM meta.submissions WHERE source = ?)""",
                    [sub["school_id"], sub["academic_year"], sub["source"]])
    else:  # the registry: a file adds or updates the schools it lists
        older = []
        con.execute(f"DELETE FROM curated.{dataset} WHERE submission_id = ?", [sid])  # rows now quarantined too
        con.execute(f"""DELETE FROM curated.{dataset} WHERE school_id IN (SELECT school_id FROM staging.{dataset}
                        WHERE submission_id = $sid AND source_row NOT IN
                        (SELECT source_row FROM meta.quarantine WHERE submission_id = $sid AND source_row IS NOT NULL))""",
                    {"sid": sid})
    con.execute(f"""INSERT INTO curated.{dataset} ({cols})
                    SELECT {cols} FROM staging.{dataset} WHERE submission_id = $sid AND source_row NOT IN
                    (SELECT source_row FROM meta.quarantine WHERE submission_id = $sid AND source_row IS NOT NULL)""",
                    {"sid": sid})
    if older:
        con.execute("UPDATE meta.submissions SET superseded_by = ? WHERE submission_id IN (SELECT unnest(?))",
                    [sid, older])
