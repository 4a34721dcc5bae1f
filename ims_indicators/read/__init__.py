"""Readers: any common CSV dialect or an XLSX, mapped and typed to a dataset contract."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ims_indicators.contracts import contract
from ims_indicators.read.raw import RawTable, load_raw
from ims_indicators.read.repair import describe
from ims_indicators.read.typed import discard, type_rows


def read_submission(con: duckdb.DuckDBPyConnection, path: Path, dataset: str, *, school_id: str | None = None,
                    academic_year: str | None = None) -> tuple[str, int, list[dict], str | None]:
    """Read one file as ``dataset``: (temp view of the typed rows, data rows received, read-stage failures,
    repairs made such as "mojibake repaired in 3 cells" or None). Drop the view with :func:`discard` once read.

    Raises :class:`~ims_indicators.errors.InputRefused` when the file cannot be read as the dataset.
    """
    spec = contract(dataset)
    implied = {k for k, v in (("school_id", school_id), ("academic_year", academic_year)) if v}
    raw: RawTable = load_raw(con, path, spec, implied)
    try:
        typed, failures = type_rows(con, raw, spec, file=path.name, school_id=school_id, academic_year=academic_year)
    except BaseException:
        discard(con, f"{raw.name}_typed")
        raise
    rows_in = con.execute(f"SELECT count(*) FROM {raw.name}").fetchall()[0][0] + len(raw.unreadable)
    if rows_in == 0:
        discard(con, typed)
        from ims_indicators.errors import InputRefused

        raise InputRefused(path.name, "the file has a header but no data rows; expected at least one row", row=2)
    return typed, rows_in, raw.unreadable + failures, describe(raw.repaired)


__all__ = ["discard", "read_submission"]
