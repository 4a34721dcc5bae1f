"""The scan of an open-data file: a narrow and a wide read lined up row by row (erasmus/sql/index.sql, scan.sql,
align.sql), checked against the straightforward read that numbers its rows (lines.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ims_indicators.erasmus import load
from ims_indicators.erasmus.layouts import CURRENT, detect_layout
from ims_indicators.warehouse import rows

from .conftest import row


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
    other = dict(Sending_Organisation_Erasmus_Code="F  PARIS999", Receiving_Organisation_Erasmus_Code="E  MADRID03")
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
    kept = rows(con, "SELECT * FROM _erasmus_rows ORDER BY source_row")
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
    assert [r[0] for r in con.execute("SELECT project_reference FROM _erasmus_wide ORDER BY rowid").fetchall()] == [
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
    temp = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    assert not temp & {"_erasmus_wide", "_erasmus_rows", "_erasmus_lines"}  # the wide read never ran
    assert load.scan(con, path, detect_layout(path), proceed=lambda: True)["registry"] == 4
