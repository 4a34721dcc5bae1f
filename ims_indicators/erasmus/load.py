"""Load Erasmus+ KA1 mobility open-data files: a second source of mobility rows, streamed through DuckDB.

One pass over each file inside DuckDB (``read_csv`` with explicit options, every column as text) keeps only
the rows whose sending or receiving organisation is a registry school, matched on the normalised Erasmus
code; the rest is counted, never held in memory or in pandas. The kept rows are mapped onto the mobility
contract (``sql/map.sql``, tables in ``sql/mapping.sql``), checked by the mobility expectations as SQL
(``sql/validate.sql``) and written as submissions of source ``erasmus_open_data``:

* one submission per file × school × academic year (``meta.submissions``, with status and row counts), its
  rows in ``staging.mobility``/``curated.mobility`` and, beyond the contract, ``staging/curated.erasmus_mobility``
  (field of education, ISCED-F code, …), joined on (submission_id, source_row);
* one record of the file itself (``erasmus_open_data.mobility.file.<sha12>``, status ``loaded``, school and year
  empty): its corrupt lines and its rows without an academic year are quarantined there with their line numbers;
* open-data rows never replace a school's own rows. A new open-data submission supersedes the earlier
  open-data submissions of the same school and year that came from a file of the same name or share a
  project reference with it (a corrected release); files of other projects (another call year) add up.

The same file with the same registry and mapping again changes nothing (``meta.erasmus_loads``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import contract
from ims_indicators.erasmus.layouts import FIELDS, Layout, detect_layout
from ims_indicators.errors import InputRefused
from ims_indicators.ingest.stage import SubmissionKey, keep_rejected, submission_id, relative_to_home
from ims_indicators.read.received import check_received, walk_received
from ims_indicators.warehouse import quote_ident, rows, sql_text, transaction

SOURCE = "erasmus_open_data"
SQL = "ims_indicators.erasmus.sql"
SUFFIXES = {".csv", ".txt", ".tsv"}
RAW_FOLDER = "_erasmus_open_data"  # under data/raw/; '_' keeps `ims ingest data/raw` from taking it for a dataset
MISSING = ("-", "Undefined", "? Unknown ?", "")  # read as NULL by DuckDB already (trimmed variants: erasmus_value)
EXTRA_COLUMNS = ("project_reference", "activity_mob", "field_of_education", "isced_f_code", "education_level",
                 "participant_profile", "duration_days", "nationality", "gender", "age", "special_needs",
                 "fewer_opportunities", "group_leader", "sending_country", "sending_organisation",
                 "sending_erasmus_code", "receiving_country", "receiving_organisation", "receiving_erasmus_code",
                 "participants")
MEMORY_LIMIT = "1GB"  # DuckDB's own memory during a load (the whole process stays well under 1.5 GB)
TEMP_TABLES = ("_erasmus_scan", "_erasmus_rows", "_erasmus_mapped", "_erasmus_violations", "_erasmus_subs",
               "_erasmus_older", "_erasmus_rejects", "_erasmus_rejects_scan", "_erasmus_registry")

Progress = Callable[[str, float | None], None]  # (what is happening, fraction done or None)
_RAW = "{" + ", ".join(f"'{f}': r.{f}" for f in FIELDS) + "}"  # a row as received, for meta.quarantine.row_json


class RegistryNotReady(Exception):
    """The registry cannot be matched against the open data (no Erasmus codes, or one code twice)."""


@dataclass
class FileResult:
    file: str
    status: str  # loaded, unchanged, rejected
    submission_id: str  # the file's own record in meta.submissions
    sha256: str
    reason: str | None = None
    layout: str | None = None
    rows_read: int = 0  # data rows read (corrupt lines not included)
    rows_corrupt: int = 0  # lines with the wrong number of fields (quarantined with their line number)
    rows_registry: int = 0  # rows with a registry school on at least one side
    rows_dropped_not_registry: int = 0  # rows between organisations that are not in the registry
    rows_dropped_no_code: int = 0  # rows with no Erasmus code on either side
    rows_without_year: int = 0  # registry rows with no academic year (quarantined on the file's record)
    mobility_rows: int = 0  # rows of the mobility contract (a row between two registry schools gives two)
    rows_quarantined: int = 0  # mobility rows held back by the checks
    submissions: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# --- helpers ------------------------------------------------------------------------------------------

def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql_text(SQL, "schema.sql"))


@cache
def _country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes plus XK (Kosovo, used by the EU and Erasmus+)."""
    import pycountry

    return tuple(sorted({c.alpha_2 for c in pycountry.countries} | {"XK"}))


def _mapping_version() -> str:
    h = hashlib.sha256()
    for name in ("macros.sql", "mapping.sql", "scan.sql", "lines.sql", "map.sql", "validate.sql"):
        h.update(sql_text(SQL, name).encode("utf-8"))
    return h.hexdigest()[:16]


def prepare_registry(con: duckdb.DuckDBPyConnection) -> str:
    """The registry's Erasmus codes, normalised, as ``_erasmus_registry``; returns its fingerprint."""
    con.execute(sql_text(SQL, "macros.sql"))
    con.execute(sql_text(SQL, "mapping.sql"))
    con.execute("""CREATE OR REPLACE TEMP TABLE _erasmus_registry AS
                   SELECT school_id, erasmus_code, erasmus_code_norm(erasmus_code) AS code, country_code
                   FROM curated.schools
                   WHERE coalesce(erasmus_code_norm(erasmus_code), '') NOT IN ('', '-')""")
    dupes = rows(con, """SELECT code, string_agg(school_id, ', ' ORDER BY school_id) AS schools
                         FROM _erasmus_registry GROUP BY code HAVING count(*) > 1 ORDER BY code""")
    if dupes:
        d = dupes[0]
        raise RegistryNotReady(f"registry schools {d['schools']} share the Erasmus code {d['code']}; the open data "
                               "cannot tell them apart (expected each erasmus_code once in the schools registry)")
    entries = con.execute("SELECT school_id, code FROM _erasmus_registry ORDER BY school_id").fetchall()
    if not entries:
        raise RegistryNotReady("no school in the registry has an erasmus_code; expected the schools registry "
                               "(ims ingest --dataset schools) to be loaded before the Erasmus+ open data")
    h = hashlib.sha256(_mapping_version().encode())
    for school, code in entries:
        h.update(f"{school}={code};".encode())
    return h.hexdigest()[:24]


def _drop_temp(con: duckdb.DuckDBPyConnection, *, registry: bool = False) -> None:
    """Drop one file's working tables (and with ``registry`` the registry's too)."""
    for t in TEMP_TABLES if registry else TEMP_TABLES[:-1]:
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")


def _sha256(path: Path, progress: Progress | None) -> str:
    h = hashlib.sha256()
    size = max(path.stat().st_size, 1)
    done = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(f"{path.name}: checksum", done / size)
    return h.hexdigest()


def _keep_received(path: Path, sha: str) -> Path:
    """The file under data/raw/_erasmus_open_data/ (hard-linked if possible: these files are large)."""
    folder = settings.raw_dir() / RAW_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    src = path.resolve()
    if src.is_relative_to(folder.resolve()):
        return src
    dest = folder / path.name
    if dest.exists():
        if dest.stat().st_size == src.stat().st_size and os.path.samefile(dest, src):
            return dest
        dest = folder / f"{sha[:12]}_{path.name}"
        if dest.exists():
            return dest
    tmp = folder / f".{dest.name}.{os.getpid()}.part"
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return dest


def _file_submission_id(sha: str) -> str:
    return f"{SOURCE}.mobility.file.{sha[:12]}"


@contextmanager
def _watch(con: duckdb.DuckDBPyConnection, what: str, progress: Progress | None) -> Iterator[None]:
    """Report DuckDB's own progress of the running query (polled from a thread) while the block runs."""
    if progress is None:
        yield
        return
    stop = threading.Event()
    con.execute("SET enable_progress_bar = true")  # DuckDB's own estimate, read with query_progress()
    con.execute("SET enable_progress_bar_print = false")  # … but never printed by DuckDB itself

    def poll() -> None:
        while not stop.wait(0.25):
            try:
                p = con.query_progress()
            except duckdb.Error:
                return
            progress(what, p / 100 if p is not None and p >= 0 else None)

    progress(what, None)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- the stages ---------------------------------------------------------------------------------------

def _read_csv(layout: Layout) -> str:
    """The read_csv call for a layout: explicit dialect and columns, every value as text, rejects kept."""
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in layout.columns)
    quote = "'\"'" if layout.quoted else "''"
    missing = ", ".join(f"'{m}'" for m in MISSING)
    return (f"read_csv($path, delim='{layout.delimiter}', header=true, skip=0, auto_detect=false, "
            f"columns={{{cols}}}, quote={quote}, escape={quote}, encoding='{layout.encoding}', "
            f"nullstr=[{missing}], strict_mode=true, null_padding=false, max_line_size=1048576, "
            f"store_rejects=true, rejects_table='_erasmus_rejects', rejects_scan='_erasmus_rejects_scan', "
            f"parallel=true)")


def scan(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> dict[str, int]:
    """The streaming pass: ``_erasmus_scan`` (kept rows + counts) and ``_erasmus_rejects`` (corrupt lines)."""
    for t in ("_erasmus_rejects", "_erasmus_rejects_scan"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    have = layout.fields
    columns = ",\n           ".join(f if f in have else f"NULL::VARCHAR AS {f}" for f in FIELDS)
    payload = ",\n           ".join(f"any_value({f}) FILTER (WHERE keep) AS {f}" for f in FIELDS)
    query = sql_text(SQL, "scan.sql")
    for name, text in (("{source}", _read_csv(layout)), ("{columns}", columns), ("{payload}", payload)):
        query = query.replace(name, text)
    con.execute(query, {"path": str(path)})
    counts = dict(con.execute("""SELECT CASE WHEN data_row = -1 THEN 'no_code' WHEN data_row = -2 THEN 'not_registry'
                                 ELSE 'registry' END, sum(n_rows)::BIGINT FROM _erasmus_scan GROUP BY 1""").fetchall())
    corrupt = con.execute("SELECT count(DISTINCT line) FROM _erasmus_rejects").fetchall()[0][0]
    return {"registry": counts.get("registry", 0), "not_registry": counts.get("not_registry", 0),
            "no_code": counts.get("no_code", 0), "corrupt": corrupt}


def map_and_check(con: duckdb.DuckDBPyConnection) -> None:
    """Line numbers, the mapping onto the contract and the checks (small tables: registry rows only)."""
    con.execute(sql_text(SQL, "lines.sql"))
    con.execute(sql_text(SQL, "map.sql"))
    spec = contract("mobility")
    con.execute(sql_text(SQL, "validate.sql"), {
        "participant_types": list(spec.column("participant_type").allowed),
        "activities": list(spec.column("activity").allowed),
        "programmes": list(spec.column("programme").allowed),
        "levels": list(spec.column("programme_level").allowed),
        "directions": list(spec.column("direction").allowed),
        "countries": list(_country_codes()),
    })


def _plan_submissions(con: duckdb.DuckDBPyConnection, sha: str) -> list[dict]:
    """One submission per school × academic year in the file: its id, whether it is new, counts and status."""
    groups = rows(con, """
        SELECT m.school_id, m.academic_year, count(*) AS rows_in,
               count(DISTINCT v.source_row || v.direction) AS rows_quarantined
        FROM _erasmus_mapped m
        LEFT JOIN (SELECT DISTINCT school_id, academic_year, source_row, direction FROM _erasmus_violations) v
               USING (school_id, academic_year, source_row, direction)
        WHERE m.academic_year IS NOT NULL
        GROUP BY ALL ORDER BY ALL""")
    known = {r[0] for r in con.execute("SELECT submission_id FROM meta.submissions WHERE source = ?",
                                       [SOURCE]).fetchall()}
    max_share = settings.quarantine_max_share()
    plan = []
    for g in groups:
        sid = submission_id(SubmissionKey("mobility", g["school_id"], g["academic_year"]), sha, SOURCE)
        share = g["rows_quarantined"] / g["rows_in"] if g["rows_in"] else 1.0
        if share > max_share:
            status = "rejected"
            reason = (f"{g['rows_quarantined']} of {g['rows_in']} rows failed validation ({share:.0%} > "
                      f"{max_share:.0%} allowed, IMS_QUARANTINE_MAX_SHARE)")
        else:
            status, reason = ("accepted_with_quarantine" if g["rows_quarantined"] else "accepted"), None
        plan.append({"submission_id": sid, "school_id": g["school_id"], "academic_year": g["academic_year"],
                     "new": sid not in known, "status": status if sid not in known else "unchanged",
                     "reason": reason, "rows_in": g["rows_in"], "rows_quarantined": g["rows_quarantined"]})
    return plan


def _write(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, stored: Path, sha: str, result: FileResult,
           plan: list[dict], fingerprint: str, started: float) -> None:
    """Everything the load changes, in one transaction."""
    now = dt.datetime.now()
    file_sid = result.submission_id
    con.execute("""CREATE OR REPLACE TEMP TABLE _erasmus_subs (submission_id VARCHAR, school_id VARCHAR,
                   academic_year VARCHAR, status VARCHAR, reason VARCHAR, rows_in BIGINT, rows_quarantined BIGINT)""")
    new = [p for p in plan if p["new"]]
    if new:
        con.executemany("INSERT INTO _erasmus_subs VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[p["submission_id"], p["school_id"], p["academic_year"], p["status"], p["reason"],
                          p["rows_in"], p["rows_quarantined"]] for p in new])
    cols = ["submission_id", "source_row", *contract("mobility").names]
    mob_cols = ", ".join(quote_ident(c) for c in cols)
    extra_cols = ", ".join(["submission_id", "source_row", "school_id", "academic_year", "direction",
                            *EXTRA_COLUMNS])
    params = {"file_sid": file_sid, "now": now}  # DuckDB refuses unused named parameters: bind exactly these
    file_quarantined = result.rows_corrupt + result.rows_without_year
    # 'loaded', not 'accepted': the file is no submission of one school and year, and revalidation (which takes
    # every accepted submission) has nothing to check in it; its corrupt lines are quarantined under it
    file_status = "loaded"
    file_reason = (f"{result.rows_read:,} rows read: {result.rows_registry:,} for registry schools, "
                   f"{result.rows_dropped_not_registry + result.rows_dropped_no_code:,} dropped (not a registry "
                   f"school), {result.rows_corrupt:,} corrupt line(s), {result.rows_without_year:,} without an "
                   "academic year")
    with transaction(con):
        # the file's own record (kept across loads of the same bytes: a grown registry adds submissions)
        con.execute("DELETE FROM meta.quarantine WHERE submission_id = ?", [file_sid])
        con.execute("DELETE FROM meta.submissions WHERE submission_id = ?", [file_sid])
        con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name,
                       stored_path, sha256, received_at, status, reason, rows_in, rows_quarantined)
                       VALUES (?, 'mobility', NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [file_sid, SOURCE, path.name, relative_to_home(stored), sha, now, file_status, file_reason,
                     result.rows_read + result.rows_corrupt, file_quarantined])
        con.execute("""INSERT INTO meta.quarantine (submission_id, source_row, stage, rule, column_name, reason, row_json,
                                                    quarantined_at)
                       SELECT $file_sid, line, 'read', 'read.csv_line', NULL,
                              printf('line %d could not be read: %s (expected %d fields separated by ''%s'')',
                                     line, lower(error_type), $n_fields, $delim),
                              to_json({'line': csv_line})::VARCHAR, $now
                       FROM (SELECT line, any_value(error_type) AS error_type, any_value(csv_line) AS csv_line
                             FROM _erasmus_rejects GROUP BY line)
                       ORDER BY line""", {**params, "n_fields": len(layout.columns), "delim": layout.delimiter})
        con.execute("""INSERT INTO meta.quarantine (submission_id, source_row, stage, rule, column_name, reason, row_json,
                                                    quarantined_at)
                       SELECT $file_sid, source_row, 'read', 'read.type_year', 'academic_year',
                              CASE WHEN year_text IS NULL
                                   THEN 'Academic Year is missing and Mobility Start Month gives none either'
                                   ELSE printf('Academic Year ''%s'' is not an academic year such as 2019-2020',
                                               year_text) END,
                              to_json(""" + _RAW + """)::VARCHAR, $now
                       FROM (SELECT DISTINCT ON (source_row) source_row, year_text FROM _erasmus_mapped
                             WHERE academic_year IS NULL) m
                       JOIN _erasmus_rows r USING (source_row)
                       ORDER BY source_row""", params)
        if not new:
            return _record_load(con, result, fingerprint, sha, path, started, now)
        con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name,
                       stored_path, sha256, received_at, status, reason, rows_in, rows_quarantined)
                       SELECT submission_id, 'mobility', school_id, academic_year, $source, $file_name, $stored, $sha,
                              $now, status, reason, rows_in, rows_quarantined FROM _erasmus_subs""",
                    {"now": now, "file_name": path.name, "source": SOURCE, "stored": relative_to_home(stored), "sha": sha})
        con.execute(f"""INSERT INTO staging.mobility ({mob_cols})
                        SELECT n.submission_id, m.source_row, {', '.join('m.' + quote_ident(c) for c in cols[2:])}
                        FROM _erasmus_mapped m JOIN _erasmus_subs n USING (school_id, academic_year)""")
        con.execute(f"""INSERT INTO staging.erasmus_mobility ({extra_cols})
                        SELECT n.submission_id, m.source_row, m.school_id, m.academic_year, m.direction,
                               {', '.join('m.' + c for c in EXTRA_COLUMNS)}
                        FROM _erasmus_mapped m JOIN _erasmus_subs n USING (school_id, academic_year)""")
        con.execute("""INSERT INTO meta.quarantine (submission_id, source_row, stage, rule, column_name, reason, row_json,
                                                    quarantined_at)
                       SELECT n.submission_id, v.source_row, v.stage, v.rule, v.column_name, v.reason,
                              to_json(""" + _RAW + """)::VARCHAR, $now
                       FROM _erasmus_violations v
                       JOIN _erasmus_subs n USING (school_id, academic_year)
                       JOIN _erasmus_rows r USING (source_row)
                       ORDER BY n.submission_id, v.source_row, v.rule""", {"now": now})
        _promote(con, path.name)
        _record_load(con, result, fingerprint, sha, path, started, now)


def _promote(con: duckdb.DuckDBPyConnection, file_name: str) -> None:
    """The new, not rejected submissions become curated; the open-data submissions they supersede leave it.

    Superseded: earlier open-data submissions of the same school and year from a file of the same name, or
    sharing a project reference with the new one. A school's own submissions are never touched.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _erasmus_older AS
        WITH new AS (
            SELECT * FROM _erasmus_subs WHERE status <> 'rejected'
        ), new_projects AS (
            SELECT DISTINCT n.submission_id, e.project_reference
            FROM new n JOIN staging.erasmus_mobility e USING (submission_id)
            WHERE e.project_reference IS NOT NULL
        ), candidates AS (
            SELECT o.submission_id AS old_id, n.submission_id AS new_id, o.file_name
            FROM meta.submissions o JOIN new n USING (school_id, academic_year)
            WHERE o.source = $source AND o.dataset = 'mobility' AND o.submission_id <> n.submission_id
              AND o.status IN ('accepted', 'accepted_with_quarantine') AND o.superseded_by IS NULL
        )
        SELECT DISTINCT c.old_id, c.new_id FROM candidates c
        WHERE c.file_name = $file_name
           OR EXISTS (SELECT 1 FROM curated.erasmus_mobility e JOIN new_projects p
                      ON p.project_reference = e.project_reference
                      WHERE e.submission_id = c.old_id AND p.submission_id = c.new_id)""",
                {"source": SOURCE, "file_name": file_name})
    con.execute("UPDATE meta.submissions SET superseded_by = o.new_id FROM _erasmus_older o "
                "WHERE meta.submissions.submission_id = o.old_id")
    for table in ("curated.mobility", "curated.erasmus_mobility"):
        con.execute(f"DELETE FROM {table} WHERE submission_id IN (SELECT old_id FROM _erasmus_older)")
    names = ("submission_id", "source_row", *contract("mobility").names)
    cols = ", ".join(quote_ident(c) for c in names)
    current = "JOIN _erasmus_subs n ON n.submission_id = s.submission_id WHERE n.status <> 'rejected'"
    order = ""  # rows arrive in file order per submission already; sorting 100 000s of wide rows costs seconds
    con.execute(f"""INSERT INTO curated.mobility ({cols}) SELECT {', '.join('s.' + quote_ident(c) for c in names)}
                    FROM staging.mobility s {current} AND NOT EXISTS (SELECT 1 FROM meta.quarantine q
                         WHERE q.submission_id = s.submission_id AND q.source_row = s.source_row) {order}""")
    # every row of the current submissions (held-back ones too): joined from curated.mobility, it stays right
    # when `ims validate --all` releases or holds back rows later
    con.execute(f"INSERT INTO curated.erasmus_mobility SELECT s.* FROM staging.erasmus_mobility s {current} {order}")


def _record_load(con: duckdb.DuckDBPyConnection, result: FileResult, fingerprint: str, sha: str, path: Path,
                 started: float, now: dt.datetime) -> None:
    result.seconds = round(time.perf_counter() - started, 2)
    con.execute("""INSERT INTO meta.erasmus_loads (sha256, registry_fingerprint, file_name, file_submission_id,
                   loaded_at, seconds, summary) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [sha, fingerprint, path.name, result.submission_id, now, result.seconds,
                 json.dumps(result.as_dict(), default=str)])


def _reject(con: duckdb.DuckDBPyConnection, path: Path, sha: str, reason: str, started: float) -> FileResult:
    """Refuse a file whole: kept under data/rejected/, recorded with the reason."""
    sid = _file_submission_id(sha)
    prior = con.execute("SELECT status, reason FROM meta.submissions WHERE submission_id = ?", [sid]).fetchall()
    if prior:
        return FileResult(path.name, "unchanged" if prior[0][0] != "rejected" else "rejected", sid, sha,
                          prior[0][1] or reason, seconds=round(time.perf_counter() - started, 2))
    stored = keep_rejected(path, sid)
    con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name,
                   stored_path, sha256, received_at, status, reason, rows_in, rows_quarantined)
                   VALUES (?, 'mobility', NULL, NULL, ?, ?, ?, ?, ?, 'rejected', ?, 0, 0)""",
                [sid, SOURCE, path.name, relative_to_home(stored), sha, dt.datetime.now(), reason])
    return FileResult(path.name, "rejected", sid, sha, reason, seconds=round(time.perf_counter() - started, 2))


def load_file(con: duckdb.DuckDBPyConnection, path: Path, fingerprint: str,
              progress: Progress | None = None) -> FileResult:
    """Load one open-data file (the registry must be prepared: :func:`prepare_registry`)."""
    started = time.perf_counter()
    try:
        check_received(path)  # a link, pipe or device is refused unopened: never read, copied or recorded
    except InputRefused as exc:
        return FileResult(path.name, "rejected", f"unreadable.{path.name}", "", str(exc))
    sha = _sha256(path, progress)
    file_sid = _file_submission_id(sha)
    prior = con.execute("""SELECT summary FROM meta.erasmus_loads WHERE sha256 = ? AND registry_fingerprint = ?
                           ORDER BY loaded_at DESC LIMIT 1""", [sha, fingerprint]).fetchall()
    if prior:
        before = json.loads(prior[0][0])
        before.update(status="unchanged", file=path.name, seconds=round(time.perf_counter() - started, 2))
        for s in before.get("submissions", []):
            s["status"] = "unchanged"
        return FileResult(**before)
    try:
        layout = detect_layout(path)
    except InputRefused as exc:
        return _reject(con, path, sha, str(exc), started)
    result = FileResult(path.name, "loaded", file_sid, sha, layout=layout.name)
    try:
        with _watch(con, f"{path.name}: reading", progress):
            counts = scan(con, path, layout)
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return _reject(con, path, sha, str(InputRefused(path.name, f"the file cannot be read as Erasmus+ mobility "
                                                                   f"open data ({detail})")), started)
    if not any(counts.values()):
        return _reject(con, path, sha, str(InputRefused(path.name, "the file has a header but no data rows; "
                                                                   "expected at least one row", row=2)), started)
    if progress:
        progress(f"{path.name}: mapping and checking", None)
    map_and_check(con)
    result.rows_registry = counts["registry"]
    result.rows_dropped_not_registry = counts["not_registry"]
    result.rows_dropped_no_code = counts["no_code"]
    result.rows_corrupt = counts["corrupt"]
    result.rows_read = counts["registry"] + counts["not_registry"] + counts["no_code"]
    result.mobility_rows, result.rows_without_year = con.execute(
        "SELECT count(*), count(DISTINCT source_row) FILTER (WHERE academic_year IS NULL) FROM _erasmus_mapped"
    ).fetchall()[0]
    plan = _plan_submissions(con, sha)
    result.rows_quarantined = sum(p["rows_quarantined"] for p in plan)
    result.submissions = plan
    if progress:
        progress(f"{path.name}: writing", None)
    stored = _keep_received(path, sha)
    _write(con, path, layout, stored, sha, result, plan, fingerprint, started)
    return result


def discover(paths: list[Path]) -> list[Path]:
    """Files as given; folders expanded into their .csv/.txt/.tsv files (sorted)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            found.extend(walk_received(p, SUFFIXES))  # links, pipes, devices listed: load_file refuses them
        else:
            found.append(p)
    return found


def publish_years(con: duckdb.DuckDBPyConnection, years: set[str]) -> list[str]:
    """Publish the touched years of curated.mobility and curated.erasmus_mobility as Parquet."""
    from ims_indicators.curate.publish import clean_stale, publish_partition
    from ims_indicators.erasmus.publish import publish_erasmus_partition

    clean_stale()
    out = []
    for year in sorted(years):
        out.append(str(publish_partition(con, "mobility", year)))
        out.append(str(publish_erasmus_partition(con, year)))
    return out


def load_erasmus(con: duckdb.DuckDBPyConnection, paths: list[Path], *, progress: Progress | None = None,
                 publish: bool = True) -> dict:
    """Load Erasmus+ KA1 mobility open-data files; returns a summary per file and in total.

    Refused files are recorded (status ``rejected``, kept under data/rejected/) and reported, not raised;
    :class:`RegistryNotReady` is raised when no file can be matched (the registry has no Erasmus codes).
    """
    ensure_tables(con)
    files = discover([Path(p) for p in paths])
    fingerprint = prepare_registry(con)
    results: list[FileResult] = []
    limit_before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute("SET memory_limit = ?", [MEMORY_LIMIT])  # beyond it DuckDB spills to disk: RSS stays bounded
    try:
        for path in files:
            results.append(load_file(con, path, fingerprint, progress))
            _drop_temp(con)
    finally:
        _drop_temp(con, registry=True)
        con.execute("SET memory_limit = ?", [limit_before])
    years = {s["academic_year"] for r in results if r.status == "loaded" for s in r.submissions
             if s["new"] and s["status"] != "rejected"}
    if progress and publish and years:
        progress(f"publishing {len(years)} academic year(s)", None)
    published = publish_years(con, years) if publish and years else []
    totals = {k: sum(getattr(r, k) for r in results) for k in
              ("rows_read", "rows_corrupt", "rows_registry", "rows_dropped_not_registry", "rows_dropped_no_code",
               "rows_without_year", "mobility_rows", "rows_quarantined")}
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {"files": [r.as_dict() for r in results], "statuses": statuses, "totals": totals,
            "submissions": sum(1 for r in results for s in r.submissions if s["new"] and r.status == "loaded"),
            "published": published}
