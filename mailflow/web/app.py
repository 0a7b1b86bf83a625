"""The FastAPI application factory; each area adds its routers here."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from mailflow.health import Health
from mailflow.settings import LOGO_TYPES, Settings
from mailflow.survey_store import LiveSurveys, live_for
from mailflow.web.context import WebContext
from mailflow.web.errors import NotFound

DATABASE_TIMEOUT_SECONDS = 5.0
ANSWER_CHANNELS = (("/r/", "link"), ("/amp/", "amp"))


class AnswerLatency:
    """ASGI middleware: an answer POST (rating link, AMP form) answered 200 has been recorded;
    observe the time from its arrival to that answer in mailflow_answer_latency_seconds."""

    def __init__(self, app: Any, health: Health):
        self.app, self.health = app, health

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        channel = next((name for prefix, name in ANSWER_CHANNELS if path.startswith(prefix)), None)
        if scope["type"] != "http" or scope.get("method") != "POST" or channel is None:
            await self.app(scope, receive, send)
            return
        running = asyncio.get_running_loop()
        started = running.time()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                elapsed = running.time() - started
                self.health.answer_latency.labels(channel=channel).observe(elapsed)
            await send(message)

        await self.app(scope, receive, timed)


def create_app(settings: Settings, engine: Engine, *, health: Health | None = None) -> FastAPI:
    """The web app bound to one settings object and one database; `health` is the process's
    (shared with the worker by `mailflow up`), read by /healthz and /metrics."""
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
    app.state.surveys = live_for(settings, engine)  # surveys from the database, kept current
    app.add_middleware(FollowSurveys, live=app.state.surveys)
    _install_answer_pages(app)
    _install_reports(app)
    _install_escalations(app)
    _install_console(app)
    _install_health(app, engine, health or Health())

    @app.get("/brand/logo", include_in_schema=False)
    async def logo() -> FileResponse:
        """The brand's logo from `brand.logo_file`, so pages never load it from another host."""
        path = settings.brand.logo_file
        if not path:
            raise NotFound()
        media_type = LOGO_TYPES[Path(path).suffix.lower()]
        headers = {"Cache-Control": "public, max-age=86400"}
        return FileResponse(path, media_type=media_type, headers=headers)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def home() -> str:
        return (
            "<!doctype html><title>Mailflow</title><h1>Mailflow is running</h1>"
            "<p>Survey links land on /r/…; the dashboard is at /admin.</p>"
        )

    return app


class FollowSurveys:
    """ASGI middleware: before a request, pick up survey versions saved by another process
    (a revision check at most once a second; a plain ASGI wrapper costs next to nothing)."""

    def __init__(self, app: Any, live: LiveSurveys):
        self.app, self.live = app, live

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.live.due():
            await asyncio.to_thread(self.live.refresh)
        await self.app(scope, receive, send)


@asynccontextmanager
async def _warm_start(app: FastAPI) -> AsyncIterator[None]:
    """Compile the page templates before the first click, then freeze what start-up built, so
    the garbage collector no longer walks it on every full collection (latency spikes)."""
    app.state.web.pages.compile_all()
    gc.collect()
    gc.freeze()
    yield


def _install_health(app: FastAPI, engine: Engine, health: Health) -> None:
    """/healthz (the database checked, each component and the relay reported; 503 when the
    database does not answer) and /metrics (Prometheus text: queue depths, sent, failed,
    retried, relay state, restarts)."""
    health.watch_database(engine)
    app.state.health = health

    app.add_middleware(AnswerLatency, health=health)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        database = await _database_check(engine)
        body = {"database": database, **health.snapshot()}
        troubled = health.relay.state == "down" or any(
            c["state"] == "restarting" for c in body["components"].values()
        )
        status = "down" if not database["ok"] else "degraded" if troubled else "ok"
        code = 503 if status == "down" else 200
        return JSONResponse({"status": status, **body}, status_code=code)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        payload = await asyncio.to_thread(generate_latest, health.registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _database_check(engine: Engine) -> dict[str, Any]:
    """{"ok": True} when the database answers a SELECT within the timeout, else why not."""
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, engine), DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {DATABASE_TIMEOUT_SECONDS:.0f} s"}
    except SQLAlchemyError as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    return {"ok": True}


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
    """The manager's console: escalations, inbound mail, requests, contacts and the reasons
    breakdown; and the Telegram webhook route."""
    from mailflow.web import (
        contacts_pages,
        escalations,
        inbound_pages,
        reasons,
        requests_pages,
        telegram,
    )

    for module in (escalations, inbound_pages, requests_pages, contacts_pages, reasons, telegram):
        app.include_router(module.router)


def _install_console(app: FastAPI) -> None:
    """The console: staff (/admin/users), one's account, the top bar's language buttons."""
    from mailflow.web import account, branding, integrations, surveys_admin, users
    from mailflow.web.console_strings import register_console_strings

    register_console_strings()
    app.include_router(users.router)
    app.include_router(account.router)
    app.include_router(surveys_admin.router)
    app.include_router(integrations.router)
    app.include_router(branding.router)
