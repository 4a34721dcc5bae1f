"""The collection's own state: tokens, the upload queue, sign-offs and the append-only audit log.

It lives in a small SQLite file beside the warehouse (``data/collection.db``, ``IMS_COLLECTION_DB``), not in
DuckDB: the portal must authenticate, queue uploads and write audit entries while another process holds
the warehouse (DuckDB allows one process per file). This module is the only writer of every table here;
``audit_log`` is append-only (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import takewhile
from pathlib import Path

from ims_indicators import settings

ROLES = ("keyholder", "steward", "analyst")
ACTIONS = ("upload", "confirm", "explain", "request", "approve", "reject", "sign-off", "unlock", "token-create",
           "token-revoke")
DDL = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, school_id TEXT,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, token_id TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, school_id TEXT, academic_year TEXT, dataset TEXT, target TEXT, details TEXT);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE IF NOT EXISTS uploads (
    job_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, token_id TEXT NOT NULL, school_id TEXT NOT NULL,
    dataset TEXT NOT NULL, academic_year TEXT NOT NULL, original_name TEXT NOT NULL, stored_path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, queued_at TEXT NOT NULL, state TEXT NOT NULL, finished_at TEXT,
    submission_id TEXT, outcome TEXT, kind TEXT NOT NULL DEFAULT 'upload', override_id TEXT);
CREATE TABLE IF NOT EXISTS overrides (
    override_id TEXT PRIMARY KEY, submission_id TEXT NOT NULL, school_id TEXT NOT NULL, academic_year TEXT NOT NULL,
    dataset TEXT NOT NULL, rule TEXT NOT NULL, source_rows TEXT NOT NULL, justification TEXT NOT NULL,
    requested_by TEXT NOT NULL, requested_at TEXT NOT NULL, status TEXT NOT NULL, decided_by TEXT,
    decided_at TEXT, note TEXT, job_id TEXT);
CREATE TABLE IF NOT EXISTS check_responses (
    school_id TEXT NOT NULL, academic_year TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
    response TEXT NOT NULL, token_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signoffs (
    school_id TEXT NOT NULL, academic_year TEXT NOT NULL, signed_off_at TEXT NOT NULL, token_id TEXT NOT NULL,
    unlocked_at TEXT, unlocked_by TEXT);
"""
_seq_lock = threading.Lock()
_migrated: set[str] = set()


def db_path() -> Path:
    return settings.collection_db()


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    """A short-lived connection (WAL, waits for a writer) that commits on success."""
    path = db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.row_factory = sqlite3.Row
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(DDL)
        if str(path) not in _migrated:  # collection.db from before overrides: the queue's job kinds
            cols = {r[1] for r in con.execute("PRAGMA table_info(uploads)")}
            for col, spec in (("kind", "TEXT NOT NULL DEFAULT 'upload'"), ("override_id", "TEXT")):
                if col not in cols:
                    con.execute(f"ALTER TABLE uploads ADD COLUMN {col} {spec}")
            _migrated.add(str(path))
        con.execute("BEGIN IMMEDIATE")
        yield con
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def _dicts(cur: sqlite3.Cursor) -> list[dict]:
    return [dict(r) for r in cur.fetchall()]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- audit -------------------------------------------------------------------------------------------------------

def audit(con: sqlite3.Connection, who: dict, action: str, *, school_id: str | None = None,
          academic_year: str | None = None, dataset: str | None = None, target: str | None = None,
          details: dict | None = None) -> None:
    """Append one entry (who: a token row with token_id and role)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    con.execute("INSERT INTO audit_log (at, token_id, role, action, school_id, academic_year, dataset, target, "
                "details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now(), who["token_id"], who["role"], action, school_id, academic_year, dataset, target,
                 json.dumps(details or {}, default=str)))


def audit_entries(school_id: str | None = None, after: int = 0) -> list[dict]:
    """Entries in order (of one school; with a number above ``after``)."""
    with connect() as con:
        q, p = "SELECT * FROM audit_log WHERE seq > ?", [after]
        if school_id:
            q, p = q + " AND school_id = ?", [*p, school_id]
        return _dicts(con.execute(q + " ORDER BY seq", p))


def last_audit_seq() -> int:
    if not db_path().is_file():
        return 0
    with connect() as con:
        return con.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]


# --- tokens -----------------------------------------------------------------------------------------------------

CLI_ACTOR = {"token_id": "cli", "role": "steward"}


def create_token(role: str, school_id: str | None) -> tuple[str, dict]:
    """A new token (32 random bytes, URL-safe): returned once; only its sha256 is kept."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if role == "keyholder" and not school_id:
        raise ValueError("a keyholder token needs --school")
    token = secrets.token_urlsafe(32)
    row = {"token_id": "tok_" + secrets.token_hex(4), "role": role,
           "school_id": school_id if role == "keyholder" else None, "created_at": now(), "revoked_at": None}
    with connect() as con:
        con.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL)",
                    (row["token_id"], hash_token(token), role, row["school_id"], row["created_at"]))
        audit(con, CLI_ACTOR, "token-create", school_id=row["school_id"], target=row["token_id"],
              details={"role": role})
    return token, row


def list_tokens() -> list[dict]:
    with connect() as con:
        return _dicts(con.execute("SELECT token_id, role, school_id, created_at, revoked_at FROM tokens "
                                  "ORDER BY created_at, token_id"))


def revoke_token(token_id: str) -> bool:
    with connect() as con:
        cur = con.execute("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                          (now(), token_id))
        if cur.rowcount:
            audit(con, CLI_ACTOR, "token-revoke", target=token_id)
        return bool(cur.rowcount)


def check_token(token: str) -> dict | None:
    """The active token row for a presented token (hash compared in constant time), else None."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with connect() as con:
        row = con.execute("SELECT token_id, token_hash, role, school_id FROM tokens WHERE token_hash = ? AND "
                          "revoked_at IS NULL", (digest,)).fetchone()
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    return {k: row[k] for k in ("token_id", "role", "school_id")}


# --- upload queue -----------------------------------------------------------------------------------------------

def _queue(con: sqlite3.Connection, who: dict, school_id: str, dataset: str, year: str, original_name: str,
           stored: str, size: int, kind: str = "upload", override_id: str | None = None) -> str:
    job_id = ("up_" if kind == "upload" else "ov_") + secrets.token_hex(8)
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM uploads").fetchone()[0]
    con.execute("INSERT INTO uploads (job_id, seq, token_id, school_id, dataset, academic_year, original_name, "
                "stored_path, size_bytes, queued_at, state, kind, override_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, seq, who["token_id"], school_id, dataset, year, original_name, stored, size, now(), kind,
                 override_id))
    return job_id


def enqueue(who: dict, school_id: str, dataset: str, year: str, original_name: str, stored: Path,
            size: int) -> dict:
    with _seq_lock, connect() as con:
        job_id = _queue(con, who, school_id, dataset, year, original_name, str(stored), size)
        audit(con, who, "upload", school_id=school_id, academic_year=year, dataset=dataset, target=job_id,
              details={"file_name": original_name, "size_bytes": size})
    return upload(job_id)


def upload(job_id: str) -> dict | None:
    with connect() as con:
        row = con.execute("SELECT * FROM uploads WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        return None
    rec = dict(row)
    rec["outcome"] = json.loads(rec["outcome"]) if rec["outcome"] else None
    return rec


def next_batch() -> list[dict]:
    """The jobs waiting, in order, marked running: the uploads before the first override, or that override alone
    (an override promotes rows of a submission that the uploads before it may replace)."""
    with connect() as con:
        waiting = con.execute("SELECT job_id, kind FROM uploads WHERE state IN ('queued', 'running') "
                              "ORDER BY seq").fetchall()
        if waiting and waiting[0][1] != "upload":
            batch = [waiting[0][0]]
        else:
            batch = [job_id for job_id, _ in takewhile(lambda job: job[1] == "upload", waiting)]
        con.executemany("UPDATE uploads SET state = 'running' WHERE job_id = ?", [(j,) for j in batch])
    return [upload(j) for j in batch]


def finish_upload(job_id: str, outcome: dict) -> None:
    with connect() as con:
        con.execute("UPDATE uploads SET state = 'done', finished_at = ?, submission_id = ?, outcome = ? "
                    "WHERE job_id = ?", (now(), outcome.get("submission_id"), json.dumps(outcome, default=str),
                                         job_id))


def uploads(school_id: str | None = None) -> list[dict]:
    with connect() as con:
        q, p = "SELECT job_id FROM uploads WHERE kind = 'upload'", []
        if school_id:
            q, p = q + " AND school_id = ?", [school_id]
        ids = [r[0] for r in con.execute(q + " ORDER BY seq", p).fetchall()]
    return [upload(i) for i in ids]


# --- sign-off ---------------------------------------------------------------------------------------------------

def signed_off(school_id: str, year: str) -> dict | None:
    """The open (not unlocked) sign-off of a school's year, if any."""
    with connect() as con:
        row = con.execute("SELECT * FROM signoffs WHERE school_id = ? AND academic_year = ? AND unlocked_at IS NULL",
                          (school_id, year)).fetchone()
    return dict(row) if row else None


def signed_off_keys() -> set[tuple[str, str]]:
    """(school_id, academic_year) pairs signed off and locked: what reports and the label may use."""
    if not db_path().is_file():
        return set()
    with connect() as con:
        return {(r[0], r[1]) for r in con.execute("SELECT school_id, academic_year FROM signoffs "
                                                  "WHERE unlocked_at IS NULL").fetchall()}


def record_signoff(who: dict, school_id: str, year: str, details: dict) -> None:
    with connect() as con:
        con.execute("INSERT INTO signoffs VALUES (?, ?, ?, ?, NULL, NULL)", (school_id, year, now(), who["token_id"]))
        audit(con, who, "sign-off", school_id=school_id, academic_year=year, details=details)


def record_unlock(who: dict, school_id: str, year: str, reason: str) -> bool:
    with connect() as con:
        cur = con.execute("UPDATE signoffs SET unlocked_at = ?, unlocked_by = ? WHERE school_id = ? AND "
                          "academic_year = ? AND unlocked_at IS NULL", (now(), who["token_id"], school_id, year))
        if cur.rowcount:
            audit(con, who, "unlock", school_id=school_id, academic_year=year, details={"reason": reason})
        return bool(cur.rowcount)


# --- edit-check responses ---------------------------------------------------------------------------------------

def check_responses(school_id: str, year: str) -> list[dict]:
    if not db_path().is_file():
        return []
    with connect() as con:
        return _dicts(con.execute("SELECT * FROM check_responses WHERE school_id = ? AND academic_year = ? "
                                  "ORDER BY at", (school_id, year)))


def record_response(who: dict, school_id: str, year: str, rule: str, severity: str, response: str) -> None:
    """The keyholder's explanation (severity explain) or confirmation (confirm) of one check."""
    action = "explain" if severity == "explain" else "confirm"
    with connect() as con:
        con.execute("INSERT INTO check_responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (school_id, year, rule, severity, response, who["token_id"], now()))
        audit(con, who, action, school_id=school_id, academic_year=year, target=rule, details={"response": response})


# --- overrides of fatal rules -----------------------------------------------------------------------------------

def _override(con: sqlite3.Connection, override_id: str) -> dict | None:
    row = con.execute("SELECT * FROM overrides WHERE override_id = ?", (override_id,)).fetchone()
    if row is None:
        return None
    rec = dict(row)
    rec["source_rows"] = json.loads(rec["source_rows"])
    return rec


def override(override_id: str) -> dict | None:
    with connect() as con:
        return _override(con, override_id)


def overrides(school_id: str | None = None, status: str | None = None) -> list[dict]:
    with connect() as con:
        q, p = "SELECT override_id FROM overrides WHERE 1 = 1", []
        if school_id:
            q, p = q + " AND school_id = ?", [*p, school_id]
        if status:
            q, p = q + " AND status = ?", [*p, status]
        return [_override(con, r[0]) for r in con.execute(q + " ORDER BY requested_at, override_id", p).fetchall()]


def record_override_request(who: dict, sub: dict, rule: str, source_rows: list[int], justification: str) -> dict:
    """A keyholder's request to let named quarantined rows through despite a fatal rule (status requested)."""
    override_id = "ovr_" + secrets.token_hex(6)
    with connect() as con:
        con.execute("INSERT INTO overrides (override_id, submission_id, school_id, academic_year, dataset, rule, "
                    "source_rows, justification, requested_by, requested_at, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested')",
                    (override_id, sub["submission_id"], sub["school_id"], sub["academic_year"], sub["dataset"], rule,
                     json.dumps(source_rows), justification, who["token_id"], now()))
        audit(con, who, "request", school_id=sub["school_id"], academic_year=sub["academic_year"],
              dataset=sub["dataset"], target=override_id,
              details={"submission_id": sub["submission_id"], "rule": rule, "source_rows": source_rows,
                       "justification": justification})
        return _override(con, override_id)


def record_override_decision(who: dict, override_id: str, approve: bool, note: str) -> dict | None:
    """A steward's decision on a requested override; an approval queues its promotion (None: not open)."""
    with _seq_lock, connect() as con:
        ov = _override(con, override_id)
        if ov is None or ov["status"] != "requested":
            return None
        job_id = None
        if approve:
            job_id = _queue(con, who, ov["school_id"], ov["dataset"], ov["academic_year"],
                            f"override {override_id}", "", 0, kind="override", override_id=override_id)
        con.execute("UPDATE overrides SET status = ?, decided_by = ?, decided_at = ?, note = ?, job_id = ? "
                    "WHERE override_id = ?", ("approved" if approve else "rejected", who["token_id"], now(), note,
                                              job_id, override_id))
        audit(con, who, "approve" if approve else "reject", school_id=ov["school_id"],
              academic_year=ov["academic_year"], dataset=ov["dataset"], target=override_id,
              details={"submission_id": ov["submission_id"], "rule": ov["rule"], "note": note, "job_id": job_id})
        return _override(con, override_id)
