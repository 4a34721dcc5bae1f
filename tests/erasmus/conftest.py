"""Small open-data files written by the tests, and a registry to match them against."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ims_indicators.erasmus.layouts import CURRENT
from ims_indicators.warehouse import connect
from tests.curated import accept_staged

# school_id, name, country, city, erasmus_code (as the registry spells it)
REGISTRY = (
    ("charite-berlin", "Charité – Universitätsmedizin Berlin", "DE", "Berlin", "D  BERLIN13"),
    ("antwerp", "University of Antwerp", "BE", "Antwerp", "B  ANTWERP01"),
    ("warsaw-mu", "Medical University of Warsaw", "PL", "Warsaw", "PL WARSZAW06"),
    ("monash", "Monash University", "AU", "Melbourne", None),
)

DEFAULT = {
    "Project Reference": "2019-1-DE01-KA103-005235",
    "Academic Year": "2019-2020",
    "Mobility Start Month": "2019-10",
    "Mobility End Month": "2020-02",
    "Mobility Duration": "150",
    "Activity (mob)": "Student mobility for studies between Programme Countries",
    "Field of Education": "0912 - Medicine",
    "Participant Nationality": "DE",
    "Education Level": "ISCED-7 - Second cycle / Master’s or equivalent level (EQF-7)",
    "Participant Gender": "Female",
    "Participant Profile": "Learner",
    "Special Needs": "No",
    "Fewer Opportunities": "No",
    "GroupLeader": "No",
    "Participant Age": "23",
    "Sending Country Code": "DE",
    "Sending City": "Berlin",
    "Sending Organization": "Charité - Universitätsmedizin Berlin",
    "Sending Organisation Erasmus Code": "D  BERLIN13",
    "Receiving Country Code": "ES",
    "Receiving City": "Madrid",
    "Receiving Organization": "Universidad Complutense de Madrid",
    "Receiving Organisation Erasmus Code": "E  MADRID03",
    "Participants": "1",
}


def row(**changes: str) -> dict:
    """A published row (current layout) with some columns changed; keyword names use _ for spaces."""
    out = dict(DEFAULT)
    for k, v in changes.items():
        name = next((h for h in CURRENT if h.replace(" ", "_").replace("(", "").replace(")", "").lower()
                     == k.lower()), None)
        if name is None:
            raise KeyError(k)
        out[name] = v
    return out


def write_open_data(path: Path, rows: list[dict | str], header: tuple[str, ...] = CURRENT,
                    newline: str = "\n") -> Path:
    """Write a ';'-separated open-data file; a str in ``rows`` is written as a raw line (e.g. a corrupt one)."""
    lines = [";".join(header)]
    for r in rows:
        lines.append(r if isinstance(r, str) else ";".join(r.get(h, "") for h in header))
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def registry_warehouse() -> duckdb.DuckDBPyConnection:
    """The warehouse of IMS_HOME with REGISTRY in curated.schools (as ingesting the registry would leave it)."""
    con = connect()
    con.executemany("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, city, "
                    "erasmus_code, network_role, consent_to_be_named) VALUES ('test', ?, ?, ?, ?, ?, ?, 'partner', true)",
                    [[i + 2, *r] for i, r in enumerate(REGISTRY)])
    accept_staged(con, "schools")
    return con


@pytest.fixture
def registry(home: Path):
    """A warehouse whose curated.schools holds REGISTRY."""
    con = registry_warehouse()
    yield con
    con.close()
