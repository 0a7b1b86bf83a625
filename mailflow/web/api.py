"""The JSON API: POST /api/events with a bearer API key (see mailflow.auth, `mailflow apikey`).

The body is the event JSON of `mailflow event` (mailflow.events.EventIn); a bad body is a 422
`{"error": "contact.email: field required", "field": "contact.email"}` (mailflow.web.errors).
"""

# No `from __future__ import annotations`: FastAPI reads EventIn from the annotation itself.
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mailflow.auth import verify_api_key
from mailflow.events import EventError, EventIn, handle_event
from mailflow.web.context import web
from storage.models import ApiKey

log = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="An API key from `mailflow apikey create`.")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


class Unauthorized(Exception):
    """No API key, or one that is unknown or revoked."""


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
    @router.post("/events", status_code=202)
    async def post_event(
        payload: EventIn,
        request: Request,
        key: ApiKey = Depends(require_api_key),
    ) -> JSONResponse:
        """Take one helpdesk event (ticket closed, status changed…) as `mailflow event` does."""
        settings = web(request).settings
        try:
            result = await web(request).run_db(
                lambda session: handle_event(session, settings, payload)
            )
        except EventError as exc:
            body = {"error": str(exc), "field": exc.field}
            return JSONResponse(body, status_code=422)
        return JSONResponse(_result_body(result), status_code=202)

    return router


def install_api(app: Any) -> None:
    """The API routes and the 401 answer for a missing or bad key."""
    app.include_router(events_router())

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=401, headers=UNAUTHORIZED)
