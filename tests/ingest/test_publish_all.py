"""curate.publish.write_all: partitions written at once, each on its own cursor, equal to what the table holds,
returned in the order asked; a failing write is raised, not lost."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from ims_indicators.curate.publish import write_all, write_partition

YEARS = ["2019-20", "2020-21", "2021-22", "2022-23"]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET threads = 2")
    con.execute("CREATE SCHEMA curated")
    con.execute("CREATE TABLE curated.t AS SELECT ['2019-20', '2020-21', '2021-22', '2022-23'][1 + i % 4] AS y, "
                "i FROM range(40000) r(i)")
    return con


def writer(root: Path, year: str, before=None):
    def write(c: duckdb.DuckDBPyConnection) -> Path:
        if before:
            before(c)
        return write_partition(c, "t", f"y={year}", "SELECT i FROM curated.t WHERE y = ?", [year], root)
    return write


def test_partitions_are_written_at_once_and_equal_the_table(con, tmp_path: Path) -> None:
    root = tmp_path / "out"
    both = threading.Barrier(2, timeout=30)  # one write at a time would wait here in vain and fail
    cursors = []

    def meet(c: duckdb.DuckDBPyConnection) -> None:
        cursors.append(c)
        both.wait()

    paths = write_all(con, [writer(root, y, meet if i < 2 else None) for i, y in enumerate(YEARS)])
    assert paths == [root / "t" / f"y={y}" for y in YEARS]
    assert all(c is not con for c in cursors) and cursors[0] is not cursors[1]
    for y, path in zip(YEARS, paths):
        got = con.execute("SELECT count(*), sum(i) FROM read_parquet(?)", [str(path / "*.parquet")]).fetchall()
        assert got == con.execute("SELECT count(*), sum(i) FROM curated.t WHERE y = ?", [y]).fetchall()
    assert not list((root / ".publishing").iterdir())  # nothing half-swapped left behind


def test_one_thread_writes_one_after_the_other_on_the_connection(con, tmp_path: Path) -> None:
    con.execute("SET threads = 1")
    used = []
    paths = write_all(con, [writer(tmp_path / "out", y, used.append) for y in YEARS])
    assert paths == [tmp_path / "out" / "t" / f"y={y}" for y in YEARS] and all(c is con for c in used)


def test_a_failing_write_is_raised(con, tmp_path: Path) -> None:
    def fail(c: duckdb.DuckDBPyConnection) -> Path:
        c.execute("SELECT * FROM curated.missing")
        return tmp_path

    with pytest.raises(duckdb.CatalogException, match="missing"):
        write_all(con, [writer(tmp_path / "out", YEARS[0]), fail])
