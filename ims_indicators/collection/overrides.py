"""Overrides of fatal rules (HESA's tolerance overrides): the only writer of ``meta.overrides``.

A keyholder names quarantined rows of one of their school's current submissions, the fatal rule they broke and
a justification (``state.record_override_request``); a steward approves or rejects it. An approval is queued
like an upload: the portal's worker, holding the warehouse, calls :func:`promote` — the override is recorded,
its quarantine rows are marked with its id (``meta.quarantine.override_id``), and the rows go to curated with
their lineage (submission_id, source_row), so every curated row let through is traceable to its override.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ims_indicators.collection.checks import rules as check_rules
from ims_indicators.warehouse import rows, transaction


class OverrideRefused(ValueError):
    """The request cannot be granted (the message says why and what is expected)."""


def check_request(con: duckdb.DuckDBPyConnection, sub: dict, rule: str, source_rows: list[int]) -> None:
    """Refuse a request for a rule that is not fatal, or for rows that rule does not hold back."""
    soft = {r["rule"]: r["severity"] for r in check_rules()}
    if rule in soft:
        raise OverrideRefused(f"rule {rule!r} has severity {soft[rule]}, not fatal: {soft[rule]} it on the school "
                              "page instead of requesting an override")
    if sub["superseded_by"] or sub["status"] != "accepted_with_quarantine":
        raise OverrideRefused(f"submission {sub['submission_id']} is {'superseded' if sub['superseded_by'] else sub['status']}"
                              "; expected the current submission with rows held back")
    if not source_rows:
        raise OverrideRefused("source_rows: expected the row numbers held back (as listed in the quarantine)")
    held = {r["source_row"]: r["stage"] for r in rows(
        con, "SELECT source_row, stage FROM meta.quarantine WHERE submission_id = ? AND rule = ? "
             "AND override_id IS NULL", [sub["submission_id"], rule])}
    if not held:
        raise OverrideRefused(f"rule {rule!r} holds back no row of submission {sub['submission_id']}; expected a "
                              "fatal rule listed in its quarantine")
    missing = sorted(set(source_rows) - set(held))
    if missing:
        raise OverrideRefused(f"row(s) {', '.join(map(str, missing))} of {sub['file_name']} are not held back by "
                              f"rule {rule!r}; expected some of {', '.join(map(str, sorted(held)))}")
    unread = sorted(r for r in source_rows if held[r] == "read")
    if unread:
        raise OverrideRefused(f"row(s) {', '.join(map(str, unread))} of {sub['file_name']} could not be read into "
                              f"the contract's types (rule {rule!r}); send a corrected file instead")


def promote(con: duckdb.DuckDBPyConnection, ov: dict) -> dict:
    """Record an approved override and promote its rows (one transaction); the outcome for the queue."""
    from ims_indicators.collection.audit import utc
    from ims_indicators.curate.promote import promote_overridden

    found = rows(con, "SELECT * FROM meta.submissions WHERE submission_id = ?", [ov["submission_id"]])
    if not found:
        raise OverrideRefused(f"submission {ov['submission_id']} is not in the warehouse")
    check_request(con, found[0], ov["rule"], ov["source_rows"])
    with transaction(con):
        con.execute("INSERT INTO meta.overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                    [ov["override_id"], ov["submission_id"], ov["dataset"], ov["school_id"], ov["academic_year"],
                     ov["rule"], ov["source_rows"], ov["justification"], ov["requested_by"], utc(ov["requested_at"]),
                     ov["decided_by"], utc(ov["decided_at"]), dt.datetime.now(dt.UTC).replace(tzinfo=None)])
        outcome = promote_overridden(con, ov["submission_id"])
        promoted = con.execute(
            f"SELECT count(*) FROM curated.{ov['dataset']} WHERE submission_id = ? "
            "AND list_contains(?, source_row)", [ov["submission_id"], ov["source_rows"]]).fetchall()[0][0]
        con.execute("UPDATE meta.overrides SET rows_promoted = ? WHERE override_id = ?", [promoted, ov["override_id"]])
    return {**outcome, "status": "promoted", "submission_status": outcome["status"],
            "override_id": ov["override_id"], "rows_promoted": promoted}


def lineage(con: duckdb.DuckDBPyConnection, override_id: str) -> list[dict]:
    """The curated rows an override let through, with the override and the quarantine reason they carried."""
    ov = rows(con, "SELECT dataset FROM meta.overrides WHERE override_id = ?", [override_id])
    if not ov:
        return []
    return rows(con, f"""
        SELECT o.override_id, o.rule, o.justification, o.approved_by, c.submission_id, c.source_row, q.reason
        FROM meta.overrides AS o
        JOIN meta.quarantine AS q ON q.override_id = o.override_id
        JOIN curated.{ov[0]['dataset']} AS c ON c.submission_id = q.submission_id AND c.source_row = q.source_row
        WHERE o.override_id = ? ORDER BY c.source_row""", [override_id])
