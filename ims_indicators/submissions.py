"""Submissions: what was received and what was held back — the only module that writes ``meta.submissions``
and ``meta.quarantine``, for school files and open data alike.

It holds the identity of a received file (its sha256 and key), where the bytes are kept (``data/raw/``,
refused ones under ``data/rejected/``), the status rule (accepted / accepted_with_quarantine / rejected)
and supersession; and the read-only listings behind ``ims submissions`` / ``ims quarantine``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import year_slug
from ims_indicators.warehouse import insert_rows, open_warehouse, rows

SOURCE_SCHOOL = "school"
SOURCE_OPEN_DATA = "erasmus_open_data"
ACCEPTED = ("accepted", "accepted_with_quarantine")
QUARANTINE_COLUMNS = ("submission_id", "source_row", "stage", "rule", "column_name", "reason", "row_json",
                      "quarantined_at")
SUBMISSION_COLUMNS = ("submission_id", "dataset", "school_id", "academic_year", "source", "file_name", "stored_path",
                      "sha256", "received_at", "status", "reason", "rows_in", "rows_quarantined", "repairs")


# --- identity and the received bytes -----------------------------------------------------------------------

@dataclass(frozen=True)
class SubmissionKey:
    dataset: str
    school_id: str | None
    academic_year: str | None


def submission_id(key: SubmissionKey, sha: str, source: str = SOURCE_SCHOOL) -> str:
    parts = [key.dataset, key.school_id or "registry", year_slug(key.academic_year) if key.academic_year else "all"]
    if source != SOURCE_SCHOOL:
        parts.insert(0, source)
    return ".".join(parts + [sha[:12]])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)  # the GIL is released while it hashes: it can run beside DuckDB's reads
    return h.hexdigest()


def _atomic_copy(src: Path, dest: Path, *, link: bool = False) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    tmp.unlink(missing_ok=True)
    try:
        if not link:
            raise OSError("copy")
        os.link(src, tmp)  # large open-data files: a hard link where the file system allows it
    except OSError:
        shutil.copy2(src, tmp)  # keeps the modification time: the receipt time of a file dropped in
    os.replace(tmp, dest)


def keep_received(path: Path, folder: Path, sha: str, *, link: bool = False) -> Path:
    """The received bytes under data/raw/ (copied into ``folder`` if they came from elsewhere); never overwritten."""
    src = path.resolve()
    if src.is_relative_to(settings.raw_dir().resolve()):
        return src
    dest = folder / path.name
    if dest.exists() and not os.path.samefile(dest, src) and sha256_file(dest) != sha:
        dest = folder / f"{sha[:12]}_{path.name}"
    if not dest.exists():
        _atomic_copy(src, dest, link=link)
    return dest


def keep_rejected(path: Path, sub_id: str) -> Path:
    dest = settings.rejected_dir() / f"{sub_id}__{path.name}"
    if not dest.exists():
        _atomic_copy(path, dest)
    return dest


def relative_to_home(path: Path) -> str:
    """A path as stored in meta.submissions: relative to IMS_HOME where it lies inside it."""
    try:
        return str(path.resolve().relative_to(settings.home()))
    except ValueError:
        return str(path)


def from_home(stored_path: str) -> Path:
    """A path as stored in meta.submissions back as a path (the inverse of :func:`relative_to_home`)."""
    return settings.home() / stored_path  # an absolute stored path stays as it is


def received_at(path: Path) -> dt.datetime:
    """When a file arrived: its modification time where it was dropped (kept by our copies), never later than now.

    A rebuild from data/raw therefore records the same receipt times as the original ingest.
    """
    return min(dt.datetime.fromtimestamp(path.stat().st_mtime), dt.datetime.now())


# --- meta.submissions ------------------------------------------------------------------------------------------

def existing(con: duckdb.DuckDBPyConnection, sub_id: str) -> dict | None:
    found = rows(con, "SELECT status, reason, rows_in, rows_quarantined FROM meta.submissions WHERE submission_id = ?",
                 [sub_id])
    return found[0] if found else None


def may_be_known(con: duckdb.DuckDBPyConnection, key: SubmissionKey, source: str, size: int) -> bool:
    """Whether a file of ``size`` bytes may be one received before for ``key``: some submission of that key kept a
    file of that size, or one that is gone (the same bytes are the same size; False: it is certainly new)."""
    for (stored,) in con.execute("""SELECT stored_path FROM meta.submissions WHERE dataset = ? AND source = ?
                                    AND school_id IS NOT DISTINCT FROM ? AND academic_year IS NOT DISTINCT FROM ?""",
                                 [key.dataset, source, key.school_id, key.academic_year]).fetchall():
        try:
            if stored is None or from_home(stored).stat().st_size == size:
                return True
        except OSError:
            return True
    return False


def record(con: duckdb.DuckDBPyConnection, **values) -> None:
    """One row of meta.submissions (replacing the row of the same id: a file's own record is rewritten)."""
    cols = [c for c in SUBMISSION_COLUMNS if c in values]
    con.execute("DELETE FROM meta.submissions WHERE submission_id = ?", [values["submission_id"]])
    con.execute(f"INSERT INTO meta.submissions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [values[c] for c in cols])


def record_rejection(con: duckdb.DuckDBPyConnection, path: Path, key: SubmissionKey, sha: str, reason: str,
                     source: str = SOURCE_SCHOOL, sub_id: str | None = None) -> str:
    """Keep a refused file under data/rejected/ and record it (status rejected, the reason); returns its id.

    The same refused bytes again record nothing new."""
    sub_id = sub_id or submission_id(key, sha, source)
    if existing(con, sub_id) is None:
        stored = keep_rejected(path, sub_id)
        record(con, submission_id=sub_id, dataset=key.dataset, school_id=key.school_id,
               academic_year=key.academic_year, source=source, file_name=path.name,
               stored_path=relative_to_home(stored), sha256=sha, received_at=received_at(path), status="rejected",
               reason=reason, rows_in=0, rows_quarantined=0)
    return sub_id


def status_for(file_name: str, rows_in: int, held: int, file_reason: str | None = None) -> tuple[str, str | None]:
    """The status rule: rejected for a file-level failure or too many rows held back, else accepted (with quarantine)."""
    share = held / rows_in if rows_in else 1.0
    if file_reason:
        return "rejected", file_reason
    if share > settings.quarantine_max_share():
        return "rejected", (f"{file_name}: {held} of {rows_in} rows failed validation ({share:.0%} > "
                            f"{settings.quarantine_max_share():.0%} allowed, IMS_QUARANTINE_MAX_SHARE)")
    return ("accepted_with_quarantine" if held else "accepted"), None


def decide(con: duckdb.DuckDBPyConnection, sub_id: str, file_reason: str | None = None) -> tuple[str, str | None, int]:
    """Apply the status rule to a submission from its quarantined rows; returns (status, reason, rows held)."""
    file_name, rows_in = con.execute("SELECT file_name, rows_in FROM meta.submissions WHERE submission_id = ?",
                                     [sub_id]).fetchall()[0]
    overridden(con, sub_id)
    held = con.execute("SELECT count(DISTINCT source_row) FROM meta.quarantine WHERE submission_id = ? "
                       "AND override_id IS NULL", [sub_id]).fetchall()[0][0]
    status, reason = status_for(file_name, rows_in or 0, held, file_reason)
    con.execute("UPDATE meta.submissions SET status = ?, reason = ?, rows_quarantined = ? WHERE submission_id = ?",
                [status, reason, held, sub_id])
    return status, reason, held


def supersede(con: duckdb.DuckDBPyConnection, new_id: str) -> list[str]:
    """Mark the submissions the new one replaces (``superseded_by``); returns their ids.

    A school file supersedes the accepted submissions of the same dataset, school and year from the same source.
    An open-data submission supersedes earlier open-data ones of the same school and year that came from a file
    of the same name or share a project reference with it (a corrected release); other projects add up.
    A school's own submissions are never superseded by open data, nor the other way round.
    """
    sub = rows(con, "SELECT * FROM meta.submissions WHERE submission_id = ?", [new_id])[0]
    if sub["school_id"] is None or sub["academic_year"] is None:
        return []  # the registry: a file adds or updates the schools it lists
    same_key = """SELECT o.submission_id FROM meta.submissions o
                  WHERE o.dataset = $dataset AND o.school_id = $school AND o.academic_year = $year
                    AND o.source = $source AND o.submission_id <> $sid AND o.superseded_by IS NULL
                    AND o.status IN ('accepted', 'accepted_with_quarantine')"""
    params = {"dataset": sub["dataset"], "school": sub["school_id"], "year": sub["academic_year"],
              "source": sub["source"], "sid": new_id}
    if sub["source"] == SOURCE_OPEN_DATA:
        if not con.execute(same_key + " LIMIT 1", params).fetchall():
            return []  # no other current submission for the key: the project references need not be compared
        same_key += """ AND (o.file_name = $file_name OR EXISTS (
                           SELECT 1 FROM staging.erasmus_mobility e JOIN staging.erasmus_mobility n
                           ON n.project_reference = e.project_reference
                           WHERE e.submission_id = o.submission_id AND n.submission_id = $sid))"""
        params["file_name"] = sub["file_name"]
    older = [r[0] for r in con.execute(same_key, params).fetchall()]
    if older:
        con.execute("UPDATE meta.submissions SET superseded_by = ? WHERE submission_id IN (SELECT unnest(?))",
                    [new_id, older])
    return older


# --- meta.quarantine -------------------------------------------------------------------------------------------

def quarantine(con: duckdb.DuckDBPyConnection, failures: Iterable[Iterable]) -> None:
    """Rows held back: (submission_id, source_row, stage, rule, column_name, reason, row_json) each."""
    now = dt.datetime.now()
    insert_rows(con, "meta.quarantine", list(QUARANTINE_COLUMNS), [[*f, now] for f in failures],
                dtypes={"source_row": "BIGINT"})


def quarantine_query(con: duckdb.DuckDBPyConnection, select: str, params: dict | None = None) -> None:
    """Rows held back, selected in SQL as (submission_id, source_row, stage, rule, column_name, reason, row_json)."""
    con.execute(f"INSERT INTO meta.quarantine ({', '.join(QUARANTINE_COLUMNS)}) "
                f"SELECT *, now()::TIMESTAMP FROM ({select})", params or {})


def release(con: duckdb.DuckDBPyConnection, sub_id: str, *, stages: str = "checks") -> None:
    """Forget a submission's quarantined rows before they are decided again (``checks``: all but the read stage)."""
    if stages == "all":
        con.execute("DELETE FROM meta.quarantine WHERE submission_id = ?", [sub_id])
    else:
        con.execute("DELETE FROM meta.quarantine WHERE submission_id = ? AND stage <> 'read'", [sub_id])


def overridden(con: duckdb.DuckDBPyConnection, sub_id: str) -> None:
    """Mark the quarantined rows that an approved override (``meta.overrides``) lets through; they stay listed
    here, with the override's id, and promotion no longer holds them back (also after revalidation)."""
    con.execute("""UPDATE meta.quarantine AS q SET override_id = o.override_id FROM meta.overrides AS o
                   WHERE q.submission_id = $sid AND o.submission_id = q.submission_id AND o.rule = q.rule
                     AND list_contains(o.source_rows, q.source_row) AND q.override_id IS NULL""", {"sid": sub_id})


# --- listings ----------------------------------------------------------------------------------------------------

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
