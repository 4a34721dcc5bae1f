"""Ingestion end to end on small files: identity by sha256, supersede, refusals kept, pseudonyms, Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from ims_indicators.cli import app

runner = CliRunner()
REGISTRY = ("school_id,name,country_code,city,erasmus_code,network_role,consent_to_be_named\n"
            "charite-berlin,Charité Berlin,DE,Berlin,D  BERLIN13,partner,true\n"
            "karolinska,Karolinska Institutet,SE,Stockholm,S  STOCKHO03,partner,yes\n")
MOB = ("school_id;academic_year;mobility_ref;direction;participant_type;activity;programme;programme_level;"
       "partner_country;start_date;end_date;participants;ects_earned;ects_recognised;person_ref\n"
       "charite-berlin;2023/24;m1;outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;1;30;30;"
       "M-7654321\n"
       "charite-berlin;2023/24;m2;incoming;staff;teaching;bilateral;;FR;15.09.2023;20.09.2023;2;;;S-55555\n")


def write_network(home: Path, mobility: str = MOB) -> Path:
    raw = home / "data" / "raw"
    (raw / "schools.csv").write_text(REGISTRY, encoding="utf-8")
    folder = raw / "mobility" / "charite-berlin" / "2023-24"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mobility.csv").write_bytes(mobility.encode("cp1252"))
    return raw


def ims(*args: str):
    return runner.invoke(app, list(args))


def table_counts(home: Path) -> dict[str, int]:
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in (
            "meta.submissions", "meta.quarantine", "staging.mobility", "curated.mobility", "staging.schools",
            "curated.schools")}
    finally:
        con.close()


def submissions(home: Path) -> list[dict]:
    result = ims("submissions", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_twice_changes_nothing_and_a_new_file_supersedes(home: Path) -> None:
    raw = write_network(home)
    first = ims("ingest", str(raw))
    assert first.exit_code == 0, first.output
    counts = table_counts(home)
    assert counts["curated.mobility"] == 2 and counts["curated.schools"] == 2
    subs = submissions(home)
    assert {s["status"] for s in subs} == {"accepted"} and all(len(s["sha256"]) == 64 for s in subs)

    again = ims("ingest", str(raw))
    assert again.exit_code == 0 and table_counts(home) == counts  # no rows added anywhere

    # a corrected file for the same key supersedes the old one, which stays listed
    (raw / "mobility" / "charite-berlin" / "2023-24" / "mobility.csv").write_bytes(
        (MOB + MOB.splitlines()[1].replace("m1", "m3") + "\n").encode("cp1252"))
    assert ims("ingest", str(raw)).exit_code == 0
    mob = [s for s in submissions(home) if s["dataset"] == "mobility"]
    assert len(mob) == 2
    old = next(s for s in mob if s["superseded_by"])
    new = next(s for s in mob if not s["superseded_by"])
    assert old["superseded_by"] == new["submission_id"] and new["rows_in"] == 3
    assert table_counts(home)["curated.mobility"] == 3  # curated = the latest accepted submission only


def test_two_files_for_one_key_in_one_run_the_later_supersedes(home: Path) -> None:
    """The verdicts of a dataset are applied in one transaction, in the order received: the later file of a key
    supersedes the earlier one although both are decided together (and not the other way round)."""
    import os

    raw = write_network(home)
    folder = raw / "mobility" / "charite-berlin" / "2023-24"
    later = folder / "mobility_corrected.csv"
    later.write_bytes((MOB + MOB.splitlines()[1].replace("m1", "m3") + "\n").encode("cp1252"))
    first = os.stat(folder / "mobility.csv").st_mtime_ns
    os.utime(later, ns=(first + 10**9, first + 10**9))  # received one second later
    assert ims("ingest", str(raw)).exit_code == 0
    mob = {s["file_name"]: s for s in submissions(home) if s["dataset"] == "mobility"}
    assert mob["mobility.csv"]["superseded_by"] == mob["mobility_corrected.csv"]["submission_id"]
    assert mob["mobility_corrected.csv"]["superseded_by"] is None
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    try:
        curated = con.execute("SELECT DISTINCT submission_id FROM curated.mobility").fetchall()
        assert curated == [(mob["mobility_corrected.csv"]["submission_id"],)]
        assert con.execute("SELECT count(*) FROM curated.mobility").fetchall()[0][0] == 3
    finally:
        con.close()


def test_refused_file_is_kept_recorded_and_exits_1(home: Path) -> None:
    write_network(home)
    bad = home / "incoming" / "mobility.csv"
    bad.parent.mkdir()
    bad.write_text("school_id;academic_year;direction\ncharite-berlin;2023/24;outgoing\n")
    result = ims("ingest", str(bad), "--dataset", "mobility", "--school", "charite-berlin", "--year", "2022-23")
    assert result.exit_code == 1
    assert "mobility.csv, row 1, column" in result.stderr and "required column(s) missing" in result.stderr
    assert "Traceback" not in result.output
    rejected = list((home / "data" / "rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].read_bytes() == bad.read_bytes()
    sub = submissions(home)[0]
    assert sub["status"] == "rejected" and "required column(s) missing" in sub["reason"]


def test_unknown_dataset_and_path_traversal_are_refused(home: Path) -> None:
    f = home / "x.csv"
    f.write_text("a,b\n1,2\n")
    r = ims("ingest", str(f), "--dataset", "finances", "--school", "ki", "--year", "2023/24")
    assert r.exit_code == 1 and "unknown dataset 'finances'" in r.stderr
    r = ims("ingest", str(f), "--dataset", "mobility", "--school", "../../etc", "--year", "2023/24")
    assert r.exit_code == 1 and "school_id '../../etc' is not a valid id" in r.stderr
    assert not (home / "etc").exists()


def test_person_refs_are_pseudonymised_everywhere(home: Path) -> None:
    raw = write_network(home)
    assert ims("ingest", str(raw)).exit_code == 0
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    refs = [r[0] for r in con.execute("SELECT person_ref FROM curated.mobility ORDER BY source_row").fetchall()]
    con.close()
    assert all(r.startswith("p_") and len(r) == 26 for r in refs)
    for path in [home / "data" / "warehouse.duckdb", *(home / "data" / "curated").rglob("*.parquet")]:
        data = path.read_bytes()
        assert b"M-7654321" not in data and b"S-55555" not in data, path


def test_parquet_partitions_equal_the_curated_tables(home: Path) -> None:
    raw = write_network(home)
    assert ims("ingest", str(raw)).exit_code == 0
    from ims_indicators.curate.publish import read_partitions

    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    for ds in ("mobility", "schools"):
        cols = [r[0] for r in con.execute(f"DESCRIBE curated.{ds}").fetchall()]
        order = ", ".join(cols)
        table = con.sql(f"SELECT {order} FROM curated.{ds} ORDER BY ALL").fetchall()
        parquet = read_partitions(con, ds).select(order).order("ALL").fetchall()
        assert table == parquet and table
    assert (home / "data" / "curated" / "mobility" / "academic_year=2023-24").is_dir()
    con.close()


def test_a_school_missing_from_the_registry_rejects_its_file_with_one_reason(home: Path) -> None:
    folder = home / "data" / "raw" / "mobility" / "charite-berlin" / "2023-24"
    folder.mkdir(parents=True)
    (folder / "mobility.csv").write_bytes(MOB.encode("cp1252"))  # no registry ingested
    result = ims("ingest", str(home / "data" / "raw"))
    assert result.exit_code == 1 and "'charite-berlin' is not in the schools registry" in result.stderr
    sub = submissions(home)[0]
    assert sub["status"] == "rejected" and "registry" in sub["reason"]
    assert table_counts(home)["curated.mobility"] == 0
