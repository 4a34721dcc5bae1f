"""``meta.audit_log``: the warehouse's append-only copy of the collection's audit log — its only writer.

The portal writes every action to ``collection.db`` (``state.audit``), which it can do while another process
holds the warehouse. Whoever holds the warehouse (the portal's worker after each batch, the pipeline's validate
stage) appends the entries it does not have yet; entries are never updated or deleted.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ims_indicators.collection import state
from ims_indicators.warehouse import insert_rows

COLUMNS = ("seq", "at", "token_id", "role", "action", "school_id", "academic_year", "dataset", "target", "details")


def utc(iso: str) -> dt.datetime:
    """An ISO time of collection.db as a naive UTC timestamp (the warehouse's TIMESTAMP)."""
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).replace(tzinfo=None)


def copy_audit_log(con: duckdb.DuckDBPyConnection) -> int:
    """Append the entries of collection.db that meta.audit_log lacks; returns how many."""
    if not state.db_path().is_file():
        return 0
    last = con.execute("SELECT coalesce(max(seq), 0) FROM meta.audit_log").fetchall()[0][0]
    new = state.audit_entries(after=int(last))
    copied_at = utc(state.now())
    insert_rows(con, "meta.audit_log", ["seq", "acted_at", *COLUMNS[2:], "copied_at"],
                [[e["seq"], utc(e["at"]), *(e[c] for c in COLUMNS[2:]), copied_at] for e in new],
                select=f"seq, acted_at, {', '.join(COLUMNS[2:-1])}, CAST(details AS JSON), copied_at")
    return len(new)
