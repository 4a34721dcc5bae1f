"""curated.<dataset> is the view of the staged rows that passed (ims_indicators/sql/curated*.sql): what a promotion
decides, read from staging, with no row copied; the registry keeps each school's row of the latest file listing it;
a warehouse from before the views gets them with the same rows."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ims_indicators.contracts import CONTRACTS
from ims_indicators.warehouse import open_warehouse

from .test_ingest import MOB, REGISTRY, ims, write_network

BAD_ROW = ("charite-berlin;2023/24;m9;outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;-4;;;"
           "M-99\n")  # participants -4: held back by the suite


def read(home: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_curated_is_the_staged_rows_that_passed_and_nothing_is_copied(home: Path) -> None:
    raw = write_network(home, MOB + BAD_ROW)
    assert ims("ingest", str(raw)).exit_code == 0
    assert read(home, "SELECT source_row FROM meta.quarantine ORDER BY 1") == [(4,)]
    assert read(home, "SELECT source_row FROM staging.mobility ORDER BY 1") == [(2,), (3,), (4,)]
    assert read(home, "SELECT source_row, mobility_ref FROM curated.mobility ORDER BY 1") == [(2, "m1"), (3, "m2")]
    assert sorted(read(home, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'curated'")) == sorted(
        (dataset,) for dataset in CONTRACTS)
    assert read(home, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'curated'") == []


def test_a_registry_file_updates_the_schools_it_lists_and_a_held_row_keeps_the_last_good_one(home: Path) -> None:
    raw = write_network(home)
    assert ims("ingest", str(raw)).exit_code == 0
    registry = raw / "schools.csv"

    def resend(text: str) -> None:  # the registry again, received one second after the last one
        before = registry.stat().st_mtime_ns
        registry.write_text(text, encoding="utf-8")
        os.utime(registry, ns=(before + 10**9, before + 10**9))
        assert ims("ingest", str(raw)).exit_code == 0

    header, charite, karolinska = REGISTRY.splitlines()
    resend(f"{header}\n{charite.replace('Charité Berlin', 'Charité – Universitätsmedizin Berlin')}\n"
           "sapienza-roma,Sapienza,IT,Rome,I  ROMA01,member,true\n")
    names = dict(read(home, "SELECT school_id, name FROM curated.schools"))
    assert names == {"charite-berlin": "Charité – Universitätsmedizin Berlin", "karolinska": "Karolinska Institutet",
                     "sapienza-roma": "Sapienza"}  # Karolinska: listed by the first file only, kept
    resend(f"{header}\ncharite-berlin,Charité renamed,ZZ,Berlin,D  BERLIN13,partner,true\n"  # ZZ: held back
           f"{karolinska.replace('Karolinska Institutet', 'Karolinska')}\n")
    assert dict(read(home, "SELECT school_id, name FROM curated.schools")) == {**names, "karolinska": "Karolinska"}
    assert read(home, "SELECT status, rows_quarantined FROM meta.submissions WHERE dataset = 'schools' "
                      "ORDER BY received_at DESC LIMIT 1") == [("accepted_with_quarantine", 1)]


def test_a_warehouse_with_curated_tables_gets_the_views_with_the_same_rows(home: Path) -> None:
    raw = write_network(home, MOB + BAD_ROW)
    assert ims("ingest", str(raw)).exit_code == 0
    rows = read(home, "SELECT * FROM curated.mobility ORDER BY source_row")
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"))
    try:  # as warehouses before the views held it: a table of the rows promoted; and a view from older SQL
        con.execute("DROP VIEW curated.mobility")
        con.execute("CREATE TABLE curated.mobility AS SELECT * FROM staging.mobility WHERE source_row <> 4")
        con.execute("COMMENT ON VIEW curated.staffing IS 'made from older SQL'")
    finally:
        con.close()
    with open_warehouse() as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'curated'").fetchall() == [(0,)]
        comments = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'curated'")
                        .fetchall())
        assert comments["staffing"] != "made from older SQL" and len(comments["staffing"]) == 16  # its SQL's digest
        assert con.execute("SELECT * FROM curated.mobility ORDER BY source_row").fetchall() == rows
