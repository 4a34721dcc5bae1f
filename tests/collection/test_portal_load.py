"""Bounded load test on loopback: 20 keyholders upload 5 files each at once to a real portal.

Every upload must end as `ims ingest` of the same file would (replayed in the order the portal processed
them), none lost; the upload request's response times (store + queue, IMS_UPLOAD_WAIT=0) are printed.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.collection.conftest import Portal, copy_home, make_token
from tests.collection.test_portal_api import COMPARED, auth, finished

KEYHOLDERS, FILES_EACH = 20, 5
pytestmark = pytest.mark.slow


def school_files(raw: Path, school: str) -> list[tuple[Path, str, str]]:
    found = sorted(((p, p.parts[-4], p.parts[-2].replace("-", "/")) for p in raw.glob(f"*/{school}/*/*")),
                   key=lambda f: (f[2], f[1]), reverse=True)
    return found[:FILES_EACH]


def test_twenty_keyholders_five_files_each(base_home: Path, demo_raw: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    schools = sorted({p.name for p in (demo_raw / "enrolment").iterdir()})[:KEYHOLDERS]
    assert len(schools) == KEYHOLDERS
    home = copy_home(base_home, tmp_path / "home")
    tokens = {s: make_token(home, "keyholder", s) for s in schools}
    # the suite compiled to SQL (parity-tested against GX in tests/validate/test_compile.py) validates here:
    # the test measures the portal and its queue, not the rebuilding of GX Data Docs after every file
    server = Portal(home, IMS_UPLOAD_WAIT="0", IMS_VALIDATE_SQL_ROWS="0")
    jobs: dict[str, tuple[Path, str, str, str]] = {}
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def keyholder(school: str) -> None:
        with httpx.Client(base_url=server.url, headers=auth(tokens[school]), timeout=120) as client:
            for path, dataset, year in school_files(demo_raw, school):
                t0 = time.perf_counter()
                with path.open("rb") as fh:
                    res = client.post("/api/submissions", files={"file": (path.name, fh)},
                                      data={"dataset": dataset, "academic_year": year})
                elapsed = time.perf_counter() - t0
                with lock:
                    times.append(elapsed)
                    if res.status_code not in (200, 202):
                        errors.append(f"{school} {path.name}: {res.status_code} {res.text}")
                    else:
                        jobs[res.json()["job_id"]] = (path, dataset, school, year)

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=keyholder, args=(s,)) for s in schools]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert errors == [] and len(jobs) == KEYHOLDERS * FILES_EACH
        done = {}
        for job_id, (_, _, school, _) in jobs.items():
            done[job_id] = finished(server.url, tokens[school], {"state": "", "status_url": f"/api/uploads/{job_id}"},
                                    seconds=1200)
        drained = time.perf_counter() - started
    finally:
        server.stop()
    assert all(j["state"] == "done" for j in done.values()), "an upload was lost or never processed"
    p95 = statistics.quantiles(times, n=20)[18]
    print(f"\nload: {len(times)} uploads by {KEYHOLDERS} keyholders; upload response p50 "
          f"{statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
          f"all {len(done)} ingested in {drained:.0f} s")

    # replay with the library's ingest in the portal's processing order: the same outcome for every file
    from ims_indicators.ingest import ingest_paths
    from ims_indicators.warehouse import open_warehouse

    reference = copy_home(base_home, tmp_path / "reference")
    monkeypatch.setenv("IMS_HOME", str(reference))
    monkeypatch.setenv("IMS_VALIDATE_SQL_ROWS", "0")
    order = sorted(done.values(), key=lambda j: (j["finished_at"], j["job_id"]))
    seqs = {j["job_id"]: j for j in order}
    from ims_indicators.collection import state

    monkeypatch.setenv("IMS_COLLECTION_DB", str(home / "data" / "collection.db"))
    by_seq = sorted(seqs, key=lambda i: state.upload(i)["seq"])
    monkeypatch.delenv("IMS_COLLECTION_DB")
    statuses: dict[str, int] = {}
    with open_warehouse() as con:
        for job_id in by_seq:
            path, dataset, school, year = jobs[job_id]
            expected = ingest_paths(con, [path], dataset=dataset, school_id=school, academic_year=year).results[0]
            got = done[job_id]["outcome"]
            exp = expected.as_dict()
            assert {k: got[k] for k in COMPARED} == {k: exp[k] for k in COMPARED}, path
            statuses[got["status"]] = statuses.get(got["status"], 0) + 1
    print(f"load: outcomes {statuses}")
