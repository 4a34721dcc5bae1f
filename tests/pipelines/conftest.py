"""Prefect flow tests: one temporary Prefect server for the whole session, a tiny fixture network per test."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Prefect reads its settings from the environment: set them before it is first imported.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="ims-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

SCHOOLS = ("charite-berlin", "karolinska")
YEARS = ("2022-23", "2023-24")

REGISTRY = ("school_id,name,country_code,city,erasmus_code,network_role,consent_to_be_named\n"
            "charite-berlin,Charité Berlin,DE,Berlin,D  BERLIN13,partner,true\n"
            "karolinska,Karolinska Institutet,SE,Stockholm,S  STOCKHO03,partner,true\n")


def _enrolment(school: str, year: str, k: int) -> str:
    return ("school_id,academic_year,programme_level,students_total,students_international,first_year_intake,"
            "graduates,ects_total,ects_taught_in_english\n"
            f"{school},{year},long_cycle,{3000 + 100 * k},{300 + 20 * k},{500 + k},{400 + 10 * k},180000,"
            f"{20000 + 1000 * k}\n"
            f"{school},{year},master,{400 + 10 * k},{80 + 5 * k},{150},{120},24000,{12000 + 500 * k}\n")


def _mobility(school: str, year: str, k: int) -> str:
    y0 = int(year[:4])
    partners = ("AT", "FR", "IT", "PL", "SE", "DE")
    lines = [("school_id,academic_year,mobility_ref,direction,participant_type,activity,programme,programme_level,"
              "partner_country,start_date,end_date,participants,ects_earned,ects_recognised,person_ref")]
    for i in range(6 + k):
        country = partners[(i + k) % len(partners)]
        lines.append(f"{school},{year},o{i},outgoing,student,study,erasmus_plus,long_cycle,{country},"
                     f"{y0}-10-01,{y0 + 1}-02-28,{1 + i % 3},30,{30 - (i % 2) * 5},P-{school}-{i}")
    for i in range(4 + k):
        lines.append(f"{school},{year},i{i},incoming,student,clinical_placement,bilateral,long_cycle,"
                     f"{partners[i % len(partners)]},{y0}-11-01,{y0}-12-15,{1 + i % 2},,,Q-{school}-{i}")
    lines.append(f"{school},{year},s1,outgoing,staff,teaching,erasmus_plus,,FR,{y0 + 1}-03-01,{y0 + 1}-03-05,"
                 f"{2 + k},,,S-{school}-1")
    return "\n".join(lines) + "\n"


def _staffing(school: str, year: str, k: int) -> str:
    rows = [("professor", 120, 110.5, 15, 60, 20, 30), ("lecturer", 300, 250.0, 30, 90, 40, 60),
            ("clinical_teacher", 500, 320.0, 25, 100, 50, 40)]
    return ("school_id,academic_year,staff_category,headcount,fte,foreign_nationality,international_experience,"
            "intl_training_completed,teaching_in_english\n"
            + "".join(f"{school},{year},{c},{h + k},{f},{fo + k},{ie},{tr},{te}\n" for c, h, f, fo, ie, tr, te in rows))


def _accreditation(school: str, year: str, k: int) -> str:
    y0 = int(year[:4])
    return ("school_id,academic_year,programme_name,scope,agency_name,agency_country,agency_wfme_recognised,"
            "decision,decision_date,valid_until,open_conditions\n"
            f"{school},{year},Medicine,institutional,National Agency,{'DE' if k == 0 else 'SE'},true,accredited,"
            f"{y0 - 2}-06-30,{y0 + 5}-06-30,{k}\n")


WRITERS = {"enrolment": _enrolment, "mobility": _mobility, "staffing": _staffing, "accreditation": _accreditation}


def write_fixture_network(raw: Path, years: tuple[str, ...] = YEARS) -> list[Path]:
    """A registry and one file per dataset for two schools and the given years, in the data/raw layout."""
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "schools.csv").write_text(REGISTRY, encoding="utf-8")
    written = [raw / "schools.csv"]
    for k, school in enumerate(SCHOOLS):
        for j, year in enumerate(years):
            canonical = year.replace("-", "/")
            for dataset, write in WRITERS.items():
                folder = raw / dataset / school / year
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{dataset}.csv"
                path.write_text(write(school, canonical, k + j), encoding="utf-8")
                written.append(path)
    return written


@pytest.fixture(scope="session", autouse=True)
def prefect_backend():
    """One temporary Prefect server (own SQLite DB) for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def network(home: Path) -> Path:
    """IMS_HOME (from the shared ``home`` fixture) holding the fixture network under data/raw."""
    write_fixture_network(home / "data" / "raw")
    return home


@pytest.fixture
def fixture_network():
    """The fixture-network writer and the registry text, for tests that lay files out themselves."""
    return write_fixture_network, REGISTRY
