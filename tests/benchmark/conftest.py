"""Benchmark fixtures: a registry and hand-chosen indicator values inserted straight into the marts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators import warehouse
from ims_indicators.benchmark import PeerSets, compute_benchmarks
from ims_indicators.benchmark.compute import ensure_benchmark_marts
from ims_indicators.indicators import load_catalogue
from tests.curated import accept_staged

ROOT = Path(__file__).resolve().parents[2]
NETWORK = PeerSets.model_validate({"peer_sets": [{"id": "network", "kind": "network", "name": "Whole network"}]})


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(ROOT / "catalogue" / "indicators.yaml")


@pytest.fixture
def con(tmp_path):
    c = warehouse.connect(tmp_path / "w.duckdb")
    ensure_benchmark_marts(c)
    rules = (("hi", "higher", "quartile", None), ("lo", "lower", "quartile", None),
             ("fx", "higher", "fixed", (0.9, 0.5)), ("fxlo", "lower", "fixed", (0.0, 2.0)), ("pol", "higher", "none", None))
    for pos, (ind, direction, rule, cut) in enumerate(rules, start=1):
        c.execute("INSERT INTO marts.indicator_catalogue (indicator_id, name, definition, dimension, unit, direction, "
                  "numerator_name, numerator_sql, denominator_name, denominator_sql, formula, scale, min_denominator, "
                  "datasets, data_source, reference, catalogue_version, position, groups, cutoff_top, cutoff_bottom, "
                  "group_note) VALUES (?, ?, 'test indicator', 'staff', 'share', ?, 'n', 'sum(n)', 'd', 'sum(d)', "
                  "'numerator / denominator', 1, 1, ['staffing'], 'school', 'test', 'test', ?, ?, ?, ?, ?)",
                  [ind, f"Indicator {ind}", direction, pos, rule, cut and cut[0], cut and cut[1],
                   None if rule == "quartile" else f"{rule} for the test"])
    yield c
    c.close()


class Bench:
    """Helpers bound to one warehouse (as the ``bench`` fixture)."""

    NETWORK = NETWORK

    def __init__(self, con, catalogue):
        self.con, self.catalogue = con, catalogue

    def add_schools(self, ids, country: str = "DE") -> None:
        add_schools(self.con, ids, country)

    def add_values(self, indicator: str, year: str, values: dict) -> None:
        add_values(self.con, indicator, year, values)

    def network(self, indicator: str, year: str, values: dict) -> dict:
        return network(self.con, indicator, year, values, self.catalogue)

    def compute(self, peers: PeerSets = NETWORK) -> int:
        return compute_benchmarks(self.con, peers, self.catalogue)

    def groups(self, indicator: str, year: str, peer_set: str = "network") -> dict:
        return groups(self.con, indicator, year, peer_set)


@pytest.fixture
def bench(con, catalogue) -> Bench:
    return Bench(con, catalogue)


def add_schools(con, ids, country: str = "DE") -> None:
    for s in ids:
        con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, "
                    "network_role, consent_to_be_named) VALUES ('registry', 1, ?, ?, ?, 'member', true)",
                    [s, s.upper(), country])
    accept_staged(con, "schools")


def add_values(con, indicator: str, year: str, values: dict) -> None:
    """school -> value; None = not computable (base too small)."""
    for school, v in values.items():
        con.execute("INSERT INTO marts.indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'school')",
                    [school, year, indicator, v, v, 1.0 if v is not None else 0.0, v is not None,
                     None if v is not None else "base too small: denominator 0 is below the minimum 1"])


def network(con, indicator: str, year: str, values: dict, catalogue, peers: PeerSets = NETWORK) -> dict:
    """Registry + values → compute → {school: benchmark row} for the 'network' peer set."""
    known = {r[0] for r in con.execute("SELECT school_id FROM curated.schools").fetchall()}
    add_schools(con, [s for s in values if s not in known])
    add_values(con, indicator, year, values)
    compute_benchmarks(con, peers, catalogue)
    return groups(con, indicator, year)


def groups(con, indicator: str, year: str, peer_set: str = "network") -> dict:
    return {r["school_id"]: r for r in warehouse.rows(
        con, "SELECT * FROM marts.benchmark_groups WHERE indicator_id = ? AND academic_year = ? AND peer_set = ?",
        [indicator, year, peer_set])}
