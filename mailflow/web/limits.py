"""Limits before work: a size cap on every request body, and ids that fit the database.

`BodyLimit` wraps the ASGI `receive` of every request: a Content-Length over the route's cap
(web.api_max_bytes under /api/, web.form_max_bytes elsewhere), or a body that grows past it
while arriving, raises TooLarge the moment a route starts reading, so nothing is parsed and
the client gets 413 (JSON under /api/ and /amp/, the error page elsewhere).

`DbId` and `PageNumber` are the path and query types of numbers that reach SQL: out of range
is a 422 (ids) or the last page, never an OverflowError from the driver.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailflow.reports import ReportInputError
from mailflow.settings import Settings
from mailflow.web.errors import TooLarge

MAX_DB_ID = 2**63 - 1  # the largest BIGINT; SQLite's INTEGER is the same
MAX_PAGE = 1_000_000
DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


def page_number(value: str | None) -> int:
    """A ?page= value as a page from 1 to MAX_PAGE (not a number: 1; too big: the last)."""
    if not value or not value.isdigit():
        return 1
    if len(value) > 7:
        return MAX_PAGE
    return min(max(int(value), 1), MAX_PAGE)


def employee_id_text(value: str | None) -> str | None:
    """A ?employee= value, refused (ReportInputError, a 400) when it is a number no row can
    have, before it reaches SQL."""
    text = (value or "").strip()
    if text.lstrip("+-").isdigit() and not 1 <= int(text) <= MAX_DB_ID:
        raise ReportInputError("employee", f"'{text[:30]}' is not an employee id")
    return value


class BodyLimit:
    """ASGI middleware: no route reads more of a body than its cap."""

    def __init__(self, app: ASGIApp, api_max_bytes: int, form_max_bytes: int):
        self.app, self.api_max, self.form_max = app, api_max_bytes, form_max_bytes

    def cap(self, path: str) -> int:
        return self.api_max if path.startswith("/api/") else self.form_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope.get("path", ""))
        declared = _content_length(scope)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if declared is not None and declared > cap:
                raise TooLarge()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise TooLarge()
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # An unreadable length is treated as too long: nothing is read.
            return int(text) if text.isdigit() and len(text) < 19 else MAX_DB_ID
    return None


_DATA_TYPES = (b"application/json", b"text/csv")


class NoStore:
    """ASGI middleware: every answer under /api/ and every JSON or CSV answer (exports,
    report data) carries Cache-Control: no-store, so no proxy or browser cache keeps it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith("/api/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"cache-control"]
                kind = next((v for k, v in headers if k == b"content-type"), b"")
                if api or kind.startswith(_DATA_TYPES):
                    message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        await self.app(scope, receive, sending)


def install_limits(app: FastAPI, settings: Settings) -> None:
    """The body cap on every route (outermost, before anything reads a byte), and no-store
    on API, JSON and CSV answers."""
    web = settings.web
    app.add_middleware(NoStore)
    app.add_middleware(
        BodyLimit, api_max_bytes=web.api_max_bytes, form_max_bytes=web.form_max_bytes
    )

