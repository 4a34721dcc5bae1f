"""Edit checks, sign-off, lock and unlock end to end on a real portal; every action in the audit log."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.collection.conftest import (
    CURRENT,
    REPO_VENV_IMS,
    SCHOOL_A,
    Portal,
    copy_home,
    demo_file,
    make_token,
    planted_staffing,
    portal_env,
)
from tests.collection.test_portal_api import auth, upload, upload_done


@pytest.fixture
def portal(base_home: Path, tmp_path: Path):
    home = copy_home(base_home, tmp_path / "home")
    tokens = {"a": make_token(home, "keyholder", SCHOOL_A), "steward": make_token(home, "steward")}
    server = Portal(home, IMS_UPLOAD_WAIT="30")
    yield server, tokens
    server.stop()


def test_explain_signoff_lock_unlock_and_audit(portal, demo_raw: Path, tmp_path: Path) -> None:
    server, tokens = portal
    url, a, steward = server.url, tokens["a"], tokens["steward"]
    for ds in ("enrolment", "mobility", "accreditation"):
        assert upload_done(url, a, demo_file(demo_raw, ds, SCHOOL_A, CURRENT), ds)["outcome"]["status"] != "rejected"
    staffing = tmp_path / "staffing.csv"
    staffing.write_text(planted_staffing(SCHOOL_A, CURRENT), encoding="utf-8")
    assert upload_done(url, a, staffing, "staffing")["outcome"]["status"] == "accepted_with_quarantine"

    res = httpx.post(url + "/api/signoff", headers=auth(a), data={"academic_year": CURRENT})
    assert res.status_code == 409
    assert "student_survey: missing" in res.json()["detail"] and "academic_headcount_change" in res.json()["detail"]

    checks = httpx.get(url + "/api/checks", headers=auth(a), params={"academic_year": CURRENT}).json()
    fired = {c["rule"]: c for c in checks}
    assert fired["academic_headcount_change"]["status"] == "open"  # 180 staff (row 3 held back) against last year
    assert fired["academic_headcount_change"]["value"] == 180 and fired["academic_headcount_change"]["severity"] == \
        "explain"
    survey = demo_file(demo_raw, "student_survey", SCHOOL_A, CURRENT)
    assert upload_done(url, a, survey, "student_survey")["outcome"]["status"] != "rejected"
    res = httpx.post(url + "/api/checks/academic_headcount_change", headers=auth(a),
                     data={"academic_year": CURRENT, "response": "Only the medical faculty's core staff this year."})
    assert res.status_code == 200 and res.json()["status"] == "resolved"
    for rule in fired:  # any other check that fires is explained too
        if rule != "academic_headcount_change":
            httpx.post(url + f"/api/checks/{rule}", headers=auth(a), data={"academic_year": CURRENT, "response": "ok"})

    res = httpx.post(url + "/api/signoff", headers=auth(a), data={"academic_year": CURRENT})
    assert res.status_code == 200, res.text
    cycle = httpx.get(url + "/api/cycle", headers=auth(a), params={"academic_year": CURRENT}).json()
    assert {c["state"] for c in cycle} == {"signed off"} and {c["school_id"] for c in cycle} == {SCHOOL_A}

    # locked: a new upload is refused until a steward unlocks
    assert upload(url, a, staffing, "staffing").status_code == 409
    assert httpx.post(url + "/api/unlock", headers=auth(a), data={"school_id": SCHOOL_A, "academic_year": CURRENT,
                                                                   "reason": "x"}).status_code == 403
    res = httpx.post(url + "/api/unlock", headers=auth(steward),
                     data={"school_id": SCHOOL_A, "academic_year": CURRENT, "reason": "corrected staffing file"})
    assert res.status_code == 200
    assert upload(url, a, staffing, "staffing").status_code in (200, 202)

    audit = httpx.get(url + "/api/audit", headers=auth(steward)).json()
    actions = [e["action"] for e in audit if e["school_id"] == SCHOOL_A]
    assert actions.count("upload") == 6 and "explain" in actions and "sign-off" in actions and "unlock" in actions
    a_id = next(e["token_id"] for e in audit if e["action"] == "sign-off")
    assert next(e for e in audit if e["action"] == "unlock")["role"] == "steward" and a_id.startswith("tok_")
    assert [e["seq"] for e in audit] == sorted(e["seq"] for e in audit)

    # the CLI agrees: ims cycle status --json
    out = subprocess.run([str(REPO_VENV_IMS), "cycle", "status", "--json", "--school", SCHOOL_A, "--year", CURRENT],
                         env=portal_env(server.home), capture_output=True, text=True, cwd=server.home, check=False)
    # the portal holds no warehouse connection between requests, so the CLI can read it
    rows = json.loads(out.stdout)
    assert {r["dataset"]: r["state"] for r in rows}["staffing"] in ("received", "checks open")
    assert all(r["late"] for r in rows)  # the 2023/24 deadlines are in the past


def test_audit_log_is_append_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from ims_indicators.collection import state

    monkeypatch.setenv("IMS_HOME", str(tmp_path))
    token, row = state.create_token("steward", None)
    con = sqlite3.connect(state.db_path(), isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit_log SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit_log")
    con.close()
    assert state.check_token(token)["token_id"] == row["token_id"]
    assert token not in state.db_path().read_bytes().decode("latin-1")  # only the hash is stored
    assert state.revoke_token(row["token_id"]) and state.check_token(token) is None
