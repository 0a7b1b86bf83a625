"""Sending survey requests: claim a batch, fix Message-IDs, render, send, record.

The order is what makes a crash harmless: the Message-ID is written (and kept in SentMessage)
before anything is sent, and each outcome is committed as soon as the transport answers. A
worker killed mid-batch leaves its rows `sending` under a lease; when the lease runs out
another worker claims them and sends them again with the same Message-ID, so the only possible
duplicate is a message that was in flight at the kill, and it is recognisable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlmodel import Session

from mailflow.health import Health, queue_name
from mailflow.outbox.claim import claim
from mailflow.outbox.outcomes import Job, Recorder
from mailflow.outbox.pipeline import pump
from mailflow.outbox.relay import Relay
from mailflow.outbox.transports import Transport, transport_for
from mailflow.render import Recipient, Renderer, new_message_id
from mailflow.render.envelope import bounce_address, mailbox
from mailflow.settings import Settings
from mailflow.tokens import Purpose
from mailflow.triggers import (
    Bounced,
    Candidate,
    FrequencyCap,
    Unsubscribed,
    recently_sent,
    suppression_reason,
)
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Contact, SentMessage, SurveyRequest, Task
from storage.states import RequestState

log = logging.getLogger(__name__)
SEND_TIME_RULES = (Unsubscribed(), Bounced())  # the cap is checked for the whole batch


def worker_id() -> str:
    """Who holds a lease: host, pid and a random part (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Outbox:
    """What one worker needs to send: settings, database, transport, renderer, and the
    relay's state and the process's health, shared by all its drains."""

    settings: Settings
    engine: Engine
    transport: Transport
    health: Health = field(default_factory=Health)
    renderer: Renderer = field(init=False)
    relay: Relay = field(init=False)

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.settings)
        self.relay = Relay(self.settings.outbound, self.health)

    @classmethod
    def open(
        cls,
        settings: Settings,
        engine: Engine,
        transport: Transport | None = None,
        *,
        health: Health | None = None,
    ) -> Outbox:
        return cls(settings, engine, transport or transport_for(settings), health or Health())

    def recorder(self, model: Any, owner: str) -> Recorder:
        """Outcomes for `model`'s rows claimed by `owner`."""
        return Recorder(
            self.engine,
            model,
            self.settings.outbound,
            owner=owner,
            relay=self.relay,
            health=self.health,
        )

    def envelope_sender(self, request_id: int) -> str:
        """The request's VERP envelope sender (Return-Path) bounce+TOKEN@reply_domain: a
        bounce is believed only when it comes back there or quotes our Message-ID."""
        token = self.renderer.signer.sign(request_id, Purpose.BOUNCE)
        return bounce_address(self.settings, token)

    @staticmethod
    def lease_owner() -> str:
        """A fresh lease owner for one drain: within it, claimed rows waiting in the queue are
        never claimed again; rows a failed drain left behind are, once their lease ends."""
        return worker_id()


def _contact(row: Any) -> Contact:
    """The contact columns of a prepare row, as the suppression rules expect them."""
    return Contact.model_construct(**{name: row[f"contact__{name}"] for name in CONTACT_COLUMNS})


CONTACT_COLUMNS = tuple(Contact.__table__.c.keys())


def _claimed_rows(session: Session, ids: list[int]) -> list[Any]:
    """The claimed requests with their contact and ticket, in due order (one query)."""
    r, t, ct = SurveyRequest.__table__.c, Task.__table__.c, Contact.__table__.c
    query = (
        select(
            r.id,
            r.survey_key,
            r.locale,
            r.attempts,
            r.message_id,
            r.employee_id,
            r.contact_id,
            r.ticket_id,
            t.external_ref.label("ticket_ref"),
            t.title.label("ticket_title"),
            t.employee_id.label("ticket_employee_id"),
            *(ct[name].label(f"contact__{name}") for name in CONTACT_COLUMNS),
        )
        .join_from(SurveyRequest.__table__, Contact.__table__, ct.id == r.contact_id)
        .outerjoin(Task.__table__, t.id == r.ticket_id)
        .where(r.id.in_(ids))
        .order_by(r.due_at, r.id)
    )
    return list(session.connection().execute(query).mappings())


def prepare(outbox: Outbox, ids: list[int], owner: str) -> list[Job]:
    """Check the claimed requests and fix their Message-IDs, committed in one transaction
    (Core statements, one executemany per kind of change); rendering is left to the job, so
    it overlaps the network waits of other sends."""
    settings, jobs = outbox.settings, []
    now = utcnow()
    cap = settings.outbound.cap_days
    stopped: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    fixed: list[dict[str, Any]] = []
    with session_scope(outbox.engine) as session:
        rows = _claimed_rows(session, ids)
        contact_ids = {row["contact_id"] for row in rows}
        capped = (
            recently_sent(session, contact_ids, now - timedelta(days=cap), exclude=ids)
            if cap
            else set()
        )
        for row in rows:
            request_id = row["id"]
            try:
                job = _prepare_row(outbox, session, row, now, cap, capped, stopped, fixed)
            except Exception as exc:  # bad data: this request fails with the reason, not the batch
                log.exception("request %s: cannot prepare", request_id)
                failed.append(
                    {
                        "row": request_id,
                        "why": "cannot prepare the email",
                        "error": f"{exc.__class__.__name__}: {exc}"[:500],
                    }
                )
                continue
            if job is not None:
                jobs.append(job)
        _write_prepared(
            session.connection(), now, owner, stopped=stopped, failed=failed, fixed=fixed
        )
    if failed:
        outbox.health.failed.labels(queue=queue_name(SurveyRequest)).inc(len(failed))
    return jobs


def _prepare_row(
    outbox: Outbox,
    session: Session,
    row: Any,
    now: datetime,
    cap: int,
    capped: set[int],
    stopped: list[dict[str, Any]],
    fixed: list[dict[str, Any]],
) -> Job | None:
    """One claimed request: suppressed (added to `stopped`), or its job with the Message-ID
    fixed (added to `fixed`); raises for bad data, which fails this request alone."""
    settings = outbox.settings
    request_id = row["id"]
    try:
        survey = settings.survey(row["survey_key"])
    except KeyError:
        raise LookupError(f"unknown survey '{row['survey_key']}' (no longer configured)") from None
    contact = _contact(row)
    recipient = mailbox(contact.email)  # an address that cannot be written fails here
    candidate = Candidate(survey=survey, contact=contact, at=now, request_id=request_id)
    reason = suppression_reason(session, settings, candidate, list(SEND_TIME_RULES))
    if reason is None and row["contact_id"] in capped:
        reason = FrequencyCap.reason(cap)
    if reason:
        stopped.append({"row": request_id, "why": reason})
        return None
    if cap:
        capped.add(row["contact_id"])  # one survey per contact per batch, too
    message_id = row["message_id"] or new_message_id(settings.msgid_domain)
    employee_id = row["employee_id"]
    if row["ticket_employee_id"] is not None:
        employee_id = row["ticket_employee_id"]  # rated: the employee at send time
    if message_id != row["message_id"] or employee_id != row["employee_id"]:
        fixed.append(
            {
                "row": request_id,
                "mid": message_id,
                "emp": employee_id,
                "new": message_id != row["message_id"],
            }
        )
    who = Recipient(
        request_id=request_id,
        email=contact.email,
        name=contact.name,
        ticket_ref=row["ticket_ref"],
        ticket_title=row["ticket_title"],
    )
    # Replies go to the signed reply address; bounces to the signed bounce address (VERP).
    reply_to = outbox.renderer.reply_address(request_id)
    return Job(
        row_id=request_id,
        attempts=row["attempts"],
        sender=outbox.envelope_sender(request_id),
        recipients=[recipient],
        contact_id=contact.id,
        expiration_days=survey.expiration_days,
        build=partial(
            outbox.renderer.render,
            survey,
            who,
            locale=row["locale"],
            message_id=message_id,
            reply_to=reply_to,
        ),
    )


def _write_prepared(
    conn: Connection,
    now: datetime,
    owner: str,
    *,
    stopped: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    fixed: list[dict[str, Any]],
) -> None:
    """Suppressed and failed rows leave the outbox; the others keep their Message-ID (also in
    SentMessage, so replies to any of a request's messages match)."""
    table, c = SurveyRequest.__table__, SurveyRequest.__table__.c
    leave = {"lease_owner": None, "lease_until": None, "reason": bindparam("why")}
    # Fenced by the claim: only rows still `sending` under this drain's owner.
    by_id = update(table).where(
        c.id == bindparam("row"), c.state == RequestState.SENDING, c.lease_owner == owner
    )
    if stopped:
        conn.execute(by_id.values(state=RequestState.SUPPRESSED, **leave), stopped)
    if failed:
        conn.execute(
            by_id.values(state=RequestState.FAILED, last_error=bindparam("error"), **leave), failed
        )
    if fixed:
        conn.execute(by_id.values(message_id=bindparam("mid"), employee_id=bindparam("emp")), fixed)
        sent = [
            {"request_id": row["row"], "message_id": row["mid"], "sent_at": now}
            for row in fixed
            if row["new"]
        ]
        if sent:
            conn.execute(insert(SentMessage.__table__), sent)


async def drain_requests(outbox: Outbox, *, limit: int, seconds: float | None = None) -> int:
    """Claim and send due requests, batch after batch, until nothing is due, `limit` rows were
    claimed or `seconds` have passed; the number of rows claimed (0 = nothing due)."""
    out = outbox.settings.outbound
    owner = outbox.lease_owner()
    if outbox.relay.paused():
        return 0

    def next_batch(room: int) -> tuple[int, list[Job]]:
        ids = claim(
            outbox.engine,
            SurveyRequest,
            owner=owner,
            limit=min(room, out.batch_size),
            lease_seconds=out.lease_seconds,
        )
        return len(ids), prepare(outbox, ids, owner) if ids else []

    recorder = outbox.recorder(SurveyRequest, owner)
    return await pump(outbox.transport, recorder, next_batch, limit=limit, seconds=seconds)


def expire(settings: Settings, engine: Engine, *, limit: int) -> int:
    """Sent requests past expires_at become expired; the number changed."""
    now = utcnow()
    c = SurveyRequest.__table__.c
    with engine.begin() as conn:
        pick = (
            select(c.id)
            .where(c.state == RequestState.SENT, c.expires_at < now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        ids = list(conn.execute(pick).scalars())
        if not ids:
            return 0
        result = conn.execute(
            update(SurveyRequest.__table__)
            .where(c.id.in_(ids), c.state == RequestState.SENT)
            .values(state=RequestState.EXPIRED)
        )
        return int(result.rowcount or 0)


def drain(settings: Settings, engine: Engine, *, limit: int) -> int:
    """One batch of survey requests with the configured transport (a drainer for the loop)."""

    async def run() -> int:
        outbox = Outbox.open(settings, engine)
        try:
            return await drain_requests(outbox, limit=limit)
        finally:
            await outbox.transport.close()

    return asyncio.run(run())
