"""The DuckDB warehouse: connecting, creating the schemas, and table DDL from the contracts."""

from __future__ import annotations

import hashlib
import time
import uuid
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Iterator

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import CONTRACTS, contract, ddl_columns
from ims_indicators.errors import WarehouseBusy


def sql_text(package: str, name: str) -> str:
    """Read a .sql file that sits beside the stage that runs it."""
    return files(package).joinpath(name).read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB (identifiers only ever come from our own constants)."""
    return '"' + name.replace('"', '""') + '"'


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas, meta tables, one staging table and one curated view of it per contract (idempotent)."""
    con.execute(sql_text("ims_indicators.sql", "meta.sql"))
    for dataset in CONTRACTS:
        cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in ddl_columns(dataset))
        con.execute(f"CREATE TABLE IF NOT EXISTS staging.{dataset} ({cols})")
    _ensure_curated_views(con)


def _ensure_curated_views(con: duckdb.DuckDBPyConnection) -> None:
    """curated.<dataset> as the view of its staged rows that passed (sql/curated.sql, the registry's
    sql/curated_registry.sql). A view is (re)made only when missing or made from other SQL (its comment holds a
    digest of the SQL): a connection never rewrites the catalogue for nothing. A curated *table* (warehouses from
    before the views) is dropped: its rows were those the view shows."""
    found = {name: (kind, comment) for name, kind, comment in con.execute(
        """SELECT view_name, 'view', comment FROM duckdb_views() WHERE schema_name = 'curated'
           UNION ALL SELECT table_name, 'table', NULL FROM duckdb_tables() WHERE schema_name = 'curated'""").fetchall()}
    for dataset in CONTRACTS:
        view, digest = _curated_view(dataset)
        kind, comment = found.get(dataset, (None, None))
        if (kind, comment) == ("view", digest):
            continue
        if kind == "table":
            con.execute(f"DROP TABLE curated.{dataset}")
        con.execute(view)
        con.execute(f"COMMENT ON VIEW curated.{dataset} IS '{digest}'")


@cache
def _curated_view(dataset: str) -> tuple[str, str]:
    """The SQL of ``dataset``'s curated view and its digest (read once per process, not at every connection)."""
    view = sql_text("ims_indicators.sql", "curated.sql" if contract(dataset).per_year else "curated_registry.sql")
    view = view.replace("{dataset}", dataset)
    return view, hashlib.sha256(view.encode("utf-8")).hexdigest()[:16]


def connect(path: Path | None = None, *, read_only: bool = False, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (created on first use). Waits up to ``wait`` s if another process holds it."""
    path = Path(path or settings.warehouse())
    memory_limit = settings.duckdb_memory_limit()  # a malformed setting fails before anything is opened
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise WarehouseBusy(f"{path}: the warehouse is in use by another process ({exc})") from exc
            time.sleep(0.5)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if not read_only:
        ensure_schema(con)
    return con


@contextmanager
def open_warehouse(path: Path | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back on any error (a DuckDB transaction stays aborted until rolled back)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


BOUND_VALUES = 20_000  # up to this many values an insert binds them as lists (~10 ms), beyond uses a DataFrame


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], data: list[list], *,
                dtypes: dict[str, str] | None = None, select: str | None = None) -> None:
    """Insert many Python rows at once (DuckDB's executemany is slow); ``dtypes`` casts columns (DuckDB type
    names), ``select`` is the SELECT list over the rows (default: the columns as they are).

    A few rows (a validation run's records) are bound as one list per column: importing pandas for them cost
    0.6 s, more than a large ingest's validation. Many rows (a hostile file's quarantine) go through a registered
    DataFrame, which converts them twice as fast as bound lists (100 000 quarantine rows: 0.24 s against 0.50 s)."""
    if not data:
        return
    cast = dtypes or {}
    source = ", ".join(f"CAST({c} AS {cast[c]}) AS {c}" if c in cast else c for c in columns)
    insert = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select or ', '.join(columns)} FROM (SELECT {source} "
    if len(data) * len(columns) <= BOUND_VALUES:
        lists = ", ".join(f"unnest($c{i}) AS {c}" for i, c in enumerate(columns))
        con.execute(insert + f"FROM (SELECT {lists}))", {f"c{i}": list(v) for i, v in enumerate(zip(*data))})
        return
    import pandas as pd

    name = f"_insert_{uuid.uuid4().hex[:8]}"
    con.register(name, pd.DataFrame(data, columns=columns, dtype=object))
    try:
        con.execute(insert + f"FROM {name})")
    finally:
        con.unregister(name)


def rows(con: duckdb.DuckDBPyConnection, query: str, params: list | dict | None = None) -> list[dict]:
    """Run a query and return its rows as dicts (fully fetched, so the connection is free again)."""
    cur = con.execute(query, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Does ``schema.table`` exist (a table or a view)?"""
    schema, name = qualified.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, name]).fetchall()[0][0])
