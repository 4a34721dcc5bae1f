"""Server-rendered pages of the portal (Jinja2): login with a token, the school's page, the steward console.

Sessions are server-side; the browser holds only a random id in an HttpOnly, SameSite=Strict cookie. Every
form carries the session's CSRF token; the login form a double-submit token. Failed logins are rate-limited
per client address. No inline script anywhere (the CSP forbids it).
"""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from ims_indicators import settings
from ims_indicators.collection import portal as api
from ims_indicators.collection import state
from ims_indicators.collection.worker import warehouse_reader
from ims_indicators.contracts import CONTRACTS

ENV = Environment(loader=PackageLoader("ims_indicators.collection"), autoescape=select_autoescape(default=True))
COOKIE = {"httponly": True, "samesite": "strict", "path": "/"}


def render(name: str, request: Request, **context) -> HTMLResponse:
    session = api.SESSIONS.get(request.cookies.get("ims_session", ""))
    context.setdefault("notice", request.query_params.get("notice"))
    return HTMLResponse(ENV.get_template(name).render(
        user=session["who"] if session else None, csrf=session["csrf"] if session else context.pop("csrf", ""),
        **context))


def page_user(request: Request, csrf: str | None = None) -> dict:
    """The session's user; for a form post, its CSRF token must match."""
    session = api.SESSIONS.get(request.cookies.get("ims_session", ""))
    if session is None:
        raise HTTPException(401, "log in first")
    if csrf is not None and not hmac.compare_digest(csrf, session["csrf"]):
        raise HTTPException(403, "the form's CSRF token does not match; reload the page")
    return session["who"]


def back(notice: str, to: str = "/", **params: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"{to}?{urlencode({**params, 'notice': notice})}", status_code=303)


def years() -> list[str]:
    from ims_indicators.collection.calendar import load_calendar

    return sorted(load_calendar())


def current_year() -> str:
    """The latest calendar year whose collection has opened."""
    import datetime as dt

    from ims_indicators.collection.calendar import load_calendar

    opened = [y for y, e in sorted(load_calendar().items()) if e.opens <= dt.date.today()]
    return opened[-1] if opened else (years() or ["2023/24"])[0]


def register_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")

    @app.exception_handler(HTTPException)
    async def html_or_json(request: Request, exc: HTTPException):
        from fastapi.exception_handlers import http_exception_handler

        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return await http_exception_handler(request, exc)
        if exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse(ENV.get_template("base.html").render(title="error", user=None, notice=exc.detail),
                            status_code=exc.status_code)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request):
        token = secrets.token_urlsafe(16)
        res = render("login.html", request, title="log in", csrf=token)
        res.set_cookie("ims_login_csrf", token, **COOKIE)
        return res

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: str = Form(...), csrf: str = Form(...)):
        client = request.client.host if request.client else "?"
        failures = api.FAILED_LOGINS[client]
        while failures and failures[0] < time.monotonic() - api.LOGIN_WINDOW:
            failures.popleft()
        if len(failures) >= api.LOGIN_LIMIT:
            return HTMLResponse("too many failed logins; wait a minute", status_code=429)
        if not hmac.compare_digest(csrf, request.cookies.get("ims_login_csrf", "")):
            raise HTTPException(403, "the login form expired; reload the page")
        user = state.check_token(token.strip())
        if user is None:
            failures.append(time.monotonic())
            return back("that token is not valid", "/login")
        sid = secrets.token_urlsafe(32)
        api.SESSIONS[sid] = {"who": user, "csrf": secrets.token_urlsafe(32)}
        res = RedirectResponse("/", status_code=303)
        res.set_cookie("ims_session", sid, **COOKIE)
        res.delete_cookie("ims_login_csrf", path="/")
        return res

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form(...)):
        page_user(request, csrf)
        api.SESSIONS.pop(request.cookies.get("ims_session", ""), None)
        res = RedirectResponse("/login", status_code=303)
        res.delete_cookie("ims_session", path="/")
        return res

    @app.get("/", include_in_schema=False)
    def home(request: Request, academic_year: str | None = None, dataset: str | None = None, year: str | None = None, rule: str | None = None):
        from ims_indicators.collection.checks import evaluate
        from ims_indicators.collection.cycle import STATES, cycle_status
        from ims_indicators.collection.steward import failures_per_rule, quarantine_overview
        from ims_indicators.submissions import list_submissions

        user = page_user(request)
        datasets = [d for d, c in CONTRACTS.items() if c.per_year]
        if user["role"] != "keyholder":
            filt = {"state": request.query_params.get("state") or None, "dataset": dataset or None,
                    "year": year or None, "rule": rule or None}
            with warehouse_reader():
                cycle = [c for c in cycle_status(None, filt["year"])
                         if (not filt["state"] or c["state"] == filt["state"])
                         and (not filt["dataset"] or c["dataset"] == filt["dataset"])]
                quarantine = quarantine_overview(filt["dataset"], filt["year"], filt["rule"])
            return render("console.html", request, title="steward console", cycle=cycle, f=filt, states=STATES,
                          datasets=datasets, years=years(), late=sum(c["late"] for c in cycle),
                          overrides=[api.override_view(o) for o in state.overrides()
                                     if o["status"] == "requested" or o["job_id"]][-200:],
                          rules=failures_per_rule(quarantine), quarantine=quarantine[:500])
        school = user["school_id"]
        year_ = api.year_param(academic_year) if academic_year else current_year()
        with warehouse_reader():
            cycle = cycle_status([school], year_)
            checks = evaluate(school, year_)
            subs = list_submissions(school_id=school)
        return render("school.html", request, title=school, school=school, year=year_, years=years(),
                      datasets=datasets, cycle=cycle, checks=checks, submissions=subs, can_write=True)

    @app.post("/upload", include_in_schema=False)
    async def upload_form(request: Request, csrf: str = Form(...), file: UploadFile = File(...),
                          dataset: str = Form(...), academic_year: str = Form(...)):
        import anyio

        user = page_user(request, csrf)
        job = await api.store_upload(user, file, dataset, academic_year, None)
        await anyio.to_thread.run_sync(api.wait_for, job["job_id"], settings.upload_wait())
        return RedirectResponse(f"/uploads/{job['job_id']}", status_code=303)

    @app.get("/uploads/{job_id}", include_in_schema=False)
    def upload_page(request: Request, job_id: str):
        user = page_user(request)
        job = state.upload(job_id)
        if job is None or not api.can_see(user, job["school_id"]):
            raise HTTPException(404, "no such upload")
        return render("upload.html", request, title="upload", job=job)

    @app.get("/submissions/{submission_id}", include_in_schema=False)
    def submission_page(request: Request, submission_id: str):
        from ims_indicators.submissions import list_quarantine

        user = page_user(request)
        sub = api.submission_for(user, submission_id)
        with warehouse_reader():
            rows = list_quarantine(submission_id)
        return render("submission.html", request, title="submission", s=sub, quarantine=rows,
                      overrides=[o for o in state.overrides(sub["school_id"]) if o["submission_id"] == submission_id],
                      held_rules=sorted({q["rule"] for q in rows if q["override_id"] is None and q["stage"] != "read"}),
                      can_request=user["role"] != "analyst")

    @app.post("/submissions/{submission_id}/overrides", include_in_schema=False)
    def override_form(request: Request, submission_id: str, csrf: str = Form(...), rule: str = Form(...),
                      source_rows: str = Form(...), justification: str = Form(...)):
        user = page_user(request, csrf)
        to = f"/submissions/{submission_id}"
        try:
            numbers = [int(n) for n in source_rows.replace(";", ",").replace(" ", ",").split(",") if n.strip()]
        except ValueError:
            return back(f"rows {source_rows!r}: expected row numbers such as 3, 7", to)
        try:
            ov = api.request_override(user, submission_id, rule, numbers, justification)
        except HTTPException as exc:
            if exc.status_code not in (409, 422):
                raise
            return back(str(exc.detail), to)
        return back(f"override {ov['override_id']} requested; a steward will decide", to)

    @app.post("/overrides/{override_id}", include_in_schema=False)
    def override_decision_form(request: Request, override_id: str, csrf: str = Form(...),
                               decision: str = Form(...), note: str = Form("")):
        user = page_user(request, csrf)
        if decision not in ("approve", "reject"):
            raise HTTPException(422, "decision: expected approve or reject")
        try:
            api.decide_override(user, override_id, decision == "approve", note)
        except HTTPException as exc:
            if exc.status_code != 409:
                raise
            return back(str(exc.detail))
        return back(f"override {override_id} {decision}d" + (": its rows are being promoted" if decision == "approve"
                                                              else ""))

    @app.post("/checks/{rule}", include_in_schema=False)
    def check_form(request: Request, rule: str, csrf: str = Form(...), academic_year: str = Form(...),
                   response: str = Form(...)):
        api.respond(api.writer(page_user(request, csrf)), rule, academic_year, response, None)
        return back(f"{rule}: thank you, recorded", academic_year=academic_year)

    @app.post("/signoff", include_in_schema=False)
    def signoff_form(request: Request, csrf: str = Form(...), academic_year: str = Form(...)):
        try:
            api.signoff(api.writer(page_user(request, csrf)), academic_year, None)
        except HTTPException as exc:
            if exc.status_code != 409:
                raise
            return back(str(exc.detail), academic_year=academic_year)
        return back(f"{academic_year} signed off and locked", academic_year=academic_year)

    @app.get("/templates/{name}", include_in_schema=False)
    def template_download(request: Request, name: str, academic_year: str | None = None):
        from ims_indicators.collection.templates import TemplateError, xlsx_bytes

        user = page_user(request)
        dataset = name.removesuffix(".xlsx")
        try:
            data = xlsx_bytes(dataset, user["school_id"], academic_year)
        except TemplateError as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{dataset}.xlsx"'})

    @app.get("/gx-docs/{path:path}", include_in_schema=False)
    def gx_docs(request: Request, path: str):
        from ims_indicators.validate.gxrun import data_docs_dir

        user = page_user(request)
        if user["role"] == "keyholder":
            raise HTTPException(404, "not found")
        root = data_docs_dir().resolve()
        target = (root / (path or "index.html")).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404, "no Data Docs yet: run `ims validate`")
        return FileResponse(target)
