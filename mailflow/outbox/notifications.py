"""Sending notification emails (escalations, follow-ups) through the same outbox as surveys.

Other areas render the whole email (mailflow.render) and queue it (mailflow.notifications);
the worker sends it here with the same lease, retry and backoff rules as survey requests.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from sqlmodel import col, select

from mailflow.outbox.claim import claim
from mailflow.outbox.outcomes import Job
from mailflow.outbox.pipeline import deliver
from mailflow.outbox.worker import Outbox
from mailflow.render.envelope import mailbox
from mailflow.settings import Settings
from storage.engine import session_scope
from storage.models import Notification

log = logging.getLogger(__name__)


def message_of(row: Notification) -> bytes:
    """The bytes a notification sends, as rendered when it was queued."""
    return str(row.payload["eml"]).encode("utf-8", "surrogateescape")


def _jobs(outbox: Outbox, ids: list[int]) -> tuple[list[Job], list[tuple[Job, str]]]:
    """The claimed rows as jobs, and the jobs whose message could not be made (with why)."""
    sender = outbox.settings.brand.sender_email
    jobs, broken = [], []
    with session_scope(outbox.engine) as session:
        rows = session.exec(select(Notification).where(col(Notification.id).in_(ids))).all()
        for row in rows:
            assert row.id is not None
            job = Job(row_id=row.id, attempts=row.attempts, sender=sender, recipients=[])
            try:
                job.recipients = [mailbox(row.recipient)]
                job.raw = message_of(row)
            except Exception as exc:  # bad data (a row written by hand…): fail it, say why
                log.exception("notification %s: cannot make the message", row.id)
                broken.append((job, f"cannot make the message: {exc}"))
            else:
                jobs.append(job)
    return jobs, broken


async def drain_notifications(outbox: Outbox, *, limit: int) -> int:
    """Claim and send one batch of due notifications; the number processed."""
    out = outbox.settings.outbound
    if outbox.relay.paused():
        return 0
    owner = outbox.lease_owner()
    ids = claim(
        outbox.engine,
        Notification,
        owner=owner,
        limit=min(limit, out.batch_size),
        lease_seconds=out.lease_seconds,
    )
    if not ids:
        return 0
    jobs, broken = _jobs(outbox, ids)
    recorder = outbox.recorder(Notification, owner)
    recorder.hold([job.row_id for job, _ in broken])
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
