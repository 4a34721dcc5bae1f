"""Overrides of fatal rules end to end on a real portal: request → steward decision → promotion by the queue
into curated with lineage; refusals; every action in meta.audit_log (the warehouse's copy of the audit log)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.collection.conftest import (
    CURRENT,
    SCHOOL_A,
    SCHOOL_B,
    Portal,
    planted_staffing,
    running_portal,
)
from tests.collection.test_portal_api import auth, upload_done


@pytest.fixture(scope="module")
def portal(base_home: Path, tmp_path_factory: pytest.TempPathFactory):
    with running_portal(base_home, tmp_path_factory.mktemp("overrides"), upload_wait="30") as served:
        yield served


def planted(server: Portal, token: str, school: str, tmp_path: Path, professors: int = 100) -> dict:
    """Upload the staffing file with a negative fte in row 3; returns its submission and quarantined row."""
    path = tmp_path / f"staffing-{school}.csv"
    path.write_text(planted_staffing(school, CURRENT).replace(",professor,100,", f",professor,{professors},"),
                    encoding="utf-8")
    job = upload_done(server.url, token, path, "staffing")
    assert job["outcome"]["status"] == "accepted_with_quarantine", job
    sid = job["submission_id"]
    held = httpx.get(server.url + f"/api/submissions/{sid}/quarantine", headers=auth(token)).json()
    assert [q["source_row"] for q in held] == [3]
    return {"submission_id": sid, "rule": held[0]["rule"]}


def request(server: Portal, token: str, sid: str, **body) -> httpx.Response:
    return httpx.post(server.url + f"/api/submissions/{sid}/overrides", headers=auth(token), json=body, timeout=60)


def warehouse_rows(home: Path, query: str, params: list | None = None, seconds: float = 30) -> list[dict]:
    from ims_indicators.warehouse import rows

    return reading(home, lambda con: rows(con, query, params), seconds)


def reading(home: Path, read, seconds: float = 30):
    """Read the portal's warehouse from this process (the worker may hold it for a moment: retry)."""
    import duckdb

    deadline = time.monotonic() + seconds
    while True:
        try:
            con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        try:
            return read(con)
        finally:
            con.close()


def audit_in_warehouse(home: Path, actions: set[str], seconds: float = 30) -> list[dict]:
    """meta.audit_log once it holds every given action (the worker copies between jobs)."""
    deadline = time.monotonic() + seconds
    while True:
        found = warehouse_rows(home, "SELECT * FROM meta.audit_log ORDER BY seq")
        if actions <= {e["action"] for e in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_override_request_refusals(portal, tmp_path: Path) -> None:
    server, tokens = portal
    held = planted(server, tokens["b"], SCHOOL_B, tmp_path)
    sid, rule = held["submission_id"], held["rule"]
    ok = {"rule": rule, "source_rows": [3], "justification": "Repayment of an overpaid contract."}
    assert request(server, tokens["a"], sid, **ok).status_code == 404  # another school's submission
    assert request(server, tokens["analyst"], sid, **ok).status_code == 403
    assert httpx.post(server.url + f"/api/submissions/{sid}/overrides", json=ok).status_code == 401
    res = request(server, tokens["b"], sid, **{**ok, "rule": "academic_headcount_change"})
    assert res.status_code == 422 and "not fatal" in res.json()["detail"]
    res = request(server, tokens["b"], sid, **{**ok, "source_rows": [2, 3]})
    assert res.status_code == 422 and "row(s) 2 " in res.json()["detail"] and "not held back" in res.json()["detail"]
    res = request(server, tokens["b"], sid, **{**ok, "rule": "no_such_rule"})
    assert res.status_code == 422 and "holds back no row" in res.json()["detail"]
    assert request(server, tokens["b"], sid, **{**ok, "justification": " "}).status_code == 422

    # rejected: the row stays quarantined, out of curated
    ov = request(server, tokens["b"], sid, **ok).json()
    assert ov["status"] == "requested" and ov["source_rows"] == [3]
    url = server.url + f"/api/overrides/{ov['override_id']}"
    assert httpx.post(url + "/reject", headers=auth(tokens["b"]), json={"note": "x"}).status_code == 403
    res = httpx.post(url + "/reject", headers=auth(tokens["steward"]), json={"note": "Send a corrected file."})
    assert res.status_code == 200 and res.json()["status"] == "rejected" and res.json()["promotion"] is None
    assert httpx.post(url + "/approve", headers=auth(tokens["steward"]), json={}).status_code == 409
    assert httpx.get(url, headers=auth(tokens["a"])).status_code == 404
    assert [o["override_id"] for o in httpx.get(server.url + "/api/overrides", headers=auth(tokens["a"])).json()] == []
    audit = audit_in_warehouse(server.home, {"request", "reject"})
    reject = next(e for e in audit if e["action"] == "reject")
    assert reject["target"] == ov["override_id"] and reject["role"] == "steward" and reject["school_id"] == SCHOOL_B
    assert warehouse_rows(server.home, "SELECT count(*) AS n FROM curated.staffing WHERE submission_id = ? "
                                       "AND source_row = 3", [sid])[0]["n"] == 0


def test_override_approved_promotes_rows_with_lineage(portal, tmp_path: Path) -> None:
    server, tokens = portal
    held = planted(server, tokens["a"], SCHOOL_A, tmp_path)
    sid, rule = held["submission_id"], held["rule"]
    res = request(server, tokens["a"], sid, rule=rule, source_rows=[3],
                  justification="Negative fte records a repaid secondment; confirmed by HR.")
    assert res.status_code == 201, res.text
    ov = res.json()
    listed = httpx.get(server.url + "/api/overrides", headers=auth(tokens["steward"]),
                       params={"status": "requested"}).json()
    assert ov["override_id"] in [o["override_id"] for o in listed]

    url = server.url + f"/api/overrides/{ov['override_id']}"
    res = httpx.post(url + "/approve", headers=auth(tokens["steward"]), json={"note": "Accepted for 2023/24."})
    assert res.status_code == 200 and res.json()["status"] == "approved"
    deadline = time.monotonic() + 60
    while (got := httpx.get(url, headers=auth(tokens["a"])).json())["promotion"]["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert got["promotion"]["outcome"]["status"] == "promoted", got
    assert got["promotion"]["outcome"]["rows_promoted"] == 1

    # the row is in curated, traceable to the override through its lineage
    from ims_indicators.collection.overrides import lineage

    traced = reading(server.home, lambda con: lineage(con, ov["override_id"]))
    assert [(t["submission_id"], t["source_row"], t["rule"]) for t in traced] == [(sid, 3, rule)]
    assert traced[0]["approved_by"].startswith("tok_")
    row = warehouse_rows(server.home, "SELECT fte FROM curated.staffing WHERE submission_id = ? AND source_row = 3",
                         [sid])
    assert row == [{"fte": -3}] or float(row[0]["fte"]) == -3.0
    sub = httpx.get(server.url + f"/api/submissions/{sid}", headers=auth(tokens["a"])).json()
    assert sub["rows_quarantined"] == 0  # nothing held back any more
    quarantine = httpx.get(server.url + f"/api/submissions/{sid}/quarantine", headers=auth(tokens["a"])).json()
    assert [q["override_id"] for q in quarantine] == [ov["override_id"]]  # still listed, marked overridden

    # a revalidation quarantines row 3 again, and the override still lets it through
    from ims_indicators.lock import writer_lock
    from ims_indicators.validate.revalidate import revalidate_all
    from ims_indicators.warehouse import open_warehouse

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(server.home))
        mp.setenv("IMS_EXPECTATIONS_DIR", str(Path(__file__).resolve().parents[2] / "expectations"))
        with writer_lock("test revalidation"), open_warehouse() as con:
            revalidate_all(con, "staffing")
            assert [(t["submission_id"], t["source_row"]) for t in lineage(con, ov["override_id"])] == [(sid, 3)]

    audit = audit_in_warehouse(server.home, {"request", "approve"})
    mine = [e for e in audit if e["target"] == ov["override_id"]]
    assert [e["action"] for e in mine] == ["request", "approve"]
    assert [e["role"] for e in mine] == ["keyholder", "steward"] and all(e["token_id"].startswith("tok_") for e in mine)
    assert [e["seq"] for e in audit] == sorted(e["seq"] for e in audit)


def test_override_by_the_pages_and_in_the_steward_report(portal, tmp_path: Path) -> None:
    """The HTML forms (CSRF-protected): request on the submission page, approve in the console; the promoted
    override is listed in the stewards' validation report."""
    import re
    from contextlib import closing

    from tests.collection.test_portal_api import login

    server, tokens = portal
    held = planted(server, tokens["a"], SCHOOL_A, tmp_path, professors=101)  # a new file: a new submission
    sid = held["submission_id"]
    with closing(login(server.url, tokens["a"])) as client:
        page = client.get(f"/submissions/{sid}")
        assert 'id="override-request"' in page.text and held["rule"] in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {"rule": held["rule"], "source_rows": "3", "justification": "Repaid secondment."}
        assert client.post(f"/submissions/{sid}/overrides", data={**form, "csrf": "forged"}).status_code == 403
        res = client.post(f"/submissions/{sid}/overrides", data={**form, "source_rows": "4", "csrf": csrf},
                          follow_redirects=True)
        assert "not held back" in res.text  # refused with the reason, nothing recorded
        res = client.post(f"/submissions/{sid}/overrides", data={**form, "csrf": csrf}, follow_redirects=True)
        ov_id = re.search(r"override (ovr_\w+) requested", res.text).group(1)
        assert ov_id in res.text and "requested" in res.text
    with closing(login(server.url, tokens["steward"])) as client:
        console = client.get("/")
        assert f'id="approve-{ov_id}"' in console.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', console.text).group(1)
        res = client.post(f"/overrides/{ov_id}", data={"csrf": csrf, "decision": "approve", "note": "fine"},
                          follow_redirects=True)
        assert f"override {ov_id} approved" in res.text
    url = server.url + f"/api/overrides/{ov_id}"
    deadline = time.monotonic() + 60
    while (got := httpx.get(url, headers=auth(tokens["steward"])).json())["promotion"]["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert got["promotion"]["outcome"]["status"] == "promoted"
    report = (server.home / "reports" / "validation" / "index.html").read_text(encoding="utf-8")
    assert 'id="overrides"' in report and ov_id in report and "Repaid secondment." in report


def long_mobility(school: str) -> str:
    """Mobility with row 3 lasting 14.5 months (unusual but possible: the confirm check fires on it)."""
    head = ("school_id,academic_year,mobility_ref,direction,participant_type,activity,programme,programme_level,"
            "partner_country,partner_institution,start_date,end_date,participants,ects_earned,ects_recognised,"
            "person_ref\n")
    return head + (f"{school},{CURRENT},M1,outgoing,student,study,erasmus_plus,master,ES,Universidad de Granada,"
                   f"2023-09-01,2024-02-15,1,30,30,P-1\n"
                   f"{school},{CURRENT},M2,outgoing,student,study,erasmus_plus,master,FR,Universite de Lyon,"
                   f"2023-09-01,2024-11-15,1,60,60,P-2\n")


def test_confirm_check_is_ticked_and_blocks_signoff_until_then(portal, tmp_path: Path) -> None:
    import re
    from contextlib import closing

    from tests.collection.test_portal_api import login

    server, tokens = portal
    path = tmp_path / "mobility.csv"
    path.write_text(long_mobility(SCHOOL_B), encoding="utf-8")
    assert upload_done(server.url, tokens["b"], path, "mobility")["outcome"]["status"] == "accepted"
    checks = {c["rule"]: c for c in httpx.get(server.url + "/api/checks", headers=auth(tokens["b"]),
                                              params={"academic_year": CURRENT}).json()}
    long = checks["mobility_longer_than_12_months"]
    assert long["severity"] == "confirm" and long["status"] == "open" and long["rows"] == [3]
    assert long["value"] > 12 and "ects_above_60_per_semester" not in checks  # 60 ECTS over three semesters
    res = httpx.post(server.url + "/api/signoff", headers=auth(tokens["b"]), data={"academic_year": CURRENT})
    assert res.status_code == 409 and "mobility_longer_than_12_months is open (confirm)" in res.json()["detail"]
    with closing(login(server.url, tokens["b"])) as client:
        page = client.get("/", params={"academic_year": CURRENT})
        assert 'type="checkbox"' in page.text and 'id="confirm-mobility_longer_than_12_months"' in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        res = client.post("/checks/mobility_longer_than_12_months", follow_redirects=True,
                          data={"csrf": csrf, "academic_year": CURRENT, "response": "confirmed: the values are right"})
        assert "recorded" in res.text
    checks = {c["rule"]: c for c in httpx.get(server.url + "/api/checks", headers=auth(tokens["b"]),
                                              params={"academic_year": CURRENT}).json()}
    assert checks["mobility_longer_than_12_months"]["status"] == "resolved"
    res = httpx.post(server.url + "/api/signoff", headers=auth(tokens["b"]), data={"academic_year": CURRENT})
    assert res.status_code == 409 and "mobility_longer_than_12_months" not in res.json()["detail"]
    audit = audit_in_warehouse(server.home, {"confirm"})
    assert any(e["action"] == "confirm" and e["target"] == "mobility_longer_than_12_months" for e in audit)


def test_api_docs_are_served_locally_under_the_csp(portal) -> None:
    """/docs needs no CDN: every asset comes from the portal, and Swagger UI starts in Chromium with every
    request outside the portal refused, under the portal's CSP (no inline script)."""
    import re

    from tests.collection.test_portal_browser import CHROMIUM, FLAGS

    server, _ = portal
    res = httpx.get(server.url + "/docs")
    assert res.status_code == 200 and "script-src 'self'" in res.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', res.text)
    assert assets and all(a.startswith("/") for a in assets) and "<script>" not in res.text
    assert all(httpx.get(server.url + a).status_code == 200 for a in assets)
    assert "/api/submissions/{submission_id}/overrides" in httpx.get(server.url + "/openapi.json").json()["paths"]
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        ctx = browser.new_context()
        outside: list[str] = []
        ctx.route(lambda url: not url.startswith(server.url),
                  lambda route: (outside.append(route.request.url), route.abort()))
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "IMS collection portal" in page.inner_text(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 10
        browser.close()
    assert outside == [] and errors == []
