"""Named refusals of the web app and how each becomes a page or a JSON error.

Pages get a branded page in the client's language; /api and /amp get `{"error": ...}`. No
traceback ever reaches a client: unexpected errors are logged and answered with a 500 page.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailflow.i18n import ui
from mailflow.web.context import web

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api/", "/amp/")


class PageError(Exception):
    """A refusal shown as an error page (or JSON); `locale` is the client's when known."""

    status_code = 400
    title_key = "web_error_title"
    text_key = "web_error"

    def __init__(self, locale: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(self.text_key)
        self.locale, self.headers = locale, headers or {}


class NotFound(PageError):
    """Unknown, tampered or wrong-purpose token, or an unknown page."""

    status_code, title_key, text_key = 404, "web_not_found_title", "web_not_found"


class Gone(PageError):
    """The survey request has expired."""

    status_code, title_key, text_key = 410, "web_expired_title", "web_expired"


class RateLimited(PageError):
    """Too many POSTs from this address in the last minute."""

    status_code, title_key, text_key = 429, "web_rate_limited_title", "web_rate_limited"


class CsrfFailed(PageError):
    """A form without the anti-forgery field this page issued."""

    status_code, title_key, text_key = 403, "web_forbidden_title", "web_forbidden"


class Forbidden(PageError):
    """A signed-in user whose role does not open this page (mailflow.web.navigation)."""

    status_code, title_key, text_key = 403, "web_denied_title", "web_denied"


class PreviewOnly(PageError):
    """A link from a `mailflow preview` email: shown as such, nothing recorded or sent."""

    status_code, title_key, text_key = 200, "web_preview_title", "web_preview"


class TooLarge(PageError):
    """A request body over the route's size limit."""

    status_code, title_key, text_key = 413, "web_too_large_title", "web_too_large"


class ServerError(PageError):
    """Anything unexpected; logged with its traceback, never shown."""

    status_code = 500


def retry_after(wait: float) -> dict[str, str]:
    """The Retry-After header for a wait in seconds."""
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def error_response(request: Request, error: PageError) -> Response:
    """The page (or JSON) for a PageError."""
    context = web(request)
    locale = context.locale_for(request, error.locale)
    if _wants_json(request):
        body = {"error": ui(locale)[error.text_key]}
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)
    return context.pages.render(
        "error.html",
        locale=locale,
        status_code=error.status_code,
        headers=error.headers,
        title_key=error.title_key,
        text_key=error.text_key,
    )


def _field_of(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every refusal into a page or a JSON error."""

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code not in (404, 405):
            detail = exc.detail if isinstance(exc.detail, str) else "error"
            return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)
        error = NotFound()
        error.status_code = exc.status_code
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid"}
        field = _field_of(first.get("loc", ("body",)))
        message = str(first.get("msg", "invalid"))
        if first.get("type") == "missing":
            message = "field required"
        details = [{"field": _field_of(e.get("loc", ())), "message": e.get("msg")} for e in errors]
        return JSONResponse(
            {"error": f"{field}: {message}", "field": field, "errors": details}, status_code=422
        )

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        """A number too big for the database (an id or page in a URL): nothing has it."""
        return error_response(request, NotFound())

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, ServerError())
