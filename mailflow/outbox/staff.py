"""What staff do to single survey requests from /admin/requests, besides resend
(mailflow.outbox.resend) and bulk retry (mailflow.outbox.retry, shared with the CLI): cancel
one that has not gone out, and move one to another time. One conditional UPDATE each, so a
row the worker is sending (leased) is never changed under it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col

from storage.clock import as_utc, utcnow
from storage.models import SurveyRequest
from storage.states import RequestState

CANCELLED = "cancelled by staff"
CANCELLABLE = (RequestState.SCHEDULED, RequestState.FAILED)
RESCHEDULABLE = (RequestState.SCHEDULED, RequestState.FAILED, RequestState.SUPPRESSED)


class RequestActionRefused(ValueError):
    """The request is not in a state this action applies to (str() says why)."""


def _free(now: datetime) -> Any:
    return or_(col(SurveyRequest.lease_until).is_(None), col(SurveyRequest.lease_until) < now)


def cancel_request(session: Session, request_id: int, *, by: str) -> None:
    """A scheduled or failed request will not be sent: suppressed, "cancelled by staff: WHO"."""
    now = utcnow()
    changed = session.execute(
        update(SurveyRequest)
        .where(
            col(SurveyRequest.id) == request_id,
            col(SurveyRequest.state).in_(CANCELLABLE),
            _free(now),
        )
        .values(state=RequestState.SUPPRESSED, reason=f"{CANCELLED}: {by}"[:500])
    ).rowcount
    if not changed:
        raise RequestActionRefused(f"request {request_id} is not waiting to be sent")


def reschedule_request(session: Session, request_id: int, due_at: datetime) -> None:
    """Send it at `due_at` (UTC) instead: back to scheduled, attempts reset."""
    now = utcnow()
    if as_utc(due_at) < now.replace(second=0, microsecond=0):
        raise RequestActionRefused("due: that time has passed")
    changed = session.execute(
        update(SurveyRequest)
        .where(
            col(SurveyRequest.id) == request_id,
            col(SurveyRequest.state).in_(RESCHEDULABLE),
            _free(now),
        )
        .values(
            state=RequestState.SCHEDULED,
            due_at=as_utc(due_at),
            attempts=0,
            reason=None,
            lease_owner=None,
            lease_until=None,
        )
    ).rowcount
    if not changed:
        raise RequestActionRefused(f"request {request_id} was sent already")
