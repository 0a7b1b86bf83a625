"""The JSON API: POST /api/events with a bearer API key (see mailflow.auth, `mailflow apikey`).

The key (and its scope, events:write) is checked before a byte of the body is read; the body is
capped (web.api_max_bytes, 413) and then parsed as the event JSON of `mailflow event`
(mailflow.events.EventIn); a bad body is a 422
`{"error": "contact.email: field required", "field": "contact.email"}` (mailflow.web.errors).
Every API answer carries Cache-Control: no-store.
"""

# No `from __future__ import annotations`: FastAPI reads EventIn from the annotation itself.
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from mailflow.auth import has_scope, verify_api_key
from mailflow.events import EventError, EventIn, handle_event
from mailflow.web.context import web
from storage.models import ApiKey

log = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="An API key from `mailflow apikey create`.")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
NO_STORE = {"Cache-Control": "no-store"}


class Unauthorized(Exception):
    """No API key, or one that is unknown or revoked."""


class MissingScope(Exception):
    """A valid API key that was not created for this (`mailflow apikey create --scope`)."""


async def require_api_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> ApiKey:
    """The ApiKey row of the request's bearer token; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer API key")
    key = credentials.credentials
    row = await web(request).run_db(lambda session: verify_api_key(session, key))
    if row is None:
        raise Unauthorized("invalid API key")
    return row


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the request's API key, which must have `scope` (403 otherwise)."""

    async def scoped(key: ApiKey = Depends(require_api_key)) -> ApiKey:
        if not has_scope(key, scope):
            raise MissingScope(f"this API key lacks the scope {scope}")
        return key

    return scoped


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its $defs inlined (for the route's documented request body)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(EventIn.model_json_schema())}},
    }
}


def _event(raw: bytes) -> EventIn:
    """The event in a body, or the 422 of mailflow.web.errors naming the field."""
    try:
        return EventIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def _result_body(result: Any) -> dict[str, Any]:
    if result is None:
        return {"status": "accepted"}
    if hasattr(result, "as_dict"):
        return {"status": "accepted", **result.as_dict()}
    encoded = jsonable_encoder(result)
    return encoded if isinstance(encoded, dict) else {"status": "accepted", "result": encoded}


def events_router() -> APIRouter:
    """The /api/events route: mailflow.events' EventIn and handle_event behind an API key."""
    router = APIRouter(prefix="/api", tags=["events"])

    @router.post("/events", status_code=202, openapi_extra=EVENT_BODY)
    async def post_event(
        request: Request, key: ApiKey = Depends(require_scope("events:write"))
    ) -> JSONResponse:
        """Take one helpdesk event (ticket closed, status changed…) as `mailflow event` does."""
        payload = _event(await request.body())  # only now, with the key checked
        settings = web(request).settings
        try:
            result = await web(request).run_db(
                lambda session: handle_event(session, settings, payload)
            )
        except EventError as exc:
            body = {"error": str(exc), "field": exc.field}
            return JSONResponse(body, status_code=422, headers=NO_STORE)
        return JSONResponse(_result_body(result), status_code=202, headers=NO_STORE)

    return router


def install_api(app: Any) -> None:
    """The API routes and the 401 answer for a missing or bad key."""
    app.include_router(events_router())

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc)}, status_code=401, headers={**UNAUTHORIZED, **NO_STORE}
        )

    @app.exception_handler(MissingScope)
    async def _missing_scope(request: Request, exc: MissingScope) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=403, headers=NO_STORE)
