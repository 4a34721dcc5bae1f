"""A small fixture network, built with INSERTs into a fresh warehouse, with hand-computable values.

alpha (DE), 2023/24 — every dataset; the expected value of each indicator is written in the tests.
beta (FR), 2023/24 — tiny: enrolment and mobility only (minimum-base and zero cases).
gamma (IT) — registry only (no data at all).
Plus an Erasmus open-data mobility row for alpha that school-sourced indicators must ignore.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest

from ims_indicators import warehouse
from ims_indicators.contracts import ddl_columns
from ims_indicators.indicators import load_catalogue
from tests.curated import accept_staged

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "catalogue" / "indicators.yaml"
PEER_SETS = ROOT / "catalogue" / "peer_sets.yaml"
Y = "2023/24"


class Builder:
    """INSERT helpers: registry rows, submissions and their rows with lineage (staged: curated is the view of them)."""

    def __init__(self, con):
        self.con = con
        self._ids = itertools.count(1)

    def school(self, school_id: str, country: str, name: str | None = None, consent: bool = True) -> None:
        self.con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, "
                         "network_role, consent_to_be_named) VALUES ('registry', 1, ?, ?, ?, 'partner', ?)",
                         [school_id, name or school_id.title(), country, consent])
        accept_staged(self.con, "schools")

    def submission(self, dataset: str, school: str, year: str, *, status: str = "accepted",
                   received: str = "2024-10-01 12:00:00", rows_in: int | None = None, rows_quarantined: int = 0,
                   source: str = "school") -> str:
        sid = f"s{next(self._ids):03d}"
        self.con.execute(
            "INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, file_name, "
            "sha256, received_at, status, rows_in, rows_quarantined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, dataset, school, year, source, f"{dataset}.csv", sid * 8, datetime.fromisoformat(received),
             status, rows_in, rows_quarantined])
        return sid

    def rows(self, dataset: str, sid: str, school: str, year: str, records: list[dict]) -> None:
        cols = [c for c, _ in ddl_columns(dataset)]
        for i, rec in enumerate(records, start=2):
            full = {"submission_id": sid, "source_row": i, "school_id": school, "academic_year": year, **rec}
            unknown = set(full) - set(cols)
            assert not unknown, unknown
            self.con.execute(f"INSERT INTO staging.{dataset} ({', '.join(full)}) VALUES "
                             f"({', '.join('?' * len(full))})", list(full.values()))

    def dataset(self, dataset: str, school: str, year: str, records: list[dict], **submission) -> str:
        sid = self.submission(dataset, school, year, rows_in=submission.pop("rows_in", len(records)), **submission)
        self.rows(dataset, sid, school, year, records)
        return sid


def mob(direction, ptype, activity, programme, country, start, end, n=1, earned=None, recognised=None):
    return {"direction": direction, "participant_type": ptype, "activity": activity, "programme": programme,
            "partner_country": country, "start_date": start, "end_date": end, "participants": n,
            "ects_earned": earned, "ects_recognised": recognised}


def build_network(con) -> Builder:
    b = Builder(con)
    for sid, country in (("alpha", "DE"), ("beta", "FR"), ("gamma", "IT")):
        b.school(sid, country)
    # alpha --------------------------------------------------------------------------------------------
    b.dataset("enrolment", "alpha", Y, [
        {"programme_level": "long_cycle", "students_total": 1000, "students_international": 150, "graduates": 150,
         "ects_total": 3600, "ects_taught_in_english": 900},
        {"programme_level": "master", "students_total": 200, "students_international": 50, "graduates": 50,
         "ects_total": 400, "ects_taught_in_english": 100},
    ], received="2024-10-15 09:00:00")
    b.dataset("mobility", "alpha", Y, [
        mob("outgoing", "student", "study", "erasmus_plus", "ES", "2023-09-01", "2024-01-31", 10, 300, 270),
        mob("outgoing", "student", "clinical_placement", "bilateral", "US", "2024-03-01", "2024-03-30", 5, 50, 50),
        mob("outgoing", "student", "traineeship", "free_mover", "ES", "2024-06-01", "2024-07-30", 5),
        mob("incoming", "student", "study", "erasmus_plus", "FR", "2023-09-01", "2023-12-29", 12),
        mob("incoming", "student", "study", "free_mover", "IT", "2023-09-01", "2023-12-29", 3),
        mob("outgoing", "staff", "teaching", "erasmus_plus", "ES", "2024-05-06", "2024-05-10", 4),
        mob("incoming", "staff", "teaching", "network", "SE", "2024-05-06", "2024-05-10", 2),
    ], status="accepted_with_quarantine", rows_in=8, rows_quarantined=1, received="2024-11-05 10:00:00")
    b.submission("staffing", "alpha", Y, status="rejected", rows_in=2, rows_quarantined=2,
                 received="2024-10-01 08:00:00")
    b.dataset("staffing", "alpha", Y, [
        {"staff_category": "professor", "headcount": 40, "fte": 35.0, "foreign_nationality": 8,
         "international_experience": 20, "intl_training_completed": 10, "teaching_in_english": 30},
        {"staff_category": "lecturer", "headcount": 60, "fte": 45.0, "foreign_nationality": 6,
         "international_experience": None, "intl_training_completed": 5, "teaching_in_english": None},
    ], received="2024-10-20 09:00:00")
    b.dataset("accreditation", "alpha", Y, [
        {"programme_name": "Medicine", "scope": "programme", "agency_name": "ZEvA", "agency_country": "DE",
         "agency_wfme_recognised": False, "decision": "accredited", "decision_date": "2020-05-01",
         "valid_until": "2027-05-01", "open_conditions": 0},
        {"programme_name": "Medicine", "scope": "programme", "agency_name": "AAQ", "agency_country": "CH",
         "agency_wfme_recognised": True, "decision": "accredited_with_conditions", "decision_date": "2022-01-10",
         "valid_until": "2029-01-10", "open_conditions": 2},
        {"programme_name": "Dentistry", "scope": "programme", "agency_name": "ZEvA", "agency_country": "DE",
         "agency_wfme_recognised": False, "decision": "accredited", "decision_date": "2015-01-01",
         "valid_until": "2022-01-01", "open_conditions": 1},
    ], received="2024-10-31 23:00:00")
    # open data rows for alpha: must not count where the school's own submissions are used
    b.dataset("mobility", "alpha", Y, [
        mob("outgoing", "student", "study", "erasmus_plus", "PL", "2023-09-01", "2024-06-30", 100),
    ], source="erasmus_open_data", received="2024-12-01 00:00:00")
    # beta --------------------------------------------------------------------------------------------
    b.dataset("enrolment", "beta", Y, [
        {"programme_level": "long_cycle", "students_total": 80, "students_international": 8, "graduates": 25},
    ], received="2024-09-30 09:00:00")
    b.dataset("mobility", "beta", Y, [
        mob("incoming", "student", "study", "erasmus_plus", "DE", "2023-09-01", "2023-12-29", 3),
    ], received="2024-10-30 09:00:00")
    return b


@pytest.fixture
def con(tmp_path, monkeypatch):
    monkeypatch.delenv("IMS_REPORTING_DATE", raising=False)
    c = warehouse.connect(tmp_path / "w.duckdb")
    yield c
    c.close()


@pytest.fixture
def built(con) -> Builder:
    """The fixture network; the builder adds more rows."""
    return build_network(con)


@pytest.fixture
def network(built):
    return built.con


def add_peers(b: Builder, n: int = 4) -> None:
    """n more German schools with enrolment, staffing and mobility, so that peer sets reach 5 values."""
    for i in range(n):
        sid = f"peer{i + 1}"
        b.school(sid, "DE", consent=i % 2 == 0)
        b.dataset("enrolment", sid, Y, [{"programme_level": "long_cycle", "students_total": 1500 + 500 * i,
                                         "students_international": 100 + 40 * i, "graduates": 200 + 10 * i}])
        b.dataset("staffing", sid, Y, [{"staff_category": "professor", "headcount": 50 + 10 * i, "fte": 45.0,
                                        "foreign_nationality": 5 + 3 * i, "international_experience": 20,
                                        "intl_training_completed": 5 * i, "teaching_in_english": 10 + i}])
        b.dataset("mobility", sid, Y, [
            mob("outgoing", "student", "study", "erasmus_plus", "ES", "2023-09-01", "2024-01-31", 10 + 5 * i),
            mob("incoming", "student", "study", "erasmus_plus", "IT", "2023-09-01", "2024-01-31", 8 + i),
        ])


@pytest.fixture
def network_file(tmp_path, monkeypatch) -> Path:
    """The fixture network plus four peers in a closed warehouse file that IMS_WAREHOUSE points at."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("IMS_WAREHOUSE", str(path))
    monkeypatch.delenv("IMS_REPORTING_DATE", raising=False)
    c = warehouse.connect(path)
    add_peers(build_network(c))
    c.close()
    return path


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def computed(tmp_path_factory, catalogue):
    """The fixture network with indicators computed once per module (treat as read-only)."""
    from ims_indicators.indicators import compute_indicators

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("IMS_REPORTING_DATE", raising=False)
        c = warehouse.connect(tmp_path_factory.mktemp("computed") / "w.duckdb")
        build_network(c)
        compute_indicators(c, catalogue)
    yield c
    c.close()
