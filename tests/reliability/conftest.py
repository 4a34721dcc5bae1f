"""Reliability helpers: a small slice of the demo network, `ims` in a subprocess, warehouse snapshots and checks."""

from __future__ import annotations

import faulthandler
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
# the slice of the demo network the subprocess tests ingest (11 files: the registry, 5 datasets × 2 years);
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
    assert copy_slice(demo_source, home) == 11
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
    return sorted(str(p.relative_to(root)) for p in root.glob("*/.*")) if root.exists() else []
