"""The portal (FastAPI): the JSON API under ``/api/`` (Bearer tokens) and server-rendered pages (session cookie).

Every rule it applies lives elsewhere: ingest in ``ingest_paths`` (through the worker), checks in
``checks.yaml``, the calendar in ``catalogue/collection.yaml``, state and audit in ``state``.
A keyholder sees only their school: anything of another school answers 404, as if it did not exist.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ims_indicators import settings
from ims_indicators.collection import state
from ims_indicators.collection.worker import Worker, warehouse_reader
from ims_indicators.contracts import CONTRACTS, SLUG, canonical_year
from ims_indicators.ingest.stage import DATA_SUFFIXES

CHUNK = 1024 * 1024


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
    size, limit = 0, settings.max_upload_bytes()
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
    """The job once done, or as it stands after ``seconds``; at once while another process writes the warehouse
    (an `ims ingest`, a scheduled run): the upload waits behind that, not the request."""
    from ims_indicators.lock import other_writer

    deadline = time.monotonic() + seconds
    job = state.upload(job_id)
    while job["state"] != "done" and time.monotonic() < deadline:
        if other_writer() is not None:
            break
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


class OverrideRequest(BaseModel):
    rule: str = Field(description="The fatal rule that holds the rows back (as listed in the quarantine).")
    source_rows: list[int] = Field(description="Row numbers in the file as sent (as listed in the quarantine).")
    justification: str = Field(description="Why the values are right despite the rule.")


class OverrideDecision(BaseModel):
    note: str = Field("", description="The steward's note to the school.")


def request_override(user: dict, submission_id: str, rule: str, source_rows: list[int], justification: str) -> dict:
    from ims_indicators.collection.overrides import OverrideRefused, check_request
    from ims_indicators.warehouse import open_warehouse

    writer(user)
    sub = submission_for(user, submission_id)
    if not justification.strip():
        raise HTTPException(422, "justification: expected why the values are right despite the rule")
    if state.signed_off(sub["school_id"], sub["academic_year"]):
        raise HTTPException(409, f"{sub['school_id']} {sub['academic_year']} is signed off and locked; a steward "
                                 "must unlock it first")
    rows_ = sorted(set(source_rows))
    try:
        with warehouse_reader(), open_warehouse(read_only=True) as con:
            check_request(con, sub, rule, rows_)
    except OverrideRefused as exc:
        raise HTTPException(422, str(exc)) from None
    return override_view(state.record_override_request(user, sub, rule, rows_, justification.strip()[:2000]))


def decide_override(user: dict, override_id: str, approve: bool, note: str) -> dict:
    if user["role"] != "steward":
        raise HTTPException(403, "only a steward can approve or reject an override")
    ov = state.override(override_id)
    if ov is None:
        raise HTTPException(404, "no such override")
    decided = state.record_override_decision(user, override_id, approve, note.strip()[:2000])
    if decided is None:
        raise HTTPException(409, f"override {override_id} is already {ov['status']}")
    WORKER.wake.set()
    return decided


def override_view(ov: dict) -> dict:
    """An override with its promotion (the queued job's state and outcome) once approved."""
    job = state.upload(ov["job_id"]) if ov.get("job_id") else None
    promotion = {k: job[k] for k in ("state", "finished_at", "outcome")} if job else None
    return {**ov, "promotion": promotion, "status_url": f"/api/overrides/{ov['override_id']}"}


def register_api(app: FastAPI) -> None:
    """The JSON API under /api/ (Bearer tokens)."""

    @app.post("/api/submissions", status_code=200)
    async def post_submission(file: UploadFile = File(...), dataset: str = Form(...),
                              academic_year: str = Form(...), school_id: str | None = Form(None),
                              user: dict = Depends(who)):
        """Upload one file: the same outcome as `ims ingest` (200), or 202 with a status URL while queued."""
        job = await store_upload(user, file, dataset, academic_year, school_id)
        import anyio

        job = await anyio.to_thread.run_sync(wait_for, job["job_id"], settings.upload_wait())
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

    @app.post("/api/submissions/{submission_id}/overrides", status_code=201)
    def post_override(submission_id: str, body: OverrideRequest, user: dict = Depends(who)):
        """Request an override of a fatal rule for named quarantined rows of the submission (a steward decides)."""
        return request_override(user, submission_id, body.rule, body.source_rows, body.justification)

    @app.get("/api/overrides")
    def get_overrides(status: str | None = None, user: dict = Depends(who)):
        """Override requests (a keyholder's own school's; all for stewards and analysts)."""
        return [override_view(o) for o in state.overrides(
            user["school_id"] if user["role"] == "keyholder" else None, status)]

    @app.get("/api/overrides/{override_id}")
    def get_override(override_id: str, user: dict = Depends(who)):
        ov = state.override(override_id)
        if ov is None or not can_see(user, ov["school_id"]):
            raise HTTPException(404, "no such override")
        return override_view(ov)

    @app.post("/api/overrides/{override_id}/approve")
    def approve_override(override_id: str, body: OverrideDecision, user: dict = Depends(who)):
        """Steward only: approve; the rows are promoted to curated by the queue (see ``promotion``)."""
        return override_view(decide_override(user, override_id, True, body.note))

    @app.post("/api/overrides/{override_id}/reject")
    def reject_override(override_id: str, body: OverrideDecision, user: dict = Depends(who)):
        """Steward only: reject; the rows stay quarantined."""
        return override_view(decide_override(user, override_id, False, body.note))

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
