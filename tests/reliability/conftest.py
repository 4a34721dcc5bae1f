"""Reliability helpers: a small slice of the demo network, `ims` in a subprocess, warehouse snapshots and checks."""

from __future__ import annotations

import csv
import faulthandler
import io
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ims_indicators.contracts import CONTRACTS

REPO = Path(__file__).resolve().parents[2]
IMS = Path(sys.executable).with_name("ims")
KEY = "reliability-test-key-7f3a9c"  # IMS_PSEUDONYM_KEY of every subprocess (the same key: the same pseudonyms)
ACCEPTED = ("accepted", "accepted_with_quarantine")
STATUSES = {"staged", "rejected", *ACCEPTED}
# the slice of the demo network the subprocess tests ingest (13 files: the registry, 6 datasets × 2 years);
# ljubljana-med's 2022/23 mobility file is the demo's malformed file (refused: `ims ingest` exits 1)
SCHOOLS = ("ljubljana-med",)
YEARS = ("2022-23", "2023-24")
MALFORMED = "mobility_2022-23.csv"
HANG_GUARD_S = 240


@pytest.fixture(autouse=True)
def hang_guard():
    """Last resort against a hang: dump every thread's stack and end the run (a test must never block CI)."""
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo network, written once per session (the tests copy slices of it)."""
    from ims_indicators.demo import generate_demo

    out = tmp_path_factory.mktemp("demo") / "raw"
    generate_demo(out, seed=2024)
    return out


@dataclass
class Reference:
    home: Path
    run_time: float  # seconds of an uninterrupted `ims ingest data/raw`
    snapshot: dict[str, list[tuple]]


@pytest.fixture(scope="session")
def reference(demo_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The slice ingested once, uninterrupted and alone: what every other way of ingesting it must equal."""
    home = tmp_path_factory.mktemp("reference")
    assert copy_slice(demo_source, home) == 13
    started = time.monotonic()
    result = ims(home, "ingest", "data/raw")
    run_time = time.monotonic() - started
    assert_clean_exit(result, (1,))  # the malformed file is refused, with its reason
    assert MALFORMED in result.stderr
    assert check_consistent(home, finished=True)["rejected"] == 1
    snap = snapshot(home)
    assert snap["meta.quarantine"] and snap["curated.mobility"] and snap["parquet.staffing"]
    return Reference(home, run_time, snap)


def copy_slice(src: Path, home: Path, schools: tuple[str, ...] = SCHOOLS, years: tuple[str, ...] = YEARS,
               datasets: tuple[str, ...] | None = None) -> int:
    """Copy the registry and the slice's files into ``home/data/raw`` (mtimes kept: the receiving order)."""
    raw = home / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "schools.csv", raw / "schools.csv")
    n = 1
    for f in sorted(src.rglob("*")):
        parts = f.relative_to(src).parts
        if f.is_file() and len(parts) == 4 and parts[1] in schools and parts[2] in years \
                and (datasets is None or parts[0] in datasets):
            (raw / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, raw / f.relative_to(src))
            n += 1
    return n


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMS_")}
    env.update(IMS_HOME=str(home), IMS_PSEUDONYM_KEY=KEY, PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_HOME=str(home / ".prefect"), PREFECT_LOGGING_LEVEL="WARNING", PYTHONUNBUFFERED="1",
               IMS_EXPECTATIONS_DIR=str(REPO / "expectations"), IMS_CATALOGUE=str(REPO / "catalogue/indicators.yaml"),
               IMS_PEER_SETS=str(REPO / "catalogue/peer_sets.yaml"), IMS_MODELS_DIR=str(REPO / "models"))
    env.update(extra)
    return env


def ims(home: Path, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    """Run the real ``ims`` command in ``home`` (a fresh process, as a user would)."""
    return subprocess.run([str(IMS), *args], check=False, cwd=home, env=env_for(home, **extra), capture_output=True,
                          text=True, timeout=timeout)


def assert_clean_exit(result: subprocess.CompletedProcess, codes: tuple[int, ...] = (0, 1)) -> None:
    output = result.stdout + result.stderr
    assert result.returncode in codes, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def connect(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[tuple]:
    return sorted(con.execute(query, params or []).fetchall(), key=repr)


def parquet_rows(home: Path, dataset: str) -> list[tuple]:
    """The published Parquet of a dataset as a reader sees it (the documented globs), sorted."""
    root = home / "data" / "curated" / dataset
    per_year = CONTRACTS[dataset].per_year
    files = list(root.glob("academic_year=*/*.parquet" if per_year else "all/*.parquet"))
    if not files:
        return []
    with duckdb.connect() as con:
        if per_year:
            return _rows(con, "SELECT * REPLACE (replace(academic_year, '-', '/') AS academic_year) "
                              "FROM read_parquet(?, hive_partitioning=true, hive_types={'academic_year': VARCHAR})",
                         [str(root / "academic_year=*" / "*.parquet")])
        return _rows(con, "SELECT * FROM read_parquet(?)", [str(root / "all" / "*.parquet")])


def curated_columns(con: duckdb.DuckDBPyConnection, dataset: str) -> str:
    """The curated columns in the order Parquet gives them back (academic_year comes back last)."""
    names = [r[0] for r in con.execute(f"DESCRIBE curated.{dataset}").fetchall()]
    if CONTRACTS[dataset].per_year:
        names = [n for n in names if n != "academic_year"] + ["academic_year"]
    return ", ".join(f'"{n}"' for n in names)


def snapshot(home: Path) -> dict[str, list[tuple]]:
    """Everything an ingest produces, timestamps left out: history, quarantine, staging, curated, Parquet."""
    with connect(home) as con:
        snap = {
            "meta.submissions": _rows(con, "SELECT * EXCLUDE (received_at) FROM meta.submissions"),
            "meta.quarantine": _rows(con, "SELECT * EXCLUDE (quarantined_at) FROM meta.quarantine"),
        }
        for ds in CONTRACTS:
            snap[f"staging.{ds}"] = _rows(con, f"SELECT * FROM staging.{ds}")
            snap[f"curated.{ds}"] = _rows(con, f"SELECT {curated_columns(con, ds)} FROM curated.{ds}")
    for ds in CONTRACTS:
        snap[f"parquet.{ds}"] = parquet_rows(home, ds)
    return snap


def check_consistent(home: Path, *, finished: bool = False) -> dict[str, int]:
    """The crash-safety invariants: the warehouse opens; each submission is wholly in or wholly out.

    ``finished``: after a run that completed, nothing is left 'staged' and Parquet equals curated.
    Returns the count of submissions per status.
    """
    if not (home / "data" / "warehouse.duckdb").exists():
        return {}
    with connect(home) as con:  # opens (the WAL of a killed writer is replayed)
        subs = con.execute("SELECT submission_id, dataset, status, rows_in, superseded_by FROM meta.submissions"
                           ).fetchall()
        ids = [s[0] for s in subs]
        assert len(ids) == len(set(ids)), "duplicate submission ids"
        assert {s[2] for s in subs} <= STATUSES, {s[2] for s in subs}
        if finished:
            assert not [s for s in subs if s[2] == "staged"], "a submission was left staged by a completed run"
        status = {s[0]: s[2] for s in subs}
        for ds in CONTRACTS:
            staged_ids = {r[0] for r in con.execute(f"SELECT DISTINCT submission_id FROM staging.{ds}").fetchall()}
            assert staged_ids <= set(status), f"staging.{ds} holds rows of an unrecorded submission"
            dupes = con.execute(f"SELECT submission_id, source_row, count(*) FROM curated.{ds} GROUP BY ALL "
                                "HAVING count(*) > 1 LIMIT 3").fetchall()
            assert not dupes, f"curated.{ds} holds rows twice: {dupes}"
            curated = dict(con.execute(f"SELECT submission_id, count(*) FROM curated.{ds} GROUP BY ALL").fetchall())
            # every accepted submission still current has its rows in curated exactly once; nothing else is there
            expected = dict(con.execute(f"""
                SELECT s.submission_id, count(*) FROM staging.{ds} s JOIN meta.submissions m USING (submission_id)
                WHERE m.status IN ('accepted', 'accepted_with_quarantine') AND m.superseded_by IS NULL
                  AND s.source_row NOT IN (SELECT source_row FROM meta.quarantine q
                                           WHERE q.submission_id = s.submission_id AND q.source_row IS NOT NULL)
                GROUP BY ALL""").fetchall())
            assert curated == expected, f"curated.{ds} does not hold exactly the accepted submissions' rows"
            # Parquet: readable, never half a submission (it may lag curated until the next run publishes)
            published: dict[str, int] = {}
            for row in parquet_rows(home, ds):
                published[row[0]] = published.get(row[0], 0) + 1
            for sid, n in published.items():
                assert status.get(sid) in ACCEPTED, f"Parquet of {ds} holds {sid} ({status.get(sid)})"
                full = con.execute(f"SELECT count(*) FROM staging.{ds} s WHERE submission_id = ? AND source_row NOT IN "
                                   "(SELECT source_row FROM meta.quarantine q WHERE q.submission_id = s.submission_id "
                                   "AND q.source_row IS NOT NULL)", [sid]).fetchall()[0][0]
                assert n == full, f"Parquet of {ds} holds {n} of {full} rows of {sid}"
            if finished:
                assert published == curated, f"Parquet of {ds} differs from curated after a completed run"
    if finished:  # an interrupted publish leaves .tmp/.old folders until the next run removes them
        assert not leftovers(home), leftovers(home)
    counts: dict[str, int] = {}
    for s in subs:
        counts[s[2]] = counts.get(s[2], 0) + 1
    return counts


def leftovers(home: Path) -> list[str]:
    """Temporary folders of an interrupted publish under data/curated (hidden from the documented globs)."""
    root = home / "data" / "curated"
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in [*root.glob("*/.*"), *root.glob(".publishing/*")])


# --- the whole cycle on hostile and personal data (privacy, injection, rebuild) -----------------------------------

XSS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
PERSONS = {"accepted": "ZZPERSON12345", "accepted_too": "ZZPERSON12346", "read_quarantine": "ZZPERSON22222",
           "validate_quarantine": "ZZPERSON33333"}
PIPELINE_SCHOOLS = ("charite-berlin", "karolinska", "ljubljana-med")


@dataclass
class Pipeline:
    home: Path
    run: subprocess.CompletedProcess  # `ims run` after the second batch
    tables: dict[str, list[tuple]]  # curated, marts and history after the incremental ingests (timestamps left out)


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


def write_pipeline_batches(src: Path, home: Path) -> Path:
    """Batch 1 in data/raw: three schools' 2023/24 files with hostile names and distinctive person references.

    Returns batch 2 (to copy in later): a corrected ljubljana-med staffing file whose foreign staff add up to 3.
    """
    copy_slice(src, home, schools=PIPELINE_SCHOOLS, years=("2023-24",))
    raw = home / "data" / "raw"
    registry = _csv_rows(raw / "schools.csv")
    for r in registry[1:]:
        if r[0] in ("ljubljana-med", "charite-berlin"):
            r[1], r[6] = (XSS if r[0] == "ljubljana-med" else FORMULA), "true"
    _write_csv(raw / "schools.csv", registry)
    folder = {ds: raw / ds / "ljubljana-med" / "2023-24" for ds in ("mobility", "accreditation", "staffing")}
    mob = next(folder["mobility"].glob("*.csv"))

    def mobility(ref: str, institution: str, start: str, participants: str, person: str) -> list[str]:
        return ["ljubljana-med", "2023/24", ref, "outgoing", "student", "study", "erasmus_plus", "long_cycle", "AT",
                institution, start, "2024-02-14", participants, "30", "30", person]

    _write_csv(mob, _csv_rows(mob) + [
        mobility("ZZ-1", XSS, "2023-10-01", "1", PERSONS["accepted"]),
        mobility("ZZ-2", FORMULA, "2023-10-01", "1", PERSONS["accepted_too"]),
        mobility("ZZ-3", "Wien", "31.02.2024", "1", PERSONS["read_quarantine"]),  # no such date: held back at read
        mobility("ZZ-4", "Wien", "2023-10-01", "0", PERSONS["validate_quarantine"])])  # participants >= 1
    acc = next(folder["accreditation"].glob("*.csv"))
    _write_csv(acc, _csv_rows(acc) + [
        ["ljubljana-med", "2023/24", name, "programme", "SQAA", "SI", "true", "accredited", "2022-03-21", "2030-03-20",
         "0"] for name in (XSS, FORMULA)])
    staffing = _csv_rows(next(folder["staffing"].glob("*.csv")))
    for i, r in enumerate(staffing[1:]):
        r[5] = "3" if i == 0 else "0"  # foreign_nationality: 3 in all (a small count)
    batch2 = home / "batch2" / "staffing" / "ljubljana-med" / "2023-24" / "staffing_2023-24_corrected.csv"
    batch2.parent.mkdir(parents=True)
    _write_csv(batch2, staffing)
    return home / "batch2"


def table_snapshot(home: Path, schemas: tuple[str, ...] = ("meta", "curated", "marts")) -> dict[str, list[tuple]]:
    """Every table and view of the schemas (curated.* are views), sorted, without timestamp columns and run ids
    (received_at, scored_at …)."""
    with connect(home) as con:
        tables = con.execute("SELECT * FROM (SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                             "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal) "
                             "WHERE schema_name IN (SELECT unnest(?)) ORDER BY ALL", [list(schemas)]).fetchall()
        out = {}
        for schema, table in tables:
            cols = [c for c, t in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index", [schema, table]).fetchall()
                    if not t.startswith("TIMESTAMP") and c != "run_id"]
            out[f"{schema}.{table}"] = _rows(con, f"SELECT {', '.join(repr_ident(c) for c in cols)} "
                                                  f"FROM {repr_ident(schema)}.{repr_ident(table)}")
    return out


def repr_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture(scope="session")
def pipeline(demo_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Two batches ingested incrementally (the second supersedes a file), then the whole cycle with `ims run`.

    No IMS_PSEUDONYM_KEY here: the key is created once in data/pseudonym.key, as on a fresh install.
    """
    home = tmp_path_factory.mktemp("pipeline")
    batch2 = write_pipeline_batches(demo_source, home)
    first = ims(home, "ingest", "data/raw", IMS_PSEUDONYM_KEY="")
    assert_clean_exit(first, (0,))
    for f in batch2.rglob("*.csv"):
        dest = home / "data" / "raw" / f.relative_to(batch2)
        shutil.copyfile(f, dest)  # received now: later than every file of batch 1
    shutil.rmtree(batch2)
    run = ims(home, "run", IMS_PSEUDONYM_KEY="", timeout=600)
    assert_clean_exit(run, (0,))
    return Pipeline(home, run, table_snapshot(home))
