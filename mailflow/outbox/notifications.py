"""Notification emails (escalations, follow-ups) through the same outbox as surveys.

Other areas render the whole email themselves and enqueue it here; the worker sends it with
the same lease, retry and backoff rules as survey requests.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from mailflow import answer_sql
from mailflow.outbox.claim import claim
from mailflow.outbox.outcomes import Job, Recorder
from mailflow.outbox.pipeline import deliver
from mailflow.outbox.worker import Outbox
from mailflow.settings import Settings
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Notification

log = logging.getLogger(__name__)


def enqueue_notification(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    message_id: str,
    eml: bytes | None = None,
    render: dict[str, Any] | None = None,
) -> Notification | None:
    """Queue an email, rendered (`eml`) or to be rendered when sent (`render`: what the
    renderer needs, see `message_of`); None when one with this dedupe_key exists.

    One INSERT … ON CONFLICT DO NOTHING (escalations enqueue inside the answer's transaction,
    so no savepoint and no unit of work); the Notification returned is a snapshot of the row.
    The Message-ID is fixed here, before any attempt, whichever way the message is made.
    """
    if (eml is None) == (render is None):
        raise ValueError("give exactly one of eml and render")
    payload: dict[str, Any] = (
        {"eml": eml.decode("utf-8", "surrogateescape")} if eml is not None else {"render": render}
    )
    now = utcnow()
    values: dict[str, object] = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "recipient": recipient,
        "payload": payload,
        "state": "scheduled",
        "due_at": now,
        "message_id": message_id,
        "attempts": 0,
        "created_at": now,
    }
    statement = answer_sql.for_session(session).insert_notification
    new_id = session.connection().execute(statement, values).scalar()
    return None if new_id is None else Notification(id=new_id, **values)


def message_of(session: Session, settings: Settings, row: Notification) -> bytes:
    """The bytes a notification sends: stored, or rendered now from what the row names.

    Escalation emails are rendered here, by the worker, so that a negative answer's own
    transaction only records that the email is due (rendering costs more than the answer).
    """
    if "eml" in row.payload:
        return str(row.payload["eml"]).encode("utf-8", "surrogateescape")
    render = row.payload.get("render") or {}
    if row.kind == "escalation":
        from mailflow.escalation.mail import queued_escalation_email

        return queued_escalation_email(session, settings, render, row.message_id or "")
    raise ValueError(f"notification {row.id}: nothing to send (kind {row.kind!r})")


def _jobs(outbox: Outbox, ids: list[int]) -> tuple[list[Job], list[tuple[Job, str]]]:
    """The claimed rows as jobs, and the jobs whose message could not be made (with why)."""
    sender = outbox.settings.brand.sender_email
    jobs, broken = [], []
    with session_scope(outbox.engine) as session:
        rows = session.exec(select(Notification).where(col(Notification.id).in_(ids))).all()
        for row in rows:
            assert row.id is not None
            job = Job(
                row_id=row.id, attempts=row.attempts, sender=sender, recipients=[row.recipient]
            )
            try:
                job.raw = message_of(session, outbox.settings, row)
            except Exception as exc:  # a config change can orphan a queued email: fail it
                log.exception("notification %s: cannot make the message", row.id)
                broken.append((job, f"cannot make the message: {exc}"))
            else:
                jobs.append(job)
    return jobs, broken


async def drain_notifications(outbox: Outbox, *, limit: int) -> int:
    """Claim and send one batch of due notifications; the number processed."""
    out = outbox.settings.outbound
    ids = claim(
        outbox.engine,
        Notification,
        owner=outbox.lease_owner(),
        limit=min(limit, out.batch_size),
        lease_seconds=out.lease_seconds,
    )
    if not ids:
        return 0
    jobs, broken = _jobs(outbox, ids)
    recorder = Recorder(outbox.engine, Notification, out)
    for job, error in broken:
        recorder.failed(job, error)
    await deliver(outbox.transport, recorder, jobs)
    return len(ids)


def drain(settings: Settings, engine: Engine, *, limit: int) -> int:
    """One batch of notifications with the configured transport (a drainer for the loop)."""

    async def run() -> int:
        outbox = Outbox.open(settings, engine)
        try:
            return await drain_notifications(outbox, limit=limit)
        finally:
            await outbox.transport.close()

    return asyncio.run(run())
