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

    app = FastAPI(title="IMS collection portal", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Uploads, edit checks, overrides, sign-off. Authorization: Bearer TOKEN "
                              "(`ims token create`).")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    portal.register_api(app)
    register_pages(app)
    register_docs(app)
    return app


def register_docs(app: FastAPI) -> None:
    """The OpenAPI page (Swagger UI 5) from the assets the fastapi-offline package ships: no CDN, works offline,
    and no inline script (its start-up is /static/api-docs.js), so the portal's CSP holds here too."""
    from importlib.resources import files

    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{app.title} · API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css"><link rel="icon" href="/docs-assets/favicon.png"></head>
<body><div id="swagger-ui" data-openapi="{app.openapi_url}"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script><script src="/static/api-docs.js"></script></body></html>""")
