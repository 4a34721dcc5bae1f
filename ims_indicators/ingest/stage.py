"""Stage one received file as a submission: keep the bytes, read, type, pseudonymise, record lineage."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import CONTRACTS, SLUG, YEAR_SLUG, canonical_year, contract, year_slug
from ims_indicators.errors import InputRefused
from ims_indicators.ingest.pseudonym import hmac_sql
from ims_indicators.read import read_submission
from ims_indicators.read.received import check_received, unopenable, walk_received
from ims_indicators.warehouse import quote_ident, transaction

SOURCE_SCHOOL = "school"
DATA_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"}


@dataclass
class SubmissionResult:
    submission_id: str
    dataset: str | None
    school_id: str | None
    academic_year: str | None
    file: str
    status: str  # staged, unchanged, rejected (then accepted / accepted_with_quarantine after validation)
    reason: str | None = None
    rows_in: int = 0
    rows_quarantined: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SubmissionKey:
    dataset: str
    school_id: str | None
    academic_year: str | None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def check_slug(value: str, what: str, file: str) -> str:
    """School ids and dataset names become folder names: only plain slugs (no '../', no absolute paths)."""
    if not SLUG.fullmatch(value or ""):
        raise InputRefused(file, f"{what} {value!r} is not a valid id; expected lowercase letters, digits, '-' or '_'",
                           column=what)
    return value


def resolve_key(path: Path, dataset: str | None, school_id: str | None, academic_year: str | None) -> SubmissionKey:
    """(dataset, school, year) from the ``<dataset>/<school>/<yyyy-yy>/file`` layout and/or the arguments.

    Where both say something they must agree: a disagreement is refused, not guessed.
    """
    name = path.name
    folder = {"dataset": None, "school_id": None, "academic_year": None}
    parts = path.resolve().parts
    if len(parts) >= 4 and parts[-4] in CONTRACTS and YEAR_SLUG.fullmatch(parts[-2]) and SLUG.fullmatch(parts[-3]):
        folder = {"dataset": parts[-4], "school_id": parts[-3], "academic_year": canonical_year(parts[-2])}
    elif parts[-2:-1] == ("schools",) or path.stem.lower().startswith("schools"):
        folder["dataset"] = "schools"
    given = {"dataset": dataset, "school_id": school_id,
             "academic_year": canonical_year(academic_year) if academic_year else None}
    if academic_year and given["academic_year"] is None:
        raise InputRefused(name, f"--year {academic_year!r} is not an academic year; expected e.g. 2023/24",
                           column="academic_year")
    key = {}
    for field in folder:
        if given[field] and folder[field] and given[field] != folder[field]:
            raise InputRefused(name, f"the folder says {field} {folder[field]!r} but the command line says "
                                     f"{given[field]!r}; expected them to agree", column=field)
        key[field] = given[field] or folder[field]
    if not key["dataset"]:
        raise InputRefused(name, "cannot tell which dataset this file is; expected the layout "
                                 "<dataset>/<school_id>/<yyyy-yy>/<file> or --dataset/--school/--year")
    if key["dataset"] not in CONTRACTS:
        raise InputRefused(name, f"unknown dataset {key['dataset']!r}; expected one of {', '.join(CONTRACTS)}",
                           column="dataset")
    if contract(key["dataset"]).per_year:
        if not key["school_id"] or not key["academic_year"]:
            raise InputRefused(name, f"a {key['dataset']} file needs its school and academic year; expected the "
                                     "layout <dataset>/<school_id>/<yyyy-yy>/<file> or --school and --year")
        check_slug(key["school_id"], "school_id", name)
    else:
        key["school_id"] = key["academic_year"] = None
    return SubmissionKey(**key)


def submission_id(key: SubmissionKey, sha: str, source: str = SOURCE_SCHOOL) -> str:
    parts = [key.dataset, key.school_id or "registry", year_slug(key.academic_year) if key.academic_year else "all"]
    if source != SOURCE_SCHOOL:
        parts.insert(0, source)
    return ".".join(parts + [sha[:12]])


def _atomic_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    shutil.copy2(src, tmp)  # keeps the modification time: the receipt time of a file dropped in
    os.replace(tmp, dest)


def keep_received(path: Path, key: SubmissionKey, sha: str) -> Path:
    """The received bytes under data/raw/ (copied there if they came from elsewhere); never overwritten."""
    raw = settings.raw_dir().resolve()
    src = path.resolve()
    if src.is_relative_to(raw):
        return src
    if key.dataset == "schools":
        folder = raw / "schools"
    else:
        folder = raw / key.dataset / key.school_id / year_slug(key.academic_year)
    dest = folder / path.name
    if dest.exists() and sha256_file(dest) != sha:
        dest = folder / f"{sha[:12]}_{path.name}"
    if not dest.exists():
        _atomic_copy(src, dest)
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


def received_at(path: Path) -> dt.datetime:
    """When a file arrived: its modification time where it was dropped (kept by our copies), never later than now.

    A rebuild from data/raw therefore records the same receipt times as the original ingest.
    """
    return min(dt.datetime.fromtimestamp(path.stat().st_mtime), dt.datetime.now())


def existing(con: duckdb.DuckDBPyConnection, sub_id: str) -> dict | None:
    row = con.execute("SELECT status, reason, rows_in, rows_quarantined FROM meta.submissions WHERE submission_id = ?",
                      [sub_id]).fetchall()
    return dict(zip(("status", "reason", "rows_in", "rows_quarantined"), row[0])) if row else None


def record_rejection(con: duckdb.DuckDBPyConnection, path: Path, key: SubmissionKey | None, sha: str,
                     reason: str, source: str = SOURCE_SCHOOL) -> SubmissionResult:
    """Keep a refused file under data/rejected/ and record it in meta.submissions with the reason."""
    key = key or SubmissionKey("unknown", None, None)
    sub_id = submission_id(key, sha, source)
    if existing(con, sub_id) is None:
        stored = keep_rejected(path, sub_id)
        con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name,
                       stored_path, sha256, received_at, status, reason, rows_in, rows_quarantined)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'rejected', ?, 0, 0)""",
                    [sub_id, key.dataset, key.school_id, key.academic_year, source, path.name, relative_to_home(stored), sha,
                     received_at(path), reason])
    # the same refused bytes again: nothing new is recorded, but the sender is told again why
    return SubmissionResult(sub_id, key.dataset, key.school_id, key.academic_year, path.name, "rejected", reason)


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, *, dataset: str | None = None,
               school_id: str | None = None, academic_year: str | None = None,
               source: str = SOURCE_SCHOOL) -> SubmissionResult:
    """Stage one file in one transaction, or refuse it whole (kept under data/rejected/, status rejected).

    The same bytes for the same key again change nothing (status ``unchanged``).
    """
    try:  # a link, pipe, device or unreadable file is refused unopened: never read, copied or recorded
        raw = settings.raw_dir()
        check_received(path, raw if path.absolute().is_relative_to(raw) else None)
        try:
            sha = sha256_file(path)
        except OSError as exc:
            raise unopenable(path, exc) from None
    except InputRefused as exc:
        return SubmissionResult(f"unreadable.{path.name}", dataset, school_id, academic_year, path.name, "rejected",
                                str(exc))
    key: SubmissionKey | None = None
    try:
        key = resolve_key(path, dataset, school_id, academic_year)
        sub_id = submission_id(key, sha, source)
        if (prior := existing(con, sub_id)) is not None:
            status = "rejected" if prior["status"] == "rejected" else "unchanged"
            return SubmissionResult(sub_id, key.dataset, key.school_id, key.academic_year, path.name, status,
                                    prior["reason"], prior["rows_in"] or 0, prior["rows_quarantined"] or 0)
        typed, rows_in, failures, repairs = read_submission(con, path, key.dataset, school_id=key.school_id,
                                                   academic_year=key.academic_year)
    except InputRefused as exc:
        return record_rejection(con, path, key, sha, str(exc), source)
    except (duckdb.Error, ValueError, OSError, UnicodeError, MemoryError) as exc:  # hostile input: refuse, say why
        expected = f"the file cannot be read as {key.dataset if key else 'a dataset'} ({type(exc).__name__}: " \
                   f"{str(exc).splitlines()[0][:300] if str(exc) else 'no detail'})"
        return record_rejection(con, path, key, sha, str(InputRefused(path.name, expected)), source)
    try:
        stored = keep_received(path, key, sha)
        _write_staged(con, typed, key, sub_id, path, stored, sha, rows_in, failures, source, repairs)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {typed}")
    quarantined = len({f["source_row"] for f in failures})
    return SubmissionResult(sub_id, key.dataset, key.school_id, key.academic_year, path.name, "staged", None,
                            rows_in, quarantined)


def _write_staged(con: duckdb.DuckDBPyConnection, typed: str, key: SubmissionKey, sub_id: str, path: Path,
                  stored: Path, sha: str, rows_in: int, failures: list[dict], source: str,
                  repairs: str | None = None) -> None:
    spec = contract(key.dataset)
    cols = spec.names
    select, params = [], {"sub_id": sub_id}
    for c in cols:
        if spec.column(c).kind == "pseudonym":
            expr, hmac_params = hmac_sql(quote_ident(c))
            params.update(hmac_params)
            select.append(f"{expr} AS {quote_ident(c)}")
        else:
            select.append(quote_ident(c))
    now = dt.datetime.now()  # read-stage failures arrive with person references already pseudonymised
    with transaction(con):
        con.execute("""INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source,
                       file_name, stored_path, sha256, received_at, status, rows_in, rows_quarantined, repairs)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'staged', ?, ?, ?)""",
                    [sub_id, key.dataset, key.school_id, key.academic_year, source, path.name, relative_to_home(stored), sha,
                     received_at(stored), rows_in, len({f["source_row"] for f in failures}), repairs])
        con.execute(f"""INSERT INTO staging.{key.dataset} (submission_id, source_row, {', '.join(map(quote_ident, cols))})
                        SELECT $sub_id, source_row, {', '.join(select)} FROM {typed}""", params)
        if failures:
            con.executemany("""INSERT INTO meta.quarantine (submission_id, source_row, stage, rule, column_name, reason,
                               row_json, quarantined_at) VALUES (?, ?, 'read', ?, ?, ?, ?, ?)""",
                            [[sub_id, f["source_row"], f["rule"], f["column"], f["reason"], f["row_json"], now]
                             for f in failures])


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders into their data files, the registry first, then in a stable order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            found.extend(walk_received(p, DATA_SUFFIXES))  # links, pipes, devices listed: stage_file refuses them
        else:
            found.append(p)
    # the registry first; then in the order the files were received (a later file for a key supersedes)
    return sorted(found, key=lambda f: (0 if resolve_dataset_hint(f) == "schools" else 1, _mtime_ns(f), str(f)))


def _mtime_ns(path: Path) -> int:
    try:
        return os.lstat(path).st_mtime_ns  # never follows a link
    except OSError:
        return 0


def resolve_dataset_hint(path: Path) -> str | None:
    parts = path.parts
    if len(parts) >= 4 and parts[-4] in CONTRACTS:
        return parts[-4]
    if path.stem.lower().startswith("schools") or parts[-2:-1] == ("schools",):
        return "schools"
    return None
