"""Peer groups, CHE-style top/middle/bottom and U-Multirank-style A–E groups, peer statistics and trends.

Reads ``marts.indicator_values`` and ``marts.indicator_catalogue`` (written by ``compute_indicators``), the
peer sets (``catalogue/peer_sets.yaml``) and the benchmark parameters of the catalogue; writes
``marts.peer_set_members`` and ``marts.benchmark_groups``. The rules are documented in ``sql/groups.sql``
and in the catalogue's ``benchmark:`` section.
"""

from __future__ import annotations

import duckdb

from ims_indicators.benchmark.peers import PeerSets, load_peer_sets
from ims_indicators.indicators.catalogue import Catalogue, load_catalogue
from ims_indicators.indicators.marts import ensure_marts
from ims_indicators.warehouse import rows, sql_text, transaction

PKG = "ims_indicators.benchmark.sql"

_CONFIG_DDL = """
CREATE OR REPLACE TEMP TABLE bm_peer_sets (set_id VARCHAR, kind VARCHAR, name VARCHAR);
CREATE OR REPLACE TEMP TABLE bm_regions (region VARCHAR, country_code VARCHAR);
CREATE OR REPLACE TEMP TABLE bm_size_classes (class_id VARCHAR, min_students BIGINT, max_students BIGINT);
CREATE OR REPLACE TEMP TABLE bm_lists (set_id VARCHAR, school_id VARCHAR);
"""


def ensure_benchmark_marts(con: duckdb.DuckDBPyConnection) -> None:
    ensure_marts(con)
    con.execute(sql_text(PKG, "schema.sql"))


def _load_config(con: duckdb.DuckDBPyConnection, peers: PeerSets) -> None:
    """The peer-set definitions as small temporary tables the membership SQL joins."""
    con.execute(_CONFIG_DDL)
    con.executemany("INSERT INTO temp.bm_peer_sets VALUES (?, ?, ?)", [[p.id, p.kind, p.name] for p in peers.peer_sets])
    regions = [[rid, c] for rid, r in peers.regions.items() for c in r.countries]
    if regions:
        con.executemany("INSERT INTO temp.bm_regions VALUES (?, ?)", regions)
    if peers.size_classes:
        con.executemany("INSERT INTO temp.bm_size_classes VALUES (?, ?, ?)",
                        [[s.id, s.min, s.max] for s in peers.size_classes])
    listed = [[p.id, s] for p in peers.peer_sets if p.kind == "list" for s in p.schools]
    if listed:
        con.executemany("INSERT INTO temp.bm_lists VALUES (?, ?)", listed)


def unknown_list_members(con: duckdb.DuckDBPyConnection, peers: PeerSets | None = None) -> dict[str, list[str]]:
    """School ids named by list peer sets that the registry does not know (they are ignored)."""
    peers = peers or load_peer_sets()
    known = {r["school_id"] for r in rows(con, "SELECT school_id FROM curated.schools")}
    out = {p.id: [s for s in p.schools if s not in known] for p in peers.peer_sets if p.kind == "list"}
    return {k: v for k, v in out.items() if v}


def compute_benchmarks(con: duckdb.DuckDBPyConnection, peer_sets: PeerSets | None = None,
                       catalogue: Catalogue | None = None) -> int:
    """Recompute peer membership and ``marts.benchmark_groups`` in one transaction; rows written."""
    peers = peer_sets or load_peer_sets()
    bench = (catalogue or load_catalogue()).benchmark
    ensure_benchmark_marts(con)
    params = {"min_peer": bench.min_peer_values, "che_top": bench.che_top_share,
              "che_bottom": bench.che_bottom_share, "tol": bench.boundary_tolerance,
              "share_min": bench.group_share_min, "share_max": bench.group_share_max,
              "min_distinct": bench.min_distinct_values, "ume_min_peer": bench.ume_min_peer_values, "ume_a": bench.ume_cutoffs.A, "ume_b": bench.ume_cutoffs.B,
              "ume_c": bench.ume_cutoffs.C, "ume_d": bench.ume_cutoffs.D}
    with transaction(con):
        _load_config(con, peers)
        con.execute("DELETE FROM marts.peer_set_members")
        con.execute(sql_text(PKG, "members.sql"))
        con.execute("DELETE FROM marts.benchmark_groups")
        con.execute(sql_text(PKG, "groups.sql"), params)
        for t in ("bm_peer_sets", "bm_regions", "bm_size_classes", "bm_lists"):
            con.execute(f"DROP TABLE temp.{t}")
    return con.execute("SELECT count(*) AS n FROM marts.benchmark_groups").fetchall()[0][0]
