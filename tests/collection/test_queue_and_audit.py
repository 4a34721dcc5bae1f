"""The portal's queue (waiting uploads ingested together, overrides alone, in order) and meta.audit_log's copy
(append-only, each entry once), on a real DuckDB warehouse and collection.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collection.conftest import CURRENT, SCHOOL_A, SCHOOL_B, copy_home, demo_file, planted_staffing

WHO = {"token_id": "tok_test", "role": "keyholder"}


@pytest.fixture
def home(base_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tests.collection.conftest import REPO

    home = copy_home(base_home, tmp_path / "home")
    monkeypatch.setenv("IMS_HOME", str(home))
    monkeypatch.setenv("IMS_EXPECTATIONS_DIR", str(REPO / "expectations"))
    return home


def test_next_batch_takes_waiting_uploads_together_and_overrides_alone(home: Path) -> None:
    from ims_indicators.collection import state

    jobs = [state.enqueue(WHO, SCHOOL_A, "staffing", CURRENT, f"f{i}.csv", home / f"f{i}.csv", 1)["job_id"]
            for i in range(2)]
    sub = {"submission_id": "s1", "school_id": SCHOOL_A, "academic_year": CURRENT, "dataset": "staffing"}
    ov = state.record_override_request(WHO, sub, "rule", [3], "why")
    steward = {"token_id": "tok_steward", "role": "steward"}
    ov = state.record_override_decision(steward, ov["override_id"], True, "ok")
    assert ov["status"] == "approved" and state.record_override_decision(steward, ov["override_id"], False, "") is None
    last = state.enqueue(WHO, SCHOOL_A, "staffing", CURRENT, "f2.csv", home / "f2.csv", 1)["job_id"]
    assert [j["job_id"] for j in state.next_batch()] == jobs
    for j in jobs:
        state.finish_upload(j, {"status": "accepted"})
    assert [j["job_id"] for j in state.next_batch()] == [ov["job_id"]]
    state.finish_upload(ov["job_id"], {"status": "promoted"})
    assert [j["job_id"] for j in state.next_batch()] == [last]
    assert [j["job_id"] for j in state.uploads()] == [*jobs, last]  # an override is not an upload


def test_waiting_uploads_are_ingested_in_one_call_each_with_its_outcome(home: Path, demo_raw: Path,
                                                                        tmp_path: Path) -> None:
    from ims_indicators.collection import state
    from ims_indicators.collection.worker import ingest_uploads

    planted = tmp_path / "mine.csv"
    planted.write_text(planted_staffing(SCHOOL_B, CURRENT), encoding="utf-8")
    bad = tmp_path / "empty.csv"
    bad.write_text("", encoding="utf-8")
    files = [(SCHOOL_A, "mobility", demo_file(demo_raw, "mobility", SCHOOL_A, CURRENT)),
             (SCHOOL_B, "staffing", planted), (SCHOOL_A, "enrolment", bad)]
    jobs = []
    for school, dataset, path in files:
        stored = state.settings.data_dir() / f"stored{len(jobs)}{path.suffix}"
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(path.read_bytes())
        jobs.append(state.enqueue(WHO, school, dataset, CURRENT, path.name, stored, stored.stat().st_size))
    outcomes = ingest_uploads(state.next_batch())
    assert [o["file"] for o in outcomes] == [p.name for _, _, p in files]
    assert outcomes[0]["status"] in ("accepted", "accepted_with_quarantine")  # the demo file
    assert outcomes[1]["status"] == "accepted_with_quarantine" and outcomes[1]["rows_quarantined"] == 1
    assert outcomes[2]["status"] == "rejected" and "empty.csv" in outcomes[2]["reason"]
    assert "stored2" not in outcomes[2]["reason"]  # named as the school sent it
    assert [(o["school_id"], o["dataset"]) for o in outcomes] == [(s, d) for s, d, _ in files]


def test_audit_log_is_copied_to_the_warehouse_once_and_by_the_validate_stage(home: Path) -> None:
    from ims_indicators.collection import state
    from ims_indicators.collection.audit import copy_audit_log
    from ims_indicators.pipeline import validate_stage
    from ims_indicators.warehouse import open_warehouse, rows

    state.create_token("steward", None)
    state.record_signoff(WHO, SCHOOL_A, CURRENT, {"datasets": []})
    with open_warehouse() as con:
        assert copy_audit_log(con) == 2 and copy_audit_log(con) == 0
        state.record_unlock({"token_id": "tok_steward", "role": "steward"}, SCHOOL_A, CURRENT, "a correction")
        assert validate_stage(con)["audit_entries_copied"] == 1
        found = rows(con, "SELECT * FROM meta.audit_log ORDER BY seq")
    assert [e["action"] for e in found] == ["token-create", "sign-off", "unlock"]
    assert [e["seq"] for e in found] == [e["seq"] for e in state.audit_entries()]
    assert found[1]["token_id"] == "tok_test" and found[1]["role"] == "keyholder" and found[1]["school_id"] == SCHOOL_A
    assert found[2]["role"] == "steward" and '"a correction"' in found[2]["details"]
    assert all(e["acted_at"] is not None and e["copied_at"] >= e["acted_at"] for e in found)
