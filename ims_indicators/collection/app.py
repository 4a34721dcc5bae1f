"""The portal application: the upload worker, security headers, the JSON API and the pages."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from ims_indicators.collection import portal
from ims_indicators.collection.pages import register_pages
from ims_indicators.collection.worker import Worker

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not portal.WORKER.thread.is_alive():
            portal.WORKER = Worker()
            portal.WORKER.start()
        yield
        portal.WORKER.stop()

    app = FastAPI(title="IMS collection portal", lifespan=lifespan,
                  description="Uploads, edit checks, sign-off. Authorization: Bearer TOKEN (`ims token create`).")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        if not request.url.path.startswith(("/docs", "/redoc")):  # FastAPI's docs page loads its own assets
            response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    portal.register_api(app)
    register_pages(app)
    return app
