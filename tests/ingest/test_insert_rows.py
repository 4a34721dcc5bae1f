"""warehouse.insert_rows: a few rows are bound as lists (no pandas import), many go through a DataFrame; both
store the same values, casts and SELECT list applied."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import duckdb
import pytest

from ims_indicators import warehouse

ROWS = [
    [1, "x", dt.datetime(2024, 1, 1, 12, 30), '{"k": [1, 2]}', True, 1.5],
    [None, None, None, None, None, None],
    [3, 5, dt.datetime(2024, 1, 2), "[]", False, 2],  # an int among text: stored as its text
]
EXPECTED = [
    (1, "x", dt.datetime(2024, 1, 1, 12, 30), '{"k": [1, 2]}', True, 1.5),
    (None, None, None, None, None, None),
    (3, "5", dt.datetime(2024, 1, 2), "[]", False, 2.0),
]


@pytest.mark.parametrize("bound", [warehouse.BOUND_VALUES, 0], ids=["bound lists", "dataframe"])
def test_both_ways_store_the_same_rows(bound: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warehouse, "BOUND_VALUES", bound)
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a BIGINT, b VARCHAR, c TIMESTAMP, d JSON, e BOOLEAN, f DOUBLE)")
    warehouse.insert_rows(con, "t", list("abcdef"), ROWS, dtypes={"a": "BIGINT"}, select="a, b, c, d::JSON, e, f")
    warehouse.insert_rows(con, "t", list("abcdef"), [])  # nothing to insert: nothing happens
    assert con.execute("SELECT a, b, c, d::VARCHAR, e, f FROM t ORDER BY a NULLS LAST").fetchall() == \
        sorted(EXPECTED, key=lambda r: (r[0] is None, r[0] or 0))


def test_a_few_rows_do_not_import_pandas() -> None:
    code = ("import sys, duckdb\n"
            "from ims_indicators.warehouse import insert_rows\n"
            "con = duckdb.connect(); con.execute('CREATE TABLE t (a BIGINT, b VARCHAR)')\n"
            "insert_rows(con, 't', ['a', 'b'], [[i, str(i)] for i in range(100)])\n"
            "print(con.execute('SELECT count(*), sum(a) FROM t').fetchall(), 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[(100, 4950)] False"
