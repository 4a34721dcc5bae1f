"""Peer sets: the YAML file, its validation, and who belongs to which peer group."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators import warehouse
from ims_indicators.benchmark import PeerSetError, PeerSets, load_peer_sets, unknown_list_members

PEERS = {
    "regions": {"western_europe": {"name": "Western Europe", "countries": ["DE", "FR"]},
                "oceania": {"name": "Oceania", "countries": ["AU", "NZ"]}},
    "size_classes": [{"id": "small", "name": "small", "max": 3000},
                     {"id": "medium", "name": "medium", "min": 3000, "max": 8000},
                     {"id": "large", "name": "large", "min": 8000}],
    "peer_sets": [{"id": "network", "kind": "network", "name": "all"},
                  {"id": "country", "kind": "country", "name": "country"},
                  {"id": "region", "kind": "region", "name": "region"},
                  {"id": "size", "kind": "size_class", "name": "size"},
                  {"id": "founders", "kind": "list", "name": "founders", "schools": ["de1", "au1", "ghost"]}],
}


def write(tmp_path, text: str):
    p = tmp_path / "peer_sets.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_shipped_peer_sets_load():
    peers = load_peer_sets(Path(__file__).resolve().parents[2] / "catalogue" / "peer_sets.yaml")
    assert {p.kind for p in peers.peer_sets} == {"network", "country", "region", "size_class", "list"}
    assert "NO" in peers.regions["northern_europe"].countries
    assert set(peers.regions) >= {"western_europe", "northern_europe", "southern_europe", "central_eastern_europe",
                                  "oceania"}


def test_membership(bench):
    con = bench.con
    bench.add_schools(["de1", "de2"], "DE")
    bench.add_schools(["fr1"], "FR")
    bench.add_schools(["au1"], "AU")
    bench.add_schools(["us1"], "US")
    for school, students in (("de1", 2999), ("de2", 3000), ("fr1", 8000), ("au1", 120)):  # us1: no enrolment
        con.execute("INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, "
                    "file_name, sha256, received_at, status) VALUES (?, 'enrolment', ?, '2023/24', 'school', "
                    "'e.csv', 'x', now(), 'accepted')", [f"e-{school}", school])
        con.execute("INSERT INTO staging.enrolment (submission_id, source_row, school_id, academic_year, "
                    "programme_level, students_total, students_international, graduates) "
                    "VALUES (?, 2, ?, '2023/24', 'long_cycle', ?, 0, 0)", [f"e-{school}", school, students])
    bench.add_values("hi", "2023/24", {s: 1.0 for s in ("de1", "de2", "fr1", "au1", "us1")})
    bench.compute(PeerSets.model_validate(PEERS))
    members = {}
    for r in warehouse.rows(con, "SELECT peer_set, school_id FROM marts.peer_set_members ORDER BY 1, 2"):
        members.setdefault(r["peer_set"], []).append(r["school_id"])
    assert members == {
        "network": ["au1", "de1", "de2", "fr1", "us1"],
        "country:AU": ["au1"], "country:DE": ["de1", "de2"], "country:FR": ["fr1"], "country:US": ["us1"],
        "region:oceania": ["au1"], "region:western_europe": ["de1", "de2", "fr1"],  # US is in no region
        "size:small": ["au1", "de1"], "size:medium": ["de2"], "size:large": ["fr1"],  # min inclusive, max exclusive
        "founders": ["au1", "de1"],
    }
    assert unknown_list_members(con, PeerSets.model_validate(PEERS)) == {"founders": ["ghost"]}
    # every member gets a benchmark row per indicator value
    n = con.execute("SELECT count(*) FROM marts.benchmark_groups").fetchall()[0][0]
    assert n == sum(len(v) for v in members.values())


@pytest.mark.parametrize("text, message", [
    ("peer_sets:\n  - {id: mine, kind: list, name: Mine}\n",
     "peer set mine: schools: a list peer set needs at least one school id"),
    ("peer_sets:\n  - {id: n, kind: network, name: N, schools: [a]}\n", "only a list peer set names schools"),
    ("peer_sets:\n  - {id: n, kind: galaxy, name: N}\n", "peer set n: kind: Input should be"),
    ("peer_sets:\n  - {id: n, name: N}\n", "peer set n: kind: missing (required)"),
    ("peer_sets:\n  - {id: n, kind: network, name: N}\n  - {id: n, kind: country, name: C}\n", "ids used twice"),
    (("regions:\n  a: {name: A, countries: [DE]}\n  b: {name: B, countries: [DE]}\n"
     "peer_sets:\n  - {id: r, kind: region, name: R}\n"), "regions.b.countries: DE is already in region a"),
    ("regions:\n  north: {name: N, countries: [SE, NO]}\npeer_sets:\n  - {id: r, kind: region, name: R}\n",
     "got False (quote it: YAML reads NO, YES, ON, OFF as booleans)"),
    (("size_classes:\n  - {id: s, name: S, max: 3000}\n  - {id: m, name: M, min: 2000}\n"
     "peer_sets:\n  - {id: z, kind: size_class, name: Z}\n"), "size_classes: s and m overlap"),
    ("peer_sets:\n  - {id: r, kind: region, name: R}\n", "a region peer set needs regions"),
])
def test_invalid_peer_sets(tmp_path, text, message):
    with pytest.raises(PeerSetError) as exc:
        load_peer_sets(write(tmp_path, text))
    assert message in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(PeerSetError, match="peer-set file not found"):
        load_peer_sets(tmp_path / "nope.yaml")
