"""The portal's JSON API on a real uvicorn server (127.0.0.1), against a real DuckDB warehouse."""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.collection.conftest import (
    CURRENT,
    PREVIOUS,
    REPO_VENV_IMS,
    SCHOOL_A,
    SCHOOL_B,
    copy_home,
    demo_file,
    planted_staffing,
    portal_env,
    running_portal,
)

COMPARED = ("submission_id", "dataset", "school_id", "academic_year", "status", "reason", "rows_in",
            "rows_quarantined")


@pytest.fixture(scope="module")
def portal(base_home: Path, tmp_path_factory: pytest.TempPathFactory):
    with running_portal(base_home, tmp_path_factory.mktemp("portal"), upload_wait="20") as served:
        yield served


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def upload(url: str, token: str, path: Path, dataset: str, year: str = CURRENT, **form) -> httpx.Response:
    with path.open("rb") as fh:
        return httpx.post(url + "/api/submissions", headers=auth(token), timeout=120,
                          files={"file": (path.name, fh)}, data={"dataset": dataset, "academic_year": year, **form})


def upload_done(url: str, token: str, path: Path, dataset: str, year: str = CURRENT) -> dict:
    """Upload and wait for the outcome (200 at once, or 202 then the status URL)."""
    res = upload(url, token, path, dataset, year)
    assert res.status_code in (200, 202), res.text
    return finished(url, token, res.json())


def ims_ingest(home: Path, path: Path, dataset: str, school: str, year: str = CURRENT) -> dict:
    res = subprocess.run([str(REPO_VENV_IMS), "ingest", str(path), "--dataset", dataset, "--school", school,
                          "--year", year, "--json"], env=portal_env(home), capture_output=True, text=True, cwd=home, check=False)
    return json.loads(res.stdout)[0]


def finished(url: str, token: str, job: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while job["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.3)
        job = httpx.get(url + job["status_url"], headers=auth(token), timeout=30).json()
    return job


def test_upload_outcome_equals_ims_ingest(portal, base_home: Path, demo_raw: Path, tmp_path: Path) -> None:
    server, tokens = portal
    reference_home = copy_home(base_home, tmp_path / "ref")
    for dataset in ("mobility", "staffing"):
        path = demo_file(demo_raw, dataset, SCHOOL_A, CURRENT)
        job = upload_done(server.url, tokens["a"], path, dataset)
        assert job["state"] == "done" and job["original_name"] == path.name
        expected = ims_ingest(reference_home, path, dataset, SCHOOL_A)
        assert {k: job["outcome"][k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
        # the stored file is named by the portal, never by the client
        stored = [p.name for p in (server.home / "data" / "inbox" / "portal").iterdir()]
        assert path.name not in stored
    subs = httpx.get(server.url + "/api/submissions", headers=auth(tokens["a"])).json()
    assert {s["dataset"] for s in subs if s["academic_year"] == CURRENT} == {"mobility", "staffing"}


def test_keyholder_sees_nothing_of_another_school(portal, demo_raw: Path) -> None:
    server, tokens = portal
    job = upload_done(server.url, tokens["b"], demo_file(demo_raw, "enrolment", SCHOOL_B, CURRENT), "enrolment")
    b_sub = job["submission_id"]
    a_subs = httpx.get(server.url + "/api/submissions", headers=auth(tokens["a"])).json()
    assert a_subs and all(s["school_id"] == SCHOOL_A for s in a_subs)
    for path in (f"/api/submissions/{b_sub}", f"/api/submissions/{b_sub}/quarantine",
                 job["status_url"], f"/api/checks?academic_year={CURRENT}&school_id={SCHOOL_B}"):
        assert httpx.get(server.url + path, headers=auth(tokens["a"])).status_code == 404, path
    # uploading for school B with A's token: 404 as well, nothing queued
    res = upload(server.url, tokens["a"], demo_file(demo_raw, "enrolment", SCHOOL_B, CURRENT), "enrolment",
                 school_id=SCHOOL_B)
    assert res.status_code == 404
    assert httpx.get(server.url + f"/api/submissions/{b_sub}", headers=auth(tokens["b"])).status_code == 200
    steward = httpx.get(server.url + "/api/submissions", headers=auth(tokens["steward"])).json()
    assert {SCHOOL_A, SCHOOL_B} <= {s["school_id"] for s in steward}
    assert httpx.get(server.url + "/api/submissions", headers=auth(tokens["analyst"])).status_code == 200


def test_no_token_401_bad_token_401_analyst_upload_403(portal, demo_raw: Path) -> None:
    server, tokens = portal
    assert httpx.get(server.url + "/api/submissions").status_code == 401
    assert httpx.get(server.url + "/api/submissions", headers=auth("x" * 43)).status_code == 401
    path = demo_file(demo_raw, "staffing", SCHOOL_A, CURRENT)
    assert upload(server.url, tokens["analyst"], path, "staffing", school_id=SCHOOL_A).status_code == 403
    with path.open("rb") as fh:
        assert httpx.post(server.url + "/api/submissions", files={"file": fh},
                          data={"dataset": "staffing", "academic_year": CURRENT}).status_code == 401
    res = httpx.get(server.url + "/api/submissions", headers=auth(tokens["a"]))
    assert "default-src 'self'" in res.headers["content-security-policy"]


def test_uploads_during_a_running_ingest_are_queued_and_all_processed(portal, demo_raw: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ims_indicators.lock import writer_lock

    server, tokens = portal
    monkeypatch.setenv("IMS_HOME", str(server.home))
    files = [(tokens["a"], demo_file(demo_raw, ds, SCHOOL_A, CURRENT), ds) for ds in ("enrolment", "accreditation")]
    files += [(tokens["b"], demo_file(demo_raw, ds, SCHOOL_B, CURRENT), ds) for ds in ("mobility", "staffing")]
    jobs = []
    with writer_lock("test: another ingest"):
        for token, path, ds in files:
            with path.open("rb") as fh:
                res = httpx.post(server.url + "/api/submissions", headers={**auth(token)}, timeout=60,
                                 files={"file": (path.name, fh)}, data={"dataset": ds, "academic_year": CURRENT},
                                 params={})
            assert res.status_code == 202, res.text  # queued behind the other writer: answered at once
            assert res.json()["state"] != "done"
            jobs.append((token, res.json()))
        time.sleep(1.0)
        assert all(httpx.get(server.url + j["status_url"], headers=auth(t)).json()["state"] != "done"
                   for t, j in jobs)
    done = [finished(server.url, t, j) for t, j in jobs]
    assert [d["state"] for d in done] == ["done"] * 4
    assert all(d["outcome"]["status"] in ("accepted", "accepted_with_quarantine") for d in done)
    # processed in the order received
    finished_at = [d["finished_at"] for d in done]
    assert finished_at == sorted(finished_at)


def test_quarantine_visible_to_owner(portal, demo_raw: Path, tmp_path: Path) -> None:
    server, tokens = portal
    path = tmp_path / "staffing_planted.csv"
    path.write_text(planted_staffing(SCHOOL_A, "2024/25"), encoding="utf-8")
    outcome = upload_done(server.url, tokens["a"], path, "staffing", year="2024/25")["outcome"]
    assert outcome["status"] == "accepted_with_quarantine", outcome
    rows = httpx.get(server.url + f"/api/submissions/{outcome['submission_id']}/quarantine",
                     headers=auth(tokens["a"])).json()
    assert [r["source_row"] for r in rows if r["column_name"] == "fte"] == [3]


def login(url: str, token: str) -> httpx.Client:
    """A browser-like session: the login form's CSRF cookie and field, then the session cookie."""
    import re

    client = httpx.Client(base_url=url, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    res = client.post("/login", data={"token": token, "csrf": csrf})
    assert res.status_code == 303 and res.headers["location"] == "/", res.text
    assert "httponly" in res.headers["set-cookie"].lower() and "samesite=strict" in res.headers["set-cookie"].lower()
    return client


def test_steward_console_filters_and_csrf(portal) -> None:
    server, tokens = portal
    with closing(login(server.url, tokens["steward"])) as client:
        page = client.get("/").text
        assert "Steward console" in page and SCHOOL_A in page and SCHOOL_B in page
        assert 'id="rules"' in page and "/gx-docs/" in page and "<script" not in page
        only_b = client.get("/", params={"dataset": "enrolment", "year": PREVIOUS, "state": "received"}).text
        cycle = only_b.split('id="cycle"')[1].split("</table>")[0]
        assert SCHOOL_A in cycle and SCHOOL_B in cycle and "mobility" not in cycle and CURRENT not in cycle
        # a form post without the session's CSRF token is refused
        assert client.post("/signoff", data={"csrf": "forged", "academic_year": CURRENT}).status_code == 403
    with closing(login(server.url, tokens["a"])) as client:
        page = client.get("/", params={"academic_year": CURRENT}).text
        assert SCHOOL_A in page and SCHOOL_B not in page and "Steward console" not in page


def test_failed_logins_are_rate_limited(portal) -> None:
    import re

    server, _ = portal
    with httpx.Client(base_url=server.url) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        codes = [client.post("/login", data={"token": f"wrong{i}", "csrf": csrf}).status_code for i in range(7)]
    assert codes[:5] == [303] * 5 and codes[-1] == 429
