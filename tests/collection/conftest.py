"""Collection tests: the calendar of the repo is visible in every IMS_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def collection_calendar(monkeypatch: pytest.MonkeyPatch) -> Path:
    path = Path(os.environ.get("IMS_COLLECTION_CALENDAR") or REPO / "catalogue" / "collection.yaml")
    monkeypatch.setenv("IMS_COLLECTION_CALENDAR", str(path))
    return path


REPO_VENV_IMS = REPO / ".venv" / "bin" / "ims"
SCHOOL_A, SCHOOL_B = "charite-berlin", "antwerp"
PREVIOUS, CURRENT = "2022/23", "2023/24"


@pytest.fixture(scope="session")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo network's received files (generated once; used as upload material)."""
    from ims_indicators.demo import generate_demo

    root = tmp_path_factory.mktemp("collection_demo") / "raw"
    generate_demo(root)
    return root


def demo_file(raw: Path, dataset: str, school: str, year: str) -> Path:
    return sorted((raw / dataset / school / year.replace("/", "-")).iterdir())[0]


@pytest.fixture(scope="session")
def base_home(demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the registry and schools A and B's previous year ingested (read-only: copy it)."""
    from ims_indicators.ingest import ingest_paths
    from ims_indicators.warehouse import open_warehouse

    root = tmp_path_factory.mktemp("collection_base")
    files = [demo_raw / "schools.csv"] + [demo_file(demo_raw, ds, s, PREVIOUS) for s in (SCHOOL_A, SCHOOL_B)
                                          for ds in ("enrolment", "mobility", "staffing", "accreditation")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(root))
        mp.setenv("IMS_EXPECTATIONS_DIR", str(REPO / "expectations"))
        with open_warehouse() as con:
            for f in files:
                ingest_paths(con, [f])
    return root


def copy_home(base: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(base, dest)
    return dest


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(home: Path, **extra: str) -> dict:
    env = {**os.environ, "IMS_HOME": str(home), "IMS_EXPECTATIONS_DIR": str(REPO / "expectations"),
           "IMS_COLLECTION_CALENDAR": str(REPO / "catalogue" / "collection.yaml"), **extra}
    env.pop("IMS_WAREHOUSE", None)
    return env


class Portal:
    """A real ``ims portal`` (uvicorn) on 127.0.0.1 in its own process."""

    def __init__(self, home: Path, **env: str):
        import subprocess

        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (home / "portal.log").open("w")
        self.proc = subprocess.Popen([str(REPO_VENV_IMS), "portal", "--port", str(self.port)], env=portal_env(
            home, **env), stdout=self.log, stderr=self.log, cwd=home)
        import time

        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/api/submissions", timeout=2)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "portal.log").read_text())
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def make_token(home: Path, role: str, school: str | None = None) -> str:
    from ims_indicators.collection.state import create_token

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(home))
        return create_token(role, school)[0]


def planted_staffing(school: str, year: str) -> str:
    """A staffing CSV with one planted error: row 3 has a negative fte."""
    return ("school_id,academic_year,staff_category,headcount,fte,foreign_nationality\n"
            f"{school},{year},professor,100,90,10\n{school},{year},lecturer,50,-3,5\n"
            f"{school},{year},researcher,80,70,20\n")


@contextmanager
def running_portal(base: Path, folder: Path, upload_wait: str) -> Iterator[tuple[Portal, dict[str, str]]]:
    """A copy of ``base`` served by a real portal, with a token per role: keyholders of A ("a") and B ("b"),
    a steward and an analyst; stopped on exit."""
    home = copy_home(base, folder / "home")
    tokens = {"a": make_token(home, "keyholder", SCHOOL_A), "b": make_token(home, "keyholder", SCHOOL_B),
              "steward": make_token(home, "steward"), "analyst": make_token(home, "analyst")}
    server = Portal(home, IMS_UPLOAD_WAIT=upload_wait)
    try:
        yield server, tokens
    finally:
        server.stop()

