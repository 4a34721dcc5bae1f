"""Reading the warehouse for the reports, tolerantly: a table another stage has not built yet is None, a
column it has not added yet gets its default, so a page can say what has not run."""

from __future__ import annotations

import duckdb
import pandas as pd

from ims_indicators import settings
from ims_indicators.warehouse import table_exists


def read(con: duckdb.DuckDBPyConnection, qualified: str) -> pd.DataFrame | None:
    """The whole table as a DataFrame, or None if it does not exist (names come from our own constants)."""
    if not table_exists(con, qualified):
        return None
    cur = con.execute(f"SELECT * FROM {qualified}")
    names = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=names)


def with_columns(df: pd.DataFrame, cols: dict[str, object]) -> pd.DataFrame:
    for c, default in cols.items():
        if c not in df.columns:
            df[c] = default
    return df


def is_demo() -> bool:
    """The bundled synthetic demo network is loaded (its generator leaves a manifest)."""
    raw = settings.raw_dir()
    return any(p.is_file() for p in (raw / "demo_manifest.json", raw.parent / "demo_manifest.json",
                                      settings.data_dir() / "demo_manifest.json"))
