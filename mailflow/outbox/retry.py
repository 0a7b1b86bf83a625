"""`mailflow requests retry`: failed requests back to the queue in bulk, after an outage.

A failed row is scheduled again now with its attempts reset and its last error kept until the
next attempt; the Message-ID stays, so a reply to an earlier attempt still matches. One UPDATE,
so re-queuing a thousand rows costs what one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, update

from storage.clock import as_utc, utcnow
from storage.models import SurveyRequest
from storage.states import RequestState

RETRYABLE = (RequestState.FAILED,)


class RetryRefused(ValueError):
    """A state that cannot be retried (str() says which can)."""


def retry_requests(
    engine: Engine,
    *,
    state: str = RequestState.FAILED,
    since: datetime | None = None,
    survey: str | None = None,
    ids: Sequence[int] | None = None,
) -> int:
    """Re-queue every request in `state` (failed) last due at or after `since` (UTC), of one
    survey when given, of these `ids` when given (the admin page's selection); the number
    re-queued."""
    if state not in RETRYABLE:
        known = ", ".join(RETRYABLE)
        raise RetryRefused(f"requests in state '{state}' cannot be retried (only: {known})")
    c = SurveyRequest.__table__.c
    query = update(SurveyRequest.__table__).where(c.state == state)
    if since is not None:
        query = query.where(c.due_at >= as_utc(since))
    if survey is not None:
        query = query.where(c.survey_key == survey)
    if ids is not None:
        query = query.where(c.id.in_(list(ids)))
    now = utcnow()
    with engine.begin() as conn:
        result = conn.execute(
            query.values(
                state=RequestState.SCHEDULED,
                due_at=now,
                attempts=0,
                reason=None,
                lease_owner=None,
                lease_until=None,
            )
        )
    return int(result.rowcount or 0)
