"""The queue of emails other than surveys: a notice is rendered, then queued here as a row.

Queuing is one INSERT … ON CONFLICT DO NOTHING on a dedupe key, so it can run inside an
answer's transaction (follow-ups) or a filing batch (escalations) and a repeat is a no-op.
The outbox worker sends the rows (mailflow.outbox.notifications).
"""

from __future__ import annotations

from sqlmodel import Session

from mailflow import answer_sql
from storage.clock import utcnow
from storage.models import Notification
from storage.states import RequestState


def enqueue_notification(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    message_id: str,
    eml: bytes,
) -> Notification | None:
    """Queue a rendered email; None when one with this dedupe_key exists already.

    No savepoint and no unit of work; the Notification returned is a snapshot of the row. The
    Message-ID is fixed here, before any attempt.
    """
    payload = {"eml": eml.decode("utf-8", "surrogateescape")}
    now = utcnow()
    values: dict[str, object] = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "recipient": recipient,
        "payload": payload,
        "state": RequestState.SCHEDULED,
        "due_at": now,
        "message_id": message_id,
        "attempts": 0,
        "created_at": now,
    }
    statement = answer_sql.for_session(session).insert_notification
    new_id = session.connection().execute(statement, values).scalar()
    return None if new_id is None else Notification(id=new_id, **values)
