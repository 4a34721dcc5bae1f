"""Privacy: person references are stored only as keyed-HMAC pseudonyms. After the whole cycle (`ims run`: ingest,
validation, indicators, benchmark, score, reports, Prefect history), the raw references and the key appear nowhere
under IMS_HOME except data/raw and data/rejected (the files as received) and the key file; rows held back keep the
pseudonym; the key file is git-ignored; small counts stay suppressed in the exports."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from ims_indicators.ingest.pseudonym import pseudonym

from .conftest import PERSONS, REPO, XSS, Pipeline, connect

pytestmark = pytest.mark.slow
RECEIVED = ("data/raw", "data/rejected")  # kept as received, by design


def key_of(home: Path) -> str:
    return (home / "data" / "pseudonym.key").read_text().strip()


def secrets_in_file(path: Path, secrets: list[str]) -> set[str]:
    """Which secrets a file holds, looking inside what is compressed (DuckDB, Parquet, xlsx/zip)."""
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            found = set()
            for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
                for s in secrets:
                    n = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::VARCHAR LIKE ?',
                                    [f"%{s}%"]).fetchall()[0][0]
                    if n:
                        found.add(s)
            return found
    if path.suffix == ".parquet":
        with duckdb.connect() as con:
            return {s for s in secrets if con.execute("SELECT count(*) FROM read_parquet(?) t WHERE t::VARCHAR LIKE ?",
                                                      [str(path), f"%{s}%"]).fetchall()[0][0]}
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            data += b"".join(zf.read(name) for name in zf.namelist())
    return {s for s in secrets if s.encode() in data or s.encode("utf-16-le") in data}


def test_no_raw_person_reference_and_no_key_anywhere_but_the_received_files(pipeline: Pipeline) -> None:
    home = pipeline.home
    key = key_of(home)
    assert len(key) >= 32 and (home / "data" / "pseudonym.key").stat().st_mode & 0o077 == 0  # owner only
    assert not (home / "data" / "warehouse.duckdb.wal").exists()
    secrets = [*PERSONS.values(), key]
    checked, leaks = 0, {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        if not path.is_file() or rel.startswith(RECEIVED) or rel == "data/pseudonym.key":
            continue
        checked += 1
        if found := secrets_in_file(path, secrets):
            leaks[rel] = found
    assert not leaks, leaks
    assert checked > 50  # the warehouse, Parquet, reports, data docs, the Prefect database …
    assert any(p.name == "prefect.db" for p in home.rglob("prefect.db"))  # the flow run and its artifacts
    output = pipeline.run.stdout + pipeline.run.stderr
    assert not any(s in output for s in secrets)  # nor in what the run printed (its logs)
    # the scan sees inside each kind of file: the (non-personal) mobility ref of the same rows is found
    parquet = next((home / "data" / "curated" / "mobility").rglob("*.parquet"))
    for path in (home / "data" / "warehouse.duckdb", parquet, next((home / "reports").rglob("*.xlsx"))):
        assert secrets_in_file(path, ["ZZ-1", "ljubljana-med"]), path
    # the received file does hold them: the scan would have seen a leak
    assert secrets_in_file(next((home / "data" / "raw" / "mobility" / "ljubljana-med").rglob("*.csv")),
                           secrets) == set(PERSONS.values())


def test_stored_person_references_are_the_keyed_pseudonyms(pipeline: Pipeline) -> None:
    key = key_of(pipeline.home).encode()
    p = {k: pseudonym(v, key) for k, v in PERSONS.items()}
    with connect(pipeline.home) as con:
        curated = {r[0]: r[1] for r in con.execute(
            "SELECT mobility_ref, person_ref FROM curated.mobility WHERE mobility_ref LIKE 'ZZ-%'").fetchall()}
        assert curated == {"ZZ-1": p["accepted"], "ZZ-2": p["accepted_too"]}
        held = con.execute("""SELECT q.stage, q.row_json FROM meta.quarantine q JOIN meta.submissions s
                              USING (submission_id) WHERE s.dataset = 'mobility' AND q.row_json LIKE '%ZZ-%'
                              ORDER BY q.source_row""").fetchall()
    stages = {json.loads(row)["mobility_ref"]: (stage, json.loads(row)["person_ref"]) for stage, row in held}
    assert stages["ZZ-3"] == ("read", p["read_quarantine"])  # held back at read (31.02.2024)
    assert stages["ZZ-4"][1] == p["validate_quarantine"] and stages["ZZ-4"][0] != "read"  # held back at validation


def test_the_key_file_is_git_ignored() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/pseudonym.key"], cwd=REPO, check=False)
    assert ignored.returncode == 0, ".gitignore must cover data/pseudonym.key"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert not [f for f in tracked.splitlines() if f.endswith((".key", ".pem")) or "pseudonym.key" in f]


def test_small_counts_stay_suppressed_in_the_workbook(pipeline: Pipeline) -> None:
    """ljubljana-med's foreign staff add up to 3 in 2023/24 (the corrected file of batch 2)."""
    with connect(pipeline.home) as con:
        planted = con.execute("SELECT numerator FROM marts.indicator_values WHERE school_id = 'ljubljana-med' AND "
                              "academic_year = '2023/24' AND indicator_id = 'staff_international_share'").fetchall()
    assert planted == [(3.0,)]
    books = list((pipeline.home / "reports").rglob("*.xlsx"))
    exports = list((pipeline.home / "reports").rglob("*.csv"))
    assert books, "no workbook under reports/"
    seen = institutional = 0
    for book in books:
        wb = load_workbook(book)
        ind = [dict(zip([c.value for c in wb["indicators"][1]], r)) for r in wb["indicators"].iter_rows(
            min_row=2, values_only=True)]
        people = {r["indicator_id"] for r in ind if r["about_people"]}
        for ws in wb.worksheets:
            header = [c.value for c in ws[1]]
            counts = [i for i, h in enumerate(header) if h in ("numerator", "denominator")]
            iid = header.index("indicator_id") if "indicator_id" in header else None
            for row in ws.iter_rows(min_row=2, values_only=True):
                for i in counts:
                    seen += 1
                    v = row[i]
                    small = isinstance(v, (int, float)) and 0 < v < 5
                    if iid is not None and row[iid] not in people:  # programmes, decisions, submissions: shown
                        institutional += small
                        continue
                    assert not small, (book.name, ws.title, row)
                if XSS in row and "staff_international_share" in row and "2023/24" in row and counts:
                    assert row[counts[0]] == "<5", row
    assert seen > 100 and institutional > 0  # counts of decisions and submissions are not suppressed
    assert not exports  # no CSV exports are written (if some appear, they need the same checks)
