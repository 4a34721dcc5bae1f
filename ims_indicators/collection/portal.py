"""The portal (FastAPI): the JSON API under ``/api/`` (Bearer tokens) and server-rendered pages (session cookie).

Every rule it applies lives elsewhere: ingest in ``ingest_paths`` (through the worker), checks in
``checks.yaml``, the calendar in ``catalogue/collection.yaml``, state and audit in ``state``.
A keyholder sees only their school: anything of another school answers 404, as if it did not exist.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse

from ims_indicators import settings
from ims_indicators.collection import state
from ims_indicators.collection.worker import Worker, warehouse_reader
from ims_indicators.contracts import CONTRACTS, SLUG, canonical_year
from ims_indicators.ingest.stage import DATA_SUFFIXES

CHUNK = 1024 * 1024


def max_upload_bytes() -> int:
    return int(float(os.environ.get("IMS_MAX_UPLOAD_MB", "50")) * 1024 * 1024)


def upload_wait() -> float:
    """Seconds an upload request waits for its outcome before answering 202 with a status URL."""
    return float(os.environ.get("IMS_UPLOAD_WAIT", "10"))


def inbox() -> Path:
    path = settings.data_dir() / "inbox" / "portal"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- who is asking ----------------------------------------------------------------------------------------------

SESSIONS: dict[str, dict] = {}  # session id -> {"who": token row, "csrf": str}
FAILED_LOGINS: dict[str, deque] = defaultdict(deque)
LOGIN_LIMIT, LOGIN_WINDOW = 5, 60.0


def who(request: Request) -> dict:
    """The API's caller, from ``Authorization: Bearer`` only (a session cookie never authorises the API: no CSRF)."""
    auth = request.headers.get("authorization", "")
    found = state.check_token(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
    if found is None:
        raise HTTPException(401, "a valid token is required (Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    return found


def can_see(user: dict, school_id: str | None) -> bool:
    return user["role"] != "keyholder" or user["school_id"] == school_id


def school_for(user: dict, school_id: str | None) -> str:
    """The school an action is for: the keyholder's own, or the one a steward names."""
    if user["role"] == "keyholder":
        if school_id and school_id != user["school_id"]:
            raise HTTPException(404, "no such school")
        return user["school_id"]
    if not school_id or not SLUG.fullmatch(school_id):
        raise HTTPException(422, "school_id: expected a school id")
    return school_id


def year_param(text: str) -> str:
    canon = canonical_year(text)
    if canon is None:
        raise HTTPException(422, f"academic_year {text!r}: expected an academic year such as 2023/24")
    return canon


def writer(user: dict) -> dict:
    if user["role"] == "analyst":
        raise HTTPException(403, "analysts have read-only access")
    return user


# --- actions shared by API and pages ----------------------------------------------------------------------------

async def store_upload(user: dict, file: UploadFile, dataset: str, academic_year: str,
                       school_id: str | None) -> dict:
    """Check, stream to disk under our own name and queue; returns the job."""
    writer(user)
    school = school_for(user, school_id)
    if dataset not in CONTRACTS or not CONTRACTS[dataset].per_year:
        raise HTTPException(422, f"dataset {dataset!r}: expected one of "
                                 f"{', '.join(d for d, c in CONTRACTS.items() if c.per_year)}")
    year = year_param(academic_year)
    if state.signed_off(school, year):
        raise HTTPException(409, f"{school} {year} is signed off and locked; a steward must unlock it first")
    original = Path(file.filename or "upload").name[:200]
    suffix = Path(original).suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise HTTPException(422, f"{original}: expected a file ending in {', '.join(sorted(DATA_SUFFIXES))}")
    stored = inbox() / f"{secrets.token_hex(12)}{suffix}"
    size, limit = 0, max_upload_bytes()
    try:
        with stored.open("wb") as fh:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"{original}: larger than {limit // (1024 * 1024)} MB "
                                             "(IMS_MAX_UPLOAD_MB)")
                fh.write(chunk)
    except HTTPException:
        stored.unlink(missing_ok=True)
        raise
    job = state.enqueue(user, school, dataset, year, original, stored, size)
    WORKER.wake.set()
    return job


def wait_for(job_id: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    job = state.upload(job_id)
    while job["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = state.upload(job_id)
    return job


def job_view(job: dict) -> dict:
    keep = ("job_id", "school_id", "dataset", "academic_year", "original_name", "size_bytes", "queued_at", "state",
            "finished_at", "submission_id", "outcome")
    return {**{k: job[k] for k in keep}, "status_url": f"/api/uploads/{job['job_id']}"}


def submission_for(user: dict, submission_id: str) -> dict:
    from ims_indicators.submissions import list_submissions

    with warehouse_reader():
        found = [s for s in list_submissions() if s["submission_id"] == submission_id]
    if not found or not can_see(user, found[0]["school_id"]):
        raise HTTPException(404, "no such submission")
    return found[0]


WORKER = Worker()


def register_api(app: FastAPI) -> None:
    """The JSON API under /api/ (Bearer tokens)."""

    @app.post("/api/submissions", status_code=200)
    async def post_submission(file: UploadFile = File(...), dataset: str = Form(...),
                              academic_year: str = Form(...), school_id: str | None = Form(None),
                              user: dict = Depends(who)):
        """Upload one file: the same outcome as `ims ingest` (200), or 202 with a status URL while queued."""
        job = await store_upload(user, file, dataset, academic_year, school_id)
        import anyio

        job = await anyio.to_thread.run_sync(wait_for, job["job_id"], upload_wait())
        return JSONResponse(job_view(job), status_code=200 if job["state"] == "done" else 202,
                            headers={"Location": f"/api/uploads/{job['job_id']}"})

    @app.get("/api/uploads/{job_id}")
    def get_upload(job_id: str, user: dict = Depends(who)):
        job = state.upload(job_id)
        if job is None or not can_see(user, job["school_id"]):
            raise HTTPException(404, "no such upload")
        return job_view(job)

    @app.get("/api/submissions")
    def get_submissions(user: dict = Depends(who)):
        from ims_indicators.submissions import list_submissions

        with warehouse_reader():
            rows = list_submissions(school_id=user["school_id"] if user["role"] == "keyholder" else None)
        return [r for r in rows if can_see(user, r["school_id"])]

    @app.get("/api/submissions/{submission_id}")
    def get_submission(submission_id: str, user: dict = Depends(who)):
        return submission_for(user, submission_id)

    @app.get("/api/submissions/{submission_id}/quarantine")
    def get_quarantine(submission_id: str, user: dict = Depends(who)):
        from ims_indicators.submissions import list_quarantine

        submission_for(user, submission_id)
        with warehouse_reader():
            return list_quarantine(submission_id)

    @app.get("/api/cycle")
    def get_cycle(academic_year: str | None = None, user: dict = Depends(who)):
        from ims_indicators.collection.cycle import cycle_status

        with warehouse_reader():
            return cycle_status([user["school_id"]] if user["role"] == "keyholder" else None,
                                year_param(academic_year) if academic_year else None)

    @app.get("/api/checks")
    def get_checks(academic_year: str, school_id: str | None = None, user: dict = Depends(who)):
        from ims_indicators.collection.checks import evaluate

        with warehouse_reader():
            return evaluate(school_for(user, school_id), year_param(academic_year))

    @app.post("/api/checks/{rule}")
    def post_check_response(rule: str, academic_year: str = Form(...), response: str = Form(...),
                            school_id: str | None = Form(None), user: dict = Depends(who)):
        """Explain (or confirm) one open credibility check of the school's year."""
        return respond(writer(user), rule, academic_year, response, school_id)

    @app.post("/api/signoff")
    def post_signoff(academic_year: str = Form(...), school_id: str | None = Form(None), user: dict = Depends(who)):
        """Sign off and lock the school's year (409 with the reasons while something is missing or open)."""
        return signoff(writer(user), academic_year, school_id)

    @app.post("/api/unlock")
    def post_unlock(school_id: str = Form(...), academic_year: str = Form(...), reason: str = Form(...),
                    user: dict = Depends(who)):
        """Steward only: unlock a signed-off year so that the school can upload again."""
        if user["role"] != "steward":
            raise HTTPException(403, "only a steward can unlock a signed-off year")
        if not state.record_unlock(user, school_id, year_param(academic_year), reason):
            raise HTTPException(404, "that year is not signed off")
        return {"school_id": school_id, "academic_year": year_param(academic_year), "locked": False}

    @app.get("/api/audit")
    def get_audit(user: dict = Depends(who)):
        return state.audit_entries(user["school_id"] if user["role"] == "keyholder" else None)


def respond(user: dict, rule: str, academic_year: str, response: str, school_id: str | None) -> dict:
    from ims_indicators.collection.checks import evaluate

    school, year = school_for(user, school_id), year_param(academic_year)
    if not response.strip():
        raise HTTPException(422, "response: expected an explanation")
    with warehouse_reader():
        found = [c for c in evaluate(school, year) if c["rule"] == rule]
    if not found:
        raise HTTPException(404, f"no check {rule!r} fires for {school} {year}")
    state.record_response(user, school, year, rule, found[0]["severity"], response.strip()[:2000])
    return {**found[0], "status": "resolved", "response": response.strip()[:2000]}


def signoff(user: dict, academic_year: str, school_id: str | None) -> dict:
    from ims_indicators.collection.cycle import SignOffRefused, sign_off

    school, year = school_for(user, school_id), year_param(academic_year)
    try:
        with warehouse_reader():
            sign_off(user, school, year)
    except SignOffRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return {"school_id": school, "academic_year": year, "signed_off": True, "locked": True}
