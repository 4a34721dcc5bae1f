"""Prefect flow tests: one temporary Prefect server for the whole session, a tiny fixture network per test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def _student_survey(school: str, year: str, k: int) -> str:
    return ("school_id,academic_year,item,responses,mean,sd\n"
            f"{school},{year},overall_study_situation,{40 + k},{2.1 + 0.3 * k:.1f},0.8\n"
            f"{school},{year},support_going_abroad,{25 + k},{2.6 - 0.2 * k:.1f},1.1\n")


def _self_assessment(school: str, year: str, k: int) -> str:
    from ims_indicators.demo.assessment import ANSWER_TYPES

    answers = {"yes_no": "yes", "share": f"{0.02 + 0.01 * k:.2f}", "scale_1_4": str(2 + k % 3), "text": "context"}
    return "school_id,academic_year,item_id,answer,evidence\n" + "".join(
        f"{school},{year},{item},{answers[kind]},https://example.org/{item}\n" for item, kind in ANSWER_TYPES.items())


def _panel_assessment(school: str, year: str, k: int) -> str:
    from ims_indicators.contracts import PANEL_STANDARDS

    rating = ("partially", "satisfactory", "excellent")[k % 3]
    return "school_id,academic_year,standard,rating,panel_size,date,rationale\n" + "".join(
        f"{school},{year},{std},{rating},3,{int(year[:4]) + 1}-03-01,site visit\n" for std in PANEL_STANDARDS)


WRITERS = {"enrolment": _enrolment, "mobility": _mobility, "staffing": _staffing, "accreditation": _accreditation,
           "student_survey": _student_survey, "self_assessment": _self_assessment,
           "panel_assessment": _panel_assessment}


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

    if _SERVER.get("wanted") and "proc" not in _SERVER:  # boots while the flow tests run
        _start_prefect_server()
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


# A real `prefect server start` for the serve tests, started as soon as collection knows it is needed so that it
# boots while the flow tests run.
_SERVER: dict = {}


def _start_prefect_server() -> None:
    home = Path(tempfile.mkdtemp(prefix="ims-prefect-server-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = home / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _SERVER.update(proc=proc, url=f"http://127.0.0.1:{port}/api", log=log)


def _stop_prefect_server() -> None:
    proc = _SERVER.pop("proc", None)
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def pytest_collection_finish(session: pytest.Session) -> None:
    _SERVER["wanted"] = any("prefect_server" in getattr(item, "fixturenames", ()) for item in session.items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    _stop_prefect_server()


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[str]:
    """The API URL of a running `prefect server start` (own PREFECT_HOME, free port), stopped after the module."""
    import httpx

    if "proc" not in _SERVER:
        _start_prefect_server()
    proc, url, log = _SERVER["proc"], _SERVER["url"], _SERVER["log"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prefect server start exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        pytest.fail(f"prefect server start: not up within 120 s\n{log.read_text()[-3000:]}")
    yield url
    _stop_prefect_server()
