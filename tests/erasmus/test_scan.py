"""The scan of an open-data file: a narrow and a wide read lined up row by row (erasmus/sql/index.sql, scan.sql,
align.sql), checked against the straightforward read that numbers its rows (lines.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ims_indicators.erasmus import load
from ims_indicators.erasmus.layouts import CURRENT, detect_layout
from ims_indicators.warehouse import rows

from .conftest import registry_warehouse, row


def collide(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """A code that is no registry school's but has the same bit as ``code`` (spelt as in the file) in the bitmap
    of the registry's spellings."""
    return con.execute("""SELECT 'XCOLLIDE' || i FROM range(20000000) t(i)
                          WHERE hash('XCOLLIDE' || i) % getvariable('erasmus_n_bits')
                              = hash($code) % getvariable('erasmus_n_bits')
                          LIMIT 1""", {"code": code}).fetchall()[0][0]


def line(r: dict) -> bytes:
    return ";".join(r[h] for h in CURRENT).encode("utf-8")


@pytest.fixture
def messy(registry, tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A file of over 1 MB (so that its encoding is taken as UTF-8 from the first MB) with, after the filler,
    corrupt lines (two in a row), invalid UTF-8 in a field other than the codes (DuckDB finds it only when it
    reads that field), rows without codes, a row between two registry schools and a code that passes the
    registry's bitmap without being a registry school's."""
    load.prepare_registry(registry)
    fake = collide(registry, "D  BERLIN13")
    other = {"Sending_Organisation_Erasmus_Code": "F  PARIS999", "Receiving_Organisation_Erasmus_Code": "E  MADRID03"}
    filler = [line(row(**other, Project_Reference=f"F-{i}")) for i in range(4000)]  # lines 2 .. 4001
    tail = [
        line(row(Project_Reference="K-1")),                                                    # 4002 kept
        line(row(Project_Reference="C-1")) + b";EXTRA",                                       # 4003 corrupt
        b";".join(line(row(Project_Reference="C-2")).split(b";")[:20]),                        # 4004 corrupt
        line(row(Project_Reference="U-1")).replace(b"Madrid", b"Madr\xffd"),                  # 4005 bad UTF-8
        line(row(Project_Reference="K-2")),                                                    # 4006 kept
        line(row(**other, Project_Reference="U-2")).replace(b"Madrid", b"Madr\xfed"),         # 4007 bad UTF-8
        line(row(Project_Reference="N-1", Sending_Organisation_Erasmus_Code="-",
                 Receiving_Organisation_Erasmus_Code=" ")),                                    # 4008 no code
        line(row(Project_Reference="B-1", Receiving_Organisation_Erasmus_Code="B ANTWERP01")),  # 4009 both schools
        line(row(Project_Reference="X-1", Sending_Organisation_Erasmus_Code=fake)),            # 4010 bitmap only
        line(row(Project_Reference="C-3")) + b";EXTRA;MORE",                                 # 4011 corrupt
        line(row(Project_Reference="K-3", Sending_Organisation_Erasmus_Code="PL WARSZAW06")),  # 4012 kept
    ]
    path = tmp_path / "messy.csv"
    path.write_bytes(b"\n".join([";".join(CURRENT).encode(), *filler, *tail]) + b"\n")
    assert path.stat().st_size > 1 << 20 and detect_layout(path).encoding == "utf-8"
    return registry, path


def scanned(con: duckdb.DuckDBPyConnection, path: Path, numbered: bool) -> tuple[dict, list[dict]]:
    counts = load.scan(con, path, detect_layout(path), numbered=numbered)
    kept = rows(con, "SELECT * FROM erasmus_work._erasmus_rows ORDER BY source_row")
    return counts, kept


def test_the_two_reads_line_up_with_the_numbering_read(messy) -> None:
    con, path = messy
    counts, kept = scanned(con, path, numbered=False)
    assert [(k["source_row"], k["project_reference"], k["sending_school"], k["receiving_school"]) for k in kept] == [
        (4002, "K-1", "charite-berlin", None), (4006, "K-2", "charite-berlin", None),
        (4009, "B-1", "charite-berlin", "antwerp"), (4012, "K-3", "warsaw-mu", None)]
    # 4000 filler rows + K-1, K-2, N-1, B-1, X-1, K-3 = 4006 rows read; 5 corrupt lines
    assert counts == {"registry": 4, "not_registry": 4001, "no_code": 1, "corrupt": 5}
    corrupt = [r[0] for r in con.execute("SELECT DISTINCT line FROM _erasmus_rejects ORDER BY line").fetchall()]
    assert corrupt == [4003, 4004, 4005, 4007, 4011]
    assert scanned(con, path, numbered=True) == (counts, kept)


def test_a_pair_that_does_not_line_up_is_noticed(messy) -> None:
    con, path = messy
    index, wide = load._reads(detect_layout(path))
    params = load.narrow_read(con, index, path)
    assert load._lined_up(con, wide, params)
    # the wide read kept the four registry rows and X-1, whose code only shares a bit with a registry spelling
    kept = con.execute("SELECT project_reference FROM erasmus_work._erasmus_wide ORDER BY rowid").fetchall()
    assert [r[0] for r in kept] == [
        "K-1", "K-2", "B-1", "X-1", "K-3"]
    con.execute("UPDATE _erasmus_lines SET pos = 3 - pos WHERE pos IN (1, 2)")  # K-2 and B-1 swapped
    assert not load._aligned(con)
    con.execute("UPDATE _erasmus_lines SET pos = 3 - pos WHERE pos IN (1, 2)")
    assert load._aligned(con)
    con.execute("DELETE FROM _erasmus_lines WHERE pos = (SELECT max(pos) FROM _erasmus_lines)")  # one row short
    assert not load._aligned(con)



def test_a_corrupt_line_is_quarantined_saying_which_column_and_what_was_expected(messy) -> None:
    con, path = messy
    summary = load.load_erasmus(con, [path], publish=False)
    assert summary["totals"]["rows_corrupt"] == 5
    held = {q["source_row"]: q for q in rows(con, "SELECT * FROM meta.quarantine WHERE rule = 'read.csv_line'")}
    assert sorted(held) == [4003, 4004, 4005, 4007, 4011]
    assert held[4003]["column_name"] is None
    assert held[4003]["reason"] == "line 4003 could not be read: too many columns (expected 24 fields separated by ';')"
    unreadable = held[4005]  # Madr\xffd: the first field holding it is the receiving city
    assert unreadable["column_name"] == "Receiving City"
    assert unreadable["reason"] == ("line 4005 could not be read: column 'Receiving City' holds bytes that are not "
                                    "utf-8 text (expected the whole file in one encoding)")
    assert "P-" not in unreadable["row_json"] and "U-1" in unreadable["row_json"]  # the line as received


def test_the_scan_stops_after_the_narrow_read_when_the_loader_has_the_file(messy) -> None:
    # load_file asks after the narrow read whether the checksum (taken meanwhile) names a file loaded before
    con, path = messy
    asked = []
    assert load.scan(con, path, detect_layout(path), proceed=lambda: asked.append(True) or False) is None
    assert asked == [True]
    made = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary "
                                      "OR database_name = 'erasmus_work'").fetchall()}
    assert not made & {"_erasmus_wide", "_erasmus_rows", "_erasmus_lines"}  # the wide read never ran
    assert load.scan(con, path, detect_layout(path), proceed=lambda: True)["registry"] == 4


def test_kept_rows_beyond_the_estimate_are_worked_on_in_a_file_with_the_same_result(messy, tmp_path: Path,
                                                                                   monkeypatch) -> None:
    # past WORK_ON_DISK_BEYOND estimated bytes the kept and mapped rows live in a work database file (stored
    # compressed, not spilled as they are): the same rows staged and held back, and the file gone afterwards
    con, path = messy
    attached: list[str | None] = []
    attach = load.attach_work

    def watched(c: duckdb.DuckDBPyConnection, kept_bytes: int) -> None:
        attach(c, kept_bytes)
        attached.append(c.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'erasmus_work'"
                                  ).fetchall()[0][0])

    monkeypatch.setattr(load, "attach_work", watched)

    def loaded(c: duckdb.DuckDBPyConnection) -> tuple[list[dict], ...]:
        summary = load.load_erasmus(c, [path], publish=False)
        assert summary["totals"]["rows_registry"] == 4 and summary["totals"]["rows_corrupt"] == 5
        assert not c.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = 'erasmus_work'").fetchall()
        return (rows(c, "SELECT * FROM staging.mobility ORDER BY ALL"),
                rows(c, "SELECT * FROM staging.erasmus_mobility ORDER BY ALL"),
                rows(c, "SELECT * EXCLUDE (quarantined_at) FROM meta.quarantine ORDER BY ALL"))

    in_memory = loaded(con)
    assert attached == [None]
    monkeypatch.setenv("IMS_HOME", str(tmp_path / "second"))
    (tmp_path / "second" / "data" / "raw").mkdir(parents=True)
    monkeypatch.setattr(load, "WORK_ON_DISK_BEYOND", 0)
    killed = load.work_file(pid=2 ** 22 + 1)  # beyond Linux's highest pid: a load whose process is gone
    killed.parent.mkdir(parents=True)
    killed.write_bytes(b"left by a killed load")
    with registry_warehouse() as second:
        on_disk = loaded(second)
    assert attached[1:] == [str(load.work_file())] and not load.work_file().exists() and not killed.exists()
    assert on_disk == in_memory and len(in_memory[0]) == 5  # K-1, K-2, K-3 and B-1 for either school
