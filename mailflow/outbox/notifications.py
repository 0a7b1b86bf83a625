"""Notification emails (escalations, follow-ups) through the same outbox as surveys.

Other areas render the whole email themselves and enqueue it here; the worker sends it with
the same lease, retry and backoff rules as survey requests.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailflow.outbox.claim import claim
from mailflow.outbox.outcomes import Job, Recorder
from mailflow.outbox.pipeline import deliver
from mailflow.outbox.worker import Outbox
from mailflow.settings import Settings
from storage.engine import session_scope
from storage.models import Notification


def enqueue_notification(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    eml: bytes,
    message_id: str,
) -> Notification | None:
    """Queue a rendered email; None when one with this dedupe_key exists (unique constraint)."""
    row = Notification(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient=recipient,
        payload={"eml": eml.decode("utf-8", "surrogateescape")},
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _jobs(outbox: Outbox, ids: list[int]) -> list[Job]:
    sender = outbox.settings.brand.sender_email
    with session_scope(outbox.engine) as session:
        rows = session.exec(select(Notification).where(col(Notification.id).in_(ids))).all()
        return [
            Job(
                row_id=row.id,
                attempts=row.attempts,
                sender=sender,
                recipients=[row.recipient],
                raw=str(row.payload.get("eml", "")).encode("utf-8", "surrogateescape"),
            )
            for row in rows
            if row.id is not None
        ]


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
    jobs = _jobs(outbox, ids)
    await deliver(outbox.transport, Recorder(outbox.engine, Notification, out), jobs)
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
