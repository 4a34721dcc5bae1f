"""Stage one received file as a submission: keep the bytes, read, type, pseudonymise, record lineage."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ims_indicators import settings, submissions
from ims_indicators.contracts import CONTRACTS, SLUG, YEAR_SLUG, canonical_year, contract, year_slug
from ims_indicators.errors import InputRefused
from ims_indicators.ingest.pseudonym import hmac_sql
from ims_indicators.read import discard, read_submission
from ims_indicators.read.received import check_received, unopenable, walk_received
from ims_indicators.submissions import SOURCE_SCHOOL, SubmissionKey, submission_id
from ims_indicators.warehouse import quote_ident, transaction

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


def record_rejection(con: duckdb.DuckDBPyConnection, path: Path, key: SubmissionKey | None, sha: str,
                     reason: str, source: str = SOURCE_SCHOOL) -> SubmissionResult:
    """Keep a refused file under data/rejected/ and record it with the reason (the sender is told again why)."""
    key = key or SubmissionKey("unknown", None, None)
    sub_id = submissions.record_rejection(con, path, key, sha, reason, source)
    return SubmissionResult(sub_id, key.dataset, key.school_id, key.academic_year, path.name, "rejected", reason)


def raw_folder(key: SubmissionKey) -> Path:
    """Where a school's file is kept under data/raw/: <dataset>/<school>/<yyyy-yy>/ (the registry: schools/)."""
    raw = settings.raw_dir().resolve()
    if key.dataset == "schools":
        return raw / "schools"
    return raw / key.dataset / key.school_id / year_slug(key.academic_year)


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, *, dataset: str | None = None,
               school_id: str | None = None, academic_year: str | None = None,
               source: str = SOURCE_SCHOOL) -> SubmissionResult:
    """Stage one file in one transaction, or refuse it whole (kept under data/rejected/, status rejected).

    The same bytes for the same key again change nothing (status ``unchanged``): they are not read again.
    """
    try:  # a link, pipe, device or unreadable file is refused unopened: never read, copied or recorded
        raw = settings.raw_dir()
        check_received(path, raw if path.absolute().is_relative_to(raw) else None)
        size = path.stat().st_size
    except (InputRefused, OSError) as exc:
        return _unreadable(path, dataset, school_id, academic_year, exc)
    # hashlib releases the GIL: the file is hashed while DuckDB reads it (1 M rows: 0.18 s), unless a file of its
    # key and size was received before, when the checksum decides first whether it is the same bytes again
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(submissions.sha256_file, path)
        try:
            return _stage(con, path, hashing.result, size, dataset, school_id, academic_year, source)
        except _Unhashed as exc:
            return _unreadable(path, dataset, school_id, academic_year, exc.error)


class _Unhashed(Exception):
    """The checksum could not be taken (the file became unreadable): it is refused unread, as at the start."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _unreadable(path: Path, dataset: str | None, school_id: str | None, academic_year: str | None,
                exc: InputRefused | OSError) -> SubmissionResult:
    refusal = unopenable(path, exc) if isinstance(exc, OSError) else exc
    return SubmissionResult(f"unreadable.{path.name}", dataset, school_id, academic_year, path.name, "rejected",
                            str(refusal))


def _stage(con: duckdb.DuckDBPyConnection, path: Path, checksum: Callable[[], str], size: int,
           dataset: str | None, school_id: str | None, academic_year: str | None, source: str) -> SubmissionResult:
    def sha() -> str:
        try:
            return checksum()
        except OSError as exc:
            raise _Unhashed(exc) from None

    def known(key: SubmissionKey) -> SubmissionResult | None:
        sub_id = submission_id(key, sha(), source)
        if (prior := submissions.existing(con, sub_id)) is None:
            return None
        status = "rejected" if prior["status"] == "rejected" else "unchanged"
        return SubmissionResult(sub_id, key.dataset, key.school_id, key.academic_year, path.name, status,
                                prior["reason"], prior["rows_in"] or 0, prior["rows_quarantined"] or 0)

    key: SubmissionKey | None = None
    try:
        key = resolve_key(path, dataset, school_id, academic_year)
        asked = submissions.may_be_known(con, key, source, size)  # then the checksum decides before any read
        if asked and (prior := known(key)):
            return prior
        typed, rows_in, failures, repairs = read_submission(con, path, key.dataset, school_id=key.school_id,
                                                            academic_year=key.academic_year)
    except InputRefused as exc:
        return record_rejection(con, path, key, sha(), str(exc), source)
    except (duckdb.Error, ValueError, OSError, UnicodeError, MemoryError) as exc:  # hostile input: refuse, say why
        expected = f"the file cannot be read as {key.dataset if key else 'a dataset'} ({type(exc).__name__}: " \
                   f"{str(exc).splitlines()[0][:300] if str(exc) else 'no detail'})"
        return record_rejection(con, path, key, sha(), str(InputRefused(path.name, expected)), source)
    if not asked and (prior := known(key)) is not None:  # the same bytes after all (its kept file changed size)
        discard(con, typed)
        return prior
    sub_id = submission_id(key, sha(), source)
    try:
        stored = submissions.keep_received(path, raw_folder(key), sha())
        _write_staged(con, typed, key, sub_id, path, stored, sha(), rows_in, failures, source, repairs)
    finally:
        discard(con, typed)
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
    with transaction(con):
        submissions.record(con, submission_id=sub_id, dataset=key.dataset, school_id=key.school_id,
                           academic_year=key.academic_year, source=source, file_name=path.name,
                           stored_path=submissions.relative_to_home(stored), sha256=sha,
                           received_at=submissions.received_at(stored), status="staged", rows_in=rows_in,
                           rows_quarantined=len({f["source_row"] for f in failures}), repairs=repairs)
        con.execute(f"""INSERT INTO staging.{key.dataset} (submission_id, source_row, {', '.join(map(quote_ident, cols))})
                        SELECT $sub_id, source_row, {', '.join(select)} FROM {typed}""", params)
        # read-stage failures arrive with person references already pseudonymised
        submissions.quarantine(con, ([sub_id, f["source_row"], "read", f["rule"], f["column"], f["reason"],
                                      f["row_json"]] for f in failures))


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
