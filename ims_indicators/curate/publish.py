"""Curated tables → Parquet under data/curated/<dataset>/academic_year=<yyyy-yy>/ (atomic per partition)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import contract, year_slug

PART_FILE = "data_0.parquet"


def publish_partition(con: duckdb.DuckDBPyConnection, dataset: str, academic_year: str | None,
                      root: Path | None = None) -> Path:
    """Write one year of one curated dataset to a temporary folder, then swap it in with renames.

    A reader (or a crash) sees the old partition or the new one, never half of one.
    """
    root = Path(root or settings.curated_dir()) / dataset
    root.mkdir(parents=True, exist_ok=True)
    if contract(dataset).per_year:
        target = root / f"academic_year={year_slug(academic_year)}"
        query, params = f"SELECT * EXCLUDE (academic_year) FROM curated.{dataset} WHERE academic_year = ? " \
                        "ORDER BY school_id, submission_id, source_row", [academic_year]
    else:
        target = root / "all"
        query, params = f"SELECT * FROM curated.{dataset} ORDER BY school_id", []
    tmp = root / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    con.execute(f"COPY ({query}) TO ? (FORMAT parquet)", [*params, str(tmp / PART_FILE)])
    old = None
    if target.exists():
        old = root / f".{target.name}.{uuid.uuid4().hex}.old"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def read_partitions(con: duckdb.DuckDBPyConnection, dataset: str, root: Path | None = None) -> duckdb.DuckDBPyRelation:
    """The published Parquet of a dataset as a relation, with academic_year back in its canonical form."""
    root = Path(root or settings.curated_dir()) / dataset
    if not contract(dataset).per_year:
        return con.sql("SELECT * FROM read_parquet(?)", params=[str(root / "all" / "*.parquet")])
    return con.sql("SELECT * REPLACE (replace(academic_year, '-', '/') AS academic_year) FROM read_parquet(?, "
                   "hive_partitioning=true, hive_types={'academic_year': VARCHAR})",
                   params=[str(root / "academic_year=*" / "*.parquet")])


def clean_stale(root: Path | None = None) -> None:
    """Remove leftovers of an interrupted publish (.tmp/.old folders)."""
    root = Path(root or settings.curated_dir())
    if root.exists():
        for leftover in list(root.glob("*/.*.tmp")) + list(root.glob("*/.*.old")):
            shutil.rmtree(leftover, ignore_errors=True)
