"""Load Erasmus+ KA1 mobility open-data files: a second source of mobility rows, streamed through DuckDB.

Two reads of each file inside DuckDB (``read_csv`` with explicit options, every column as text; :func:`scan`)
keep only the rows whose sending or receiving organisation is a registry school, matched on the normalised
Erasmus code; the rest is counted, never held in memory or in pandas. The kept rows are mapped onto the mobility
contract (``sql/map.sql``, tables in ``sql/mapping.sql``): this package is an *adapter*. What only open data
can get wrong is quarantined at the read stage (``sql/checks.sql``); the rest goes the way of a school file:
staged as submissions of source ``erasmus_open_data`` (``ims_indicators.submissions`` records them), validated
by the mobility suite compiled to SQL (``validate/compile.py``), promoted by ``curate/promote.py`` and published:

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
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from ims_indicators import settings, submissions
from ims_indicators.contracts import contract
from ims_indicators.erasmus.layouts import FIELDS, Layout, detect_layout
from ims_indicators.errors import InputRefused
from ims_indicators.lock import pid_alive
from ims_indicators.read.received import check_received, walk_received
from ims_indicators.read.repair import fix_encoding, suspect_values
from ims_indicators.submissions import SOURCE_OPEN_DATA as SOURCE
from ims_indicators.submissions import SubmissionKey, submission_id
from ims_indicators.warehouse import quote_ident, rows, sql_text, transaction

SQL = "ims_indicators.erasmus.sql"
SUFFIXES = {".csv", ".txt", ".tsv"}
RAW_FOLDER = "_erasmus_open_data"  # under data/raw/; '_' keeps `ims ingest data/raw` from taking it for a dataset
MISSING = ("-", "Undefined", "? Unknown ?", "")  # read as NULL by DuckDB already (trimmed variants: erasmus_value)
EXTRA_COLUMNS = ("project_reference", "activity_mob", "field_of_education", "isced_f_code", "education_level",
                 "participant_profile", "duration_days", "nationality", "gender", "age", "special_needs",
                 "fewer_opportunities", "group_leader", "sending_country", "sending_organisation",
                 "sending_erasmus_code", "receiving_country", "receiving_organisation", "receiving_erasmus_code",
                 "participants", "ec_academic_year")
MEMORY_LIMIT = "1.2GB"  # DuckDB's own memory during a load (the whole process peaked at 1.39 GB on 10 M rows)
# The kept rows and the mapped rows live in a work database attached for each file (scan.sql, map.sql): in memory,
# or, when the kept rows are estimated beyond WORK_ON_DISK_BEYOND bytes, a file under data/.tmp whose tables
# DuckDB stores compressed. Temp tables are not compressed: at 10 M rows (3.3 M kept rows of 24 text fields) they
# spilled to disk as they were, and the load took 49-52 s with the file against 56-63 s without (alternating);
# at 2 M rows, where nothing spills, compressing cost 10 % (attach_work).
WORK = "erasmus_work"
WORK_ON_DISK_BEYOND = 600_000_000  # half of MEMORY_LIMIT
WIDE_REJECTS = ("_erasmus_rejects", "_erasmus_rejects_scan")  # the corrupt lines (quarantined)
REJECTS = (*WIDE_REJECTS, "_erasmus_rejects_index", "_erasmus_rejects_index_scan")
NARROW = ("_erasmus_index", "_erasmus_spellings", "_erasmus_candidates", "_erasmus_no_code")
TEMP_TABLES = (*NARROW, "_erasmus_lines", "_erasmus_violations", "_erasmus_held", "_erasmus_subs", *REJECTS,
               "_erasmus_registry")

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
    repairs: str | None = None  # what the reader repaired (e.g. mojibake), recorded on the submissions
    submissions: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# --- helpers ------------------------------------------------------------------------------------------

def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'curated' "
                   "AND table_name = 'erasmus_mobility'").fetchall()[0][0]:
        con.execute("DROP TABLE curated.erasmus_mobility")  # a copy in warehouses before the view: its rows are
        # those of the current submissions in staging.erasmus_mobility, which the view shows
    con.execute(sql_text(SQL, "schema.sql"))


def _mapping_version() -> str:
    h = hashlib.sha256()
    for name in ("macros.sql", "mapping.sql", "index.sql", "spellings.sql", "candidates.sql", "scan.sql", "align.sql",
                 "lines.sql", "match.sql", "counts.sql", "map.sql", "checks.sql"):
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
    """Drop one file's working tables and its work database (and with ``registry`` the registry's table too)."""
    for t in TEMP_TABLES if registry else TEMP_TABLES[:-1]:
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    detach_work(con)


def work_file(pid: int | None = None) -> Path:
    """The work database on disk of process ``pid`` (default: this one; one process writes a warehouse)."""
    return settings.tmp_dir() / f"erasmus-work-{pid or os.getpid()}.duckdb"


def attach_work(con: duckdb.DuckDBPyConnection, kept_bytes: int) -> None:
    """Attach a file's work database ``erasmus_work`` (scan.sql, map.sql): in memory, or on disk beyond
    WORK_ON_DISK_BEYOND estimated bytes of kept rows, where DuckDB compresses them instead of spilling them.
    The files a killed load left behind (their process is gone) are removed first."""
    detach_work(con)
    target = ":memory:"
    if kept_bytes > WORK_ON_DISK_BEYOND:
        target = str(work_file())
        work_file().parent.mkdir(parents=True, exist_ok=True)
        for old in work_file().parent.glob("erasmus-work-*.duckdb"):
            pid = old.name.removeprefix("erasmus-work-").removesuffix(".duckdb")
            if pid.isdigit() and not pid_alive(int(pid)):
                _remove_work_file(old)
    con.execute(f"ATTACH '{target.replace(chr(39), chr(39) * 2)}' AS {WORK}")


def detach_work(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the work database and remove its file, if any."""
    con.execute(f"DETACH DATABASE IF EXISTS {WORK}")
    _remove_work_file(work_file())


def _remove_work_file(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


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

def _read_csv(layout: Layout, rejects: str) -> str:
    """The read_csv call for a layout: explicit dialect and columns, every value as text, rejected lines kept in
    the temp table ``rejects``."""
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in layout.columns)
    quote = "'\"'"  # DuckDB reads a field quoted or not; a quoted one may hold the delimiter
    missing = ", ".join(f"'{m}'" for m in MISSING)
    return (f"read_csv($path, delim='{layout.delimiter}', header=true, skip=0, auto_detect=false, "
            f"columns={{{cols}}}, quote={quote}, escape={quote}, encoding='{layout.encoding}', "
            f"nullstr=[{missing}], strict_mode=true, null_padding=false, max_line_size=1048576, "
            f"store_rejects=true, rejects_table='{rejects}', rejects_scan='{rejects}_scan', parallel=true)")


def narrow_read(con: duckdb.DuckDBPyConnection, index: str, path: Path) -> dict:
    """The narrow read (``sql/index.sql``), the file's spellings of codes and the bitmap of the registry's
    (``sql/spellings.sql``), and what the steps after need of the read (``sql/candidates.sql``: it is dropped);
    attaches the work database for the rows the wide read will keep (:func:`attach_work`: their number times the
    file's bytes per row and DuckDB's 16 bytes per text field); returns the parameters of the wide read."""
    params = {"path": str(path)}
    con.execute(index, params)
    con.execute(sql_text(SQL, "spellings.sql"))
    con.execute(sql_text(SQL, "candidates.sql"))
    kept, read = con.execute("SELECT count(*), getvariable('erasmus_rows_read') FROM _erasmus_candidates"
                             ).fetchall()[0]
    attach_work(con, kept * (path.stat().st_size // max(read, 1) + 16 * len(FIELDS)))
    return params


def _reads(layout: Layout) -> tuple[str, str]:
    """The narrow and the wide read of a file of this layout (``sql/index.sql``, ``sql/scan.sql``)."""
    columns = ",\n           ".join(f if f in layout.fields else f"NULL::VARCHAR AS {f}" for f in FIELDS)
    return (sql_text(SQL, "index.sql").replace("{source}", _read_csv(layout, "_erasmus_rejects_index")),
            sql_text(SQL, "scan.sql").replace("{source}", _read_csv(layout, "_erasmus_rejects"))
            .replace("{columns}", columns))


def scan(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, *, numbered: bool = False,
         proceed: Callable[[], bool] | None = None) -> dict[str, int] | None:
    """Read the file twice, each read on all threads: a narrow read of the two Erasmus codes that counts every
    row (``sql/index.sql``), and a wide read that keeps the rows of registry schools as ``_erasmus_rows``
    (``sql/scan.sql``, ``sql/match.sql``) and the corrupt lines as ``_erasmus_rejects``. The wide read's rows get
    their line from the narrow read (``sql/align.sql``); should the reads not line up (checked pair by pair),
    or with ``numbered``, the wide read numbers its rows itself (one thread) and ``sql/lines.sql`` corrects them.
    ``proceed``, asked after the narrow read: False stops there (the loader's checksum says it has the file) and
    returns None."""
    for t in REJECTS:
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    index, wide = _reads(layout)
    params = narrow_read(con, index, path)
    if proceed is not None and not proceed():
        return None
    if numbered or not _lined_up(con, wide, params):
        _numbered(con, wide, params)
    con.execute(sql_text(SQL, "match.sql"))
    registry = con.execute(f"SELECT count(*) FROM {WORK}._erasmus_rows").fetchall()[0][0]
    read, no_code = con.execute(sql_text(SQL, "counts.sql")).fetchall()[0]
    for t in ("_erasmus_lines", *NARROW):  # the wide read is _erasmus_rows now (match.sql)
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    corrupt = con.execute("SELECT count(DISTINCT line) FROM _erasmus_rejects").fetchall()[0][0]
    return {"registry": registry, "not_registry": read - registry - no_code, "no_code": no_code, "corrupt": corrupt}


def _lined_up(con: duckdb.DuckDBPyConnection, wide: str, params: dict) -> bool:
    """The wide read without numbers, its rows' lines from the narrow read; whether the two line up."""
    con.execute(wide.replace("{number}", "NULL::BIGINT"), params)
    con.execute(sql_text(SQL, "align.sql"))
    return _aligned(con)


def _aligned(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the n-th row of the wide read holds the codes of the n-th candidate of the narrow read, for all n."""
    n_rows, n_lines, mismatched = con.execute(
        f"""SELECT (SELECT count(*) FROM {WORK}._erasmus_wide), (SELECT count(*) FROM _erasmus_lines),
                  (SELECT count(*) FROM {WORK}._erasmus_wide r JOIN _erasmus_lines l ON r.rowid = l.pos
                   WHERE l.kept <> hash(r.sending_erasmus_code, r.receiving_erasmus_code))""").fetchall()[0]
    return n_rows == n_lines and mismatched == 0


def _numbered(con: duckdb.DuckDBPyConnection, wide: str, params: dict) -> None:
    """The wide read numbering its rows (on one thread), the numbers corrected after rejected lines."""
    con.execute("CREATE OR REPLACE TEMP TABLE _erasmus_lines (pos BIGINT, line BIGINT, kept UBIGINT)")  # no pairs
    for t in WIDE_REJECTS:
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    con.execute(wide.replace("{number}", "row_number() OVER ()"), params)
    if con.execute("SELECT count(*) FROM _erasmus_rejects").fetchall()[0][0]:
        con.execute(sql_text(SQL, "lines.sql"))


def repair_values(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Double-encoded UTF-8 in the kept rows repaired by ftfy where unambiguous (``read.repair.fix_encoding``);
    returns one note per column repaired, e.g. "sending_organisation: 3 value(s) such as 'WallererstraÃŸe'".

    One pass finds the distinct suspect values of every text field (mojibake always shows Ã, Â, â or ï)."""
    by_field: dict[str, list[tuple[str, str]]] = {}
    for name, values in zip(FIELDS, suspect_values(con, f"{WORK}._erasmus_rows", list(FIELDS), "[ÃÂâï]")):
        for value in values:
            if (fixed := fix_encoding(value)) != value:
                by_field.setdefault(name, []).append((value, fixed))
    notes = []
    for name, fixes in by_field.items():
        con.execute("CREATE OR REPLACE TEMP TABLE _erasmus_fix (bad VARCHAR, good VARCHAR)")
        con.executemany("INSERT INTO _erasmus_fix VALUES (?, ?)", fixes)
        con.execute(f"UPDATE {WORK}._erasmus_rows SET {name} = f.good FROM _erasmus_fix f WHERE {name} = f.bad")
        con.execute("DROP TABLE _erasmus_fix")
        notes.append(f"{name}: {len(fixes)} value(s) such as {fixes[0][0]!r} -> {fixes[0][1]!r}")
    return notes


def map_and_check(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mojibake repairs, the mapping onto the contract and the read-stage checks (small tables: registry rows
    only); returns the repairs made."""
    repairs = repair_values(con)
    con.execute(sql_text(SQL, "map.sql"))
    con.execute(sql_text(SQL, "checks.sql"))
    # the rows held back (checks, no academic year) as received, for meta.quarantine; the kept rows are not read
    # after this and are dropped (at 10 M rows, 3.3 M rows of 24 text fields)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _erasmus_held AS
                    SELECT r.source_row, to_json({_RAW})::VARCHAR AS row_json FROM {WORK}._erasmus_rows r
                    WHERE r.source_row IN (SELECT source_row FROM _erasmus_violations UNION ALL
                                           SELECT source_row FROM {WORK}._erasmus_mapped
                                           WHERE academic_year IS NULL)""")
    con.execute(f"DROP TABLE {WORK}._erasmus_rows")
    return repairs


def _plan_submissions(con: duckdb.DuckDBPyConnection, sha: str) -> list[dict]:
    """One submission per school × academic year in the file: its id, whether it is new, its rows."""
    # rows_in: lines of the file (a line between a school and itself is one line, two mobility rows)
    groups = rows(con, f"""SELECT school_id, academic_year, count(DISTINCT source_row) AS rows_in
                           FROM {WORK}._erasmus_mapped WHERE academic_year IS NOT NULL GROUP BY ALL ORDER BY ALL""")
    plan = []
    for g in groups:
        sid = submission_id(SubmissionKey("mobility", g["school_id"], g["academic_year"]), sha, SOURCE)
        new = submissions.existing(con, sid) is None
        plan.append({"submission_id": sid, "school_id": g["school_id"], "academic_year": g["academic_year"],
                     "new": new, "status": "staged" if new else "unchanged", "reason": None,
                     "rows_in": g["rows_in"], "rows_quarantined": 0})
    return plan


def _stage(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, stored: Path, sha: str, result: FileResult,
           plan: list[dict]) -> None:
    """Stage the file's new submissions (rows that passed the read stage) and record what the read stage held
    back, in one transaction."""
    now = dt.datetime.now()
    file_sid = result.submission_id
    con.execute("""CREATE OR REPLACE TEMP TABLE _erasmus_subs (submission_id VARCHAR, school_id VARCHAR,
                   academic_year VARCHAR)""")
    new = [p for p in plan if p["new"]]
    if new:
        con.executemany("INSERT INTO _erasmus_subs VALUES (?, ?, ?)",
                        [[p["submission_id"], p["school_id"], p["academic_year"]] for p in new])
    cols = ["submission_id", "source_row", *contract("mobility").names]
    mob_cols = ", ".join(quote_ident(c) for c in cols)
    extra_cols = ", ".join(["submission_id", "source_row", "school_id", "academic_year", "direction",
                            *EXTRA_COLUMNS])
    stored_path = submissions.relative_to_home(stored)
    with transaction(con):
        # the file's own record (kept across loads of the same bytes: a grown registry adds submissions); 'loaded',
        # not 'accepted': it is no submission of one school and year; its corrupt lines are quarantined under it
        submissions.release(con, file_sid, stages="all")
        submissions.record(
            con, submission_id=file_sid, dataset="mobility", school_id=None, academic_year=None, source=SOURCE,
            file_name=path.name, stored_path=stored_path, sha256=sha, received_at=now, status="loaded",
            reason=(f"{result.rows_read:,} rows read: {result.rows_registry:,} for registry schools, "
                    f"{result.rows_dropped_not_registry + result.rows_dropped_no_code:,} dropped (not a registry "
                    f"school), {result.rows_corrupt:,} corrupt line(s), {result.rows_without_year:,} without an "
                    "academic year"),
            rows_in=result.rows_read + result.rows_corrupt,
            rows_quarantined=result.rows_corrupt + result.rows_without_year, repairs=result.repairs)
        submissions.quarantine_query(con, """
            SELECT $file_sid, line, 'read', 'read.csv_line', header,
                   CASE WHEN error_type IS NULL  -- only bytes that are not text in the file's encoding
                        THEN printf('line %d could not be read: %s holds bytes that are not %s text (expected the '
                                    'whole file in one encoding)', line, coalesce(printf('column ''%s''', header),
                                                                                  'a column'), $encoding)
                        ELSE printf('line %d could not be read: %s (expected %d fields separated by ''%s'')',
                                    line, lower(error_type), $n_fields, $delim) END,
                   to_json({'line': csv_line})::VARCHAR
            FROM (SELECT line, any_value(csv_line) AS csv_line,
                         min(error_type) FILTER (WHERE error_type <> 'INVALID ENCODING') AS error_type,
                         CASE WHEN bool_and(error_type = 'INVALID ENCODING')
                              THEN $headers[list_position($columns, arg_min(column_name, column_idx))] END AS header
                  FROM _erasmus_rejects GROUP BY line)
            ORDER BY line""", {"file_sid": file_sid, "n_fields": len(layout.columns), "delim": layout.delimiter,
                               "encoding": layout.encoding, "headers": list(layout.headers),
                               "columns": list(layout.columns)})
        submissions.quarantine_query(con, f"""
            SELECT $file_sid, source_row, 'read', 'read.type_year', 'academic_year',
                   CASE WHEN ec_academic_year IS NULL
                        THEN 'Academic Year is missing and Mobility Start Month gives none either'
                        ELSE printf('Academic Year ''%s'' is not an academic year such as 2019-2020',
                                    ec_academic_year) END,
                   h.row_json
            FROM (SELECT DISTINCT ON (source_row) source_row, ec_academic_year FROM {WORK}._erasmus_mapped
                  WHERE academic_year IS NULL) m
            JOIN _erasmus_held h USING (source_row)
            ORDER BY source_row""", {"file_sid": file_sid})
        if not new:
            return
        for p in new:
            submissions.record(con, submission_id=p["submission_id"], dataset="mobility", school_id=p["school_id"],
                               academic_year=p["academic_year"], source=SOURCE, file_name=path.name,
                               stored_path=stored_path, sha256=sha, received_at=now, status="staged",
                               rows_in=p["rows_in"], rows_quarantined=0, repairs=result.repairs)
        read_ok = """NOT EXISTS (SELECT 1 FROM _erasmus_violations v WHERE v.source_row = m.source_row
                                 AND v.direction = m.direction AND v.school_id = m.school_id)"""
        made = {"mobility_ref": "erasmus_mobility_ref(m.project_reference, m.source_row)"}  # macros.sql
        con.execute(f"""INSERT INTO staging.mobility ({mob_cols})
                        SELECT n.submission_id, m.source_row,
                               {', '.join(made.get(c, 'm.' + quote_ident(c)) for c in cols[2:])}
                        FROM {WORK}._erasmus_mapped m JOIN _erasmus_subs n USING (school_id, academic_year)
                        WHERE {read_ok}""")
        con.execute(f"""INSERT INTO staging.erasmus_mobility ({extra_cols})
                        SELECT n.submission_id, m.source_row, m.school_id, m.academic_year, m.direction,
                               {', '.join('m.' + c for c in EXTRA_COLUMNS)}
                        FROM {WORK}._erasmus_mapped m JOIN _erasmus_subs n USING (school_id, academic_year)""")
        submissions.quarantine_query(con, """
            SELECT n.submission_id, v.source_row, v.stage, v.rule, v.column_name, v.reason,
                   h.row_json
            FROM _erasmus_violations v
            JOIN _erasmus_subs n USING (school_id, academic_year)
            JOIN _erasmus_held h USING (source_row)
            ORDER BY n.submission_id, v.source_row, v.rule""")


def _validate_and_promote(con: duckdb.DuckDBPyConnection, plan: list[dict]) -> None:
    """The staged submissions through the common path: the mobility suite as SQL, then curate/promote."""
    from ims_indicators.curate.promote import apply_verdicts
    from ims_indicators.validate.run import check_staged

    new = {p["submission_id"]: p for p in plan if p["new"]}
    if not new:
        return
    for outcome in apply_verdicts(con, "mobility", check_staged(con, "mobility", list(new), engine="sql", cross=False)):
        new[outcome["submission_id"]].update(status=outcome["status"], reason=outcome["reason"],
                                             rows_quarantined=outcome["rows_quarantined"])
    # beyond the contract: curated.erasmus_mobility is a view of the current submissions' staged rows (schema.sql)


def _record_load(con: duckdb.DuckDBPyConnection, result: FileResult, fingerprint: str, sha: str, path: Path,
                 started: float) -> None:
    result.seconds = round(time.perf_counter() - started, 2)
    con.execute("""INSERT INTO meta.erasmus_loads (sha256, registry_fingerprint, file_name, file_submission_id,
                   loaded_at, seconds, summary) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [sha, fingerprint, path.name, result.submission_id, dt.datetime.now(), result.seconds,
                 json.dumps(result.as_dict(), default=str)])


def _reject(con: duckdb.DuckDBPyConnection, path: Path, sha: str, reason: str, started: float) -> FileResult:
    """Refuse a file whole: kept under data/rejected/, recorded with the reason."""
    sid = _file_submission_id(sha)
    prior = submissions.existing(con, sid)
    if prior:
        return FileResult(path.name, "unchanged" if prior["status"] != "rejected" else "rejected", sid, sha,
                          prior["reason"] or reason, seconds=round(time.perf_counter() - started, 2))
    submissions.record_rejection(con, path, SubmissionKey("mobility", None, None), sha, reason, SOURCE, sub_id=sid)
    return FileResult(path.name, "rejected", sid, sha, reason, seconds=round(time.perf_counter() - started, 2))


def _loaded_before(con: duckdb.DuckDBPyConnection, path: Path, sha: str, fingerprint: str,
                   started: float) -> FileResult | None:
    """The summary of an earlier load of the same bytes with the same registry and mapping, now 'unchanged'."""
    prior = con.execute("""SELECT summary FROM meta.erasmus_loads WHERE sha256 = ? AND registry_fingerprint = ?
                           ORDER BY loaded_at DESC LIMIT 1""", [sha, fingerprint]).fetchall()
    if not prior:
        return None
    before = json.loads(prior[0][0])
    before.update(status="unchanged", file=path.name, seconds=round(time.perf_counter() - started, 2))
    for s in before.get("submissions", []):
        s["status"] = "unchanged"
    return FileResult(**before)


def load_file(con: duckdb.DuckDBPyConnection, path: Path, fingerprint: str,
              progress: Progress | None = None) -> FileResult:
    """Load one open-data file (the registry must be prepared: :func:`prepare_registry`)."""
    started = time.perf_counter()
    try:
        check_received(path)  # a link, pipe or device is refused unopened: never read, copied or recorded
    except InputRefused as exc:
        return FileResult(path.name, "rejected", f"unreadable.{path.name}", "", str(exc))
    with ThreadPoolExecutor(max_workers=1) as pool:
        # hashlib releases the GIL: the checksum is taken beside the layout check and the narrow read (on 2 M rows
        # 1.35 s one after the other, 1.05 s side by side), which is wasted only when the same file comes again;
        # the wide read never is, as scan asks first
        checksum = pool.submit(submissions.sha256_file, path)
        try:
            layout = detect_layout(path)
        except InputRefused as exc:
            return _reject(con, path, checksum.result(), str(exc), started)
        try:
            with _watch(con, f"{path.name}: reading", progress):
                counts = scan(con, path, layout, proceed=lambda: _loaded_before(
                    con, path, checksum.result(), fingerprint, started) is None)
        except duckdb.Error as exc:
            detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            return _reject(con, path, checksum.result(), str(InputRefused(
                path.name, f"the file cannot be read as Erasmus+ mobility open data ({detail})")), started)
        sha = checksum.result()
    if counts is None:  # the same bytes with the same registry and mapping were loaded before: nothing changes
        return _loaded_before(con, path, sha, fingerprint, started)
    file_sid = _file_submission_id(sha)
    result = FileResult(path.name, "loaded", file_sid, sha, layout=layout.name)
    if not any(counts.values()):
        return _reject(con, path, sha, str(InputRefused(path.name, "the file has a header but no data rows; "
                                                                   "expected at least one row", row=2)), started)
    if progress:
        progress(f"{path.name}: mapping and checking", None)
    repairs = map_and_check(con)
    if layout.repairs:
        repairs.insert(0, f"header: {len(layout.repairs)} cell(s) such as {layout.repairs[0]!r}")
    result.repairs = ("mojibake repaired (ftfy): " + "; ".join(repairs)) if repairs else None
    result.rows_registry = counts["registry"]
    result.rows_dropped_not_registry = counts["not_registry"]
    result.rows_dropped_no_code = counts["no_code"]
    result.rows_corrupt = counts["corrupt"]
    result.rows_read = counts["registry"] + counts["not_registry"] + counts["no_code"]
    result.mobility_rows, result.rows_without_year = con.execute(
        f"SELECT count(*), count(DISTINCT source_row) FILTER (WHERE academic_year IS NULL) "
        f"FROM {WORK}._erasmus_mapped").fetchall()[0]
    plan = _plan_submissions(con, sha)
    result.submissions = plan
    if progress:
        progress(f"{path.name}: staging, validating, promoting", None)
    stored = submissions.keep_received(path, settings.raw_dir() / RAW_FOLDER, sha, link=True)
    _stage(con, path, layout, stored, sha, result, plan)
    _validate_and_promote(con, plan)
    result.rows_quarantined = sum(p["rows_quarantined"] for p in plan)
    _record_load(con, result, fingerprint, sha, path, started)
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
    from ims_indicators.curate.publish import clean_stale, publish_partition, write_all
    from ims_indicators.erasmus.publish import publish_erasmus_partition

    clean_stale()
    writes = [w for year in sorted(years) for w in (lambda c, y=year: publish_partition(c, "mobility", y),
                                                    lambda c, y=year: publish_erasmus_partition(c, y))]
    return [str(p) for p in write_all(con, writes)]


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
