"""The warehouse connection carries the production DuckDB memory_limit (IMS_DUCKDB_MEMORY_LIMIT, default 768MB):
the indicator and benchmark stages hold ~1.0-1.4 GB at 500 schools under DuckDB's own default (80 % of RAM)."""

from __future__ import annotations

import pytest

from ims_indicators import warehouse


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit') AS m").fetchall()[0][0]


def test_every_connection_gets_the_default_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("IMS_DUCKDB_MEMORY_LIMIT", raising=False)
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        assert _limit(con) == "732.4 MiB"  # 768 MB as DuckDB prints it
    finally:
        con.close()
    ro = warehouse.connect(tmp_path / "w.duckdb", read_only=True)
    try:
        assert _limit(ro) == "732.4 MiB"
    finally:
        ro.close()


def test_the_limit_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IMS_DUCKDB_MEMORY_LIMIT", "2GB")
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        assert _limit(con) == "1.8 GiB"
    finally:
        con.close()


def test_a_malformed_limit_is_refused_with_the_setting_named(tmp_path, monkeypatch):
    monkeypatch.setenv("IMS_DUCKDB_MEMORY_LIMIT", "lots'; DROP TABLE x; --")
    with pytest.raises(ValueError, match="IMS_DUCKDB_MEMORY_LIMIT=.*expected a size such as 768MB"):
        warehouse.connect(tmp_path / "w.duckdb")
