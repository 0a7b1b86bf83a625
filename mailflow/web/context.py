"""What every route needs, built once by create_app and held on app.state.web.

Routes get it with `web(request)`. Database work is a plain function of a session: `run_db`
runs it in its own transaction (reads, admin pages), `write` hands it to the group-commit
batcher (the answer and unsubscribe POSTs). Both run inline on SQLite (one writer; a thread hop
costs more than the insert) and in a worker thread elsewhere so a PostgreSQL round trip never
blocks the event loop. Reports (dashboard, report API, export) go through `run_report`: their own
engine (mailflow.database.reporting_engine) and their own few threads, so however many slow
reports are open, the rating links keep their connections and threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from amp_forms.cors import DEFAULT_ALLOWED_ORIGINS
from mailflow.database import reporting_engine
from mailflow.settings import Settings
from mailflow.tokens import Signer, signer_for
from mailflow.web.batcher import WriteBatcher
from mailflow.web.pages import Pages, pick_locale
from mailflow.web.ratelimit import LoginGuard, RateLimiter, SharedRateLimiter, rate_limiter
from storage.engine import session_scope

T = TypeVar("T")


@dataclass
class WebContext:
    """Settings, database, signer, page renderer and the rate limits of one app: `limiter`
    for answers (rating page and AMP), `unsubscribe_limiter`, and `login` for sign-in (the
    first two shared by every process on PostgreSQL)."""

    settings: Settings
    engine: Engine
    signer: Signer
    pages: Pages
    limiter: RateLimiter | SharedRateLimiter
    amp_origins: tuple[str, ...]
    batcher: WriteBatcher
    unsubscribe_limiter: RateLimiter | SharedRateLimiter
    login: LoginGuard
    reports: Engine
    report_threads: anyio.CapacityLimiter

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> WebContext:
        origins = settings.web.amp_allowed_origins or DEFAULT_ALLOWED_ORIGINS
        return cls(
            settings=settings,
            engine=engine,
            signer=signer_for(settings),
            pages=Pages(settings),
            limiter=rate_limiter(engine, "answers", settings.web.rate_limit_per_minute),
            amp_origins=tuple(origins),
            batcher=WriteBatcher(engine),
            unsubscribe_limiter=rate_limiter(
                engine, "unsubscribe", settings.web.unsubscribe_limit_per_minute
            ),
            login=LoginGuard(
                settings.web.login_attempts_per_minute,
                settings.web.login_backoff_seconds,
                settings.web.login_backoff_max_seconds,
            ),
            reports=reporting_engine(settings, engine),
            report_threads=anyio.CapacityLimiter(settings.database.reporting_pool_size),
        )

    async def run_db(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one committed transaction."""

        def scoped() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        if self.engine.dialect.name == "sqlite":
            return scoped()
        return await run_in_threadpool(scoped)

    async def run_report(self, work: Callable[[Session], T]) -> T:
        """Run the read-only `work(session)` on the reporting engine, in one of its threads
        (reports wait for each other there, never for the answers' pool or threads)."""

        def scoped() -> T:
            with Session(self.reports, expire_on_commit=False) as session:
                return work(session)

        return await anyio.to_thread.run_sync(scoped, limiter=self.report_threads)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in its own savepoint of a group-committed transaction."""
        return await self.batcher.run(work)

    def locale_for(self, request: Request, wanted: str | None = None) -> str:
        """The page locale: `wanted` (the survey request's), else the browser's, else default."""
        return pick_locale(self.settings, wanted, request.headers.get("accept-language"))


def web(request: Request) -> WebContext:
    """The WebContext of the app serving `request`."""
    return request.app.state.web


def client_address(request: Request) -> str:
    """The client's address: the peer, or X-Forwarded-For when the peer is one of
    web.trusted_proxies (uvicorn applies it, configured by `forwarded_options`)."""
    return request.client.host if request.client else "unknown"


def forwarded_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.Config arguments so X-Forwarded-* are believed only from web.trusted_proxies
    (uvicorn's own default trusts 127.0.0.1, letting a local client name any address)."""
    proxies = list(settings.web.trusted_proxies)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}
