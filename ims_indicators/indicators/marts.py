"""The indicator marts and views (``sql/schema.sql``): created before the catalogue is checked or values computed."""

from __future__ import annotations

import duckdb

from ims_indicators.warehouse import sql_text

PKG = "ims_indicators.indicators.sql"


def ensure_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Create the indicator marts and views (idempotent)."""
    con.execute(sql_text(PKG, "schema.sql"))
