"""The FastAPI application factory; each area adds its routers here."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine

from mailflow.settings import Settings
from mailflow.web.context import WebContext


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    """The web app bound to one settings object and one database."""
    app = FastAPI(
        title="Mailflow",
        docs_url=None,  # Swagger UI loads its scripts from a CDN; /api/openapi.json stays
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_warm_start,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.web = WebContext.build(settings, engine)
    _install_answer_pages(app)
    _install_reports(app)
    _install_escalations(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def home() -> str:
        return (
            "<!doctype html><title>Mailflow</title><h1>Mailflow is running</h1>"
            "<p>Survey links land on /r/…; the dashboard is at /admin.</p>"
        )

    return app


@asynccontextmanager
async def _warm_start(app: FastAPI) -> AsyncIterator[None]:
    """Compile the page templates before the first click, then freeze what start-up built, so
    the garbage collector no longer walks it on every full collection (latency spikes)."""
    app.state.web.pages.compile_all()
    gc.collect()
    gc.freeze()
    yield


def _install_answer_pages(app: FastAPI) -> None:
    """Error pages, rating page, AMP endpoint, unsubscribe, the events API and admin sign-in."""
    from mailflow.web import admin, amp, rating, unsubscribe
    from mailflow.web.api import install_api
    from mailflow.web.auth import install_auth
    from mailflow.web.errors import install_error_handlers
    from mailflow.web.limits import install_limits
    from mailflow.web.strings import register_web_strings

    register_web_strings()
    install_error_handlers(app)
    install_limits(app, app.state.settings)
    install_auth(app)
    install_api(app)
    for module in (rating, amp, unsubscribe, admin):
        app.include_router(module.router)


def _install_reports(app: FastAPI) -> None:
    """The dashboard pages and the JSON report API (mailflow.web.dashboard, api_reports)."""
    from mailflow.web import api_reports, dashboard
    from mailflow.web.dashboard_strings import register_dashboard_strings

    register_dashboard_strings()
    app.include_router(dashboard.router)
    app.include_router(api_reports.router)


def _install_escalations(app: FastAPI) -> None:
    """The escalations admin pages (mailflow.web.escalations)."""
    from mailflow.web import escalations

    app.include_router(escalations.router)
