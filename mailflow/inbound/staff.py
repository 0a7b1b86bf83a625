"""What staff do with stored mail, shared by `mailflow inbound …` and /admin/inbound: read a
message's sender and subject, attach it to a request by hand (recorded through
`record_answer`, like any answer), and dismiss it. Retry and accept are
mailflow.inbound.worker.retry / accept (the CLI's commands call the same functions).

Attaching is staff vouching for the whole match, so no sender proof is needed; an answer the
request cannot take (already answered, expired, no score) keeps the message where it was and
says why."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import parseaddr

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from mailflow.inbound.worker import (
    Outcome,
    RetryRefused,
    _envelope,
    record,
)
from mailflow.settings import Settings
from parsers.refusals import Refusal
from storage.clock import utcnow
from storage.models import InboundMessage, SurveyRequest
from storage.states import InboundStatus

HEAD_BYTES = 8192
# Statuses a person may still act on (parsed mail did its job; received is the worker's).
OPEN_STATUSES = (InboundStatus.QUARANTINED, InboundStatus.UNMATCHED, InboundStatus.IGNORED)
DISMISSED = "dismissed"


def sender_and_subject(head: bytes | None, *, width: int = 80) -> tuple[str, str]:
    """The From address and Subject of a stored message, from its first bytes."""
    if not head:
        return "", ""
    top = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        msg = BytesHeaderParser(policy=default).parsebytes(top)
        sender = parseaddr(str(msg.get("From", "")))[1]
        subject = " ".join(str(msg.get("Subject", "")).split())
    except (ValueError, TypeError, LookupError, IndexError):
        return "", ""
    return sender, subject[:width]


def reason_code(reason: str | None) -> str:
    """The named part of a stored reason ("no_score: …" -> "no_score")."""
    return (reason or "").split(":", 1)[0].strip()


def attach(settings: Settings, engine: Engine, inbound_id: int, request_id: int) -> Outcome:
    """Record a stored message as the answer of `request_id`; RetryRefused when it may not be
    (already an answer, or no such request), else the outcome (parsed, or why not)."""
    from parsers import read_message

    with Session(engine, expire_on_commit=False) as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise RetryRefused(f"no inbound message {inbound_id}")
        if row.status not in OPEN_STATUSES:
            raise RetryRefused(f"message {inbound_id} is {row.status}; it cannot be attached")
        request = session.get(SurveyRequest, request_id)
        if request is None:
            raise RetryRefused(f"no request {request_id}")
        raw, envelope_to, status = bytes(row.raw), _envelope(row.envelope_to), row.status
    msg = read_message(raw, envelope_to=envelope_to)
    with Session(engine, expire_on_commit=False) as session:
        claimed = session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id) == inbound_id, col(InboundMessage.status) == status)
            .values(processed_at=utcnow())
        ).rowcount
        if not claimed:
            raise RetryRefused(f"message {inbound_id} changed meanwhile; look again")
        request = session.get(SurveyRequest, request_id)
        assert request is not None
        try:
            outcome = record(
                session, settings, inbound_id, msg, request, weak=False, how="attached by staff"
            )
        except Refusal as refusal:
            session.rollback()
            return Outcome(status, refusal.stored_reason, msg.kind, request_id)
        session.execute(
            update(InboundMessage)
            .where(col(InboundMessage.id) == inbound_id)
            .values(
                status=outcome.status,
                reason=outcome.reason,
                kind=outcome.kind,
                request_id=request_id,
                processed_at=utcnow(),
            )
        )
        session.commit()
    return outcome


def dismiss(engine: Engine, inbound_id: int, *, by: str) -> bool:
    """Put a message aside (ignored, "dismissed: by WHO"); False when it is not open."""
    with Session(engine) as session:
        changed = session.execute(
            update(InboundMessage)
            .where(
                col(InboundMessage.id) == inbound_id,
                col(InboundMessage.status).in_(
                    [InboundStatus.QUARANTINED, InboundStatus.UNMATCHED]
                ),
            )
            .values(
                status=InboundStatus.IGNORED,
                reason=f"{DISMISSED}: by {by}"[:1000],
                processed_at=utcnow(),
            )
        ).rowcount
        session.commit()
    return bool(changed)
