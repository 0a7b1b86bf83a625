"""The inbound worker: received raw mail -> answer, bounce, unsubscribe, or a named refusal.

Each message is processed in its own transaction, claimed by a conditional UPDATE (status still
`received`), so two workers never handle one message and one bad message never stops the
batch: any refusal or bug ends as a status and a reason on the row. Order of decisions: machine
mail first (auto-replies are ignored; DSNs bound to our messages, by the VERP bounce address
or a quoted Message-ID, mark the request bounced), then unsubscribe addresses, then matching
and recording through mailflow.answers.record_answer.

Parsing, the sender's authentication (DKIM may need DNS) and scoring happen before the
transaction (`prepare`): a read-only look-up finds the request the message would answer, so
its survey's reading is ready; the transaction then only claims, matches and records.

An answer to a request that already has a final answer follows the web rules and is kept as
`quarantined` with reason `already_answered` (visible to an admin, never silently dropped).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from mailflow.answer_reasons import read as read_reasons
from mailflow.answers import Answer, record_answer
from mailflow.contacts import unsubscribe
from mailflow.escalation.resolve import EscalationNotFound
from mailflow.escalation.workspace import client_replied
from mailflow.health import Health
from mailflow.inbound import quarantine as q
from mailflow.inbound.authenticity import DnsFunc, authenticated
from mailflow.inbound.matching import (
    by_message_ids,
    escalation_of,
    find_request,
    sender_candidate,
    unsubscribe_request_id,
)
from mailflow.inbound.quarantine import Unmatched
from mailflow.settings import Settings
from mailflow.tokens import Purpose, Signer, TokenError, signer_for
from parsers.refusals import Refusal, UnreadableMime, refusal_of
from parsers.tokens import bounce_token
from parsers.types import Interpretation, ParsedMessage
from storage.clock import as_utc, utcnow
from storage.models import Contact, InboundMessage, SurveyRequest
from storage.states import InboundStatus, RequestState

log = logging.getLogger(__name__)
SOURCE_OF_KIND = {"google_form": "google_form", "web_form": "web_form"}
REASON_MAX = 1000
ANSWER_KINDS = ("reply", "google_form", "web_form")
STAFF = "accepted by staff"


class RetryRefused(Exception):
    """A message that must not be processed again (it already became an answer)."""


@dataclass
class Outcome:
    """How one message ended: the row's new status, reason, kind and request."""

    status: str
    reason: str | None = None
    kind: str | None = None
    request_id: int | None = None


@dataclass
class Prepared:
    """What is worked out before the transaction: why the sender can be believed (or None),
    and the message read on the survey of the request it most likely answers."""

    sender_proof: str | None = None
    survey_key: str | None = None
    reading: Interpretation | None = None
    bounce_token: str | None = None  # from a bounce+TOKEN@ recipient, not yet verified


BOUNCE_HEADERS = ("Delivered-To", "X-Original-To", "To")


def bounce_token_of(raw: bytes, envelope_to: tuple[str, ...]) -> str | None:
    """The token of the bounce+TOKEN@ address a bounce arrived on: the envelope recipient
    first, then the headers a delivering server writes (IMAP mail has no envelope)."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
    found = [str(v) for name in BOUNCE_HEADERS for v in parsed.get_all(name) or ()]
    return bounce_token([*envelope_to, *found])


def prepare(
    settings: Settings,
    engine: Engine,
    signer: Signer,
    raw: bytes,
    msg: ParsedMessage,
    *,
    dns: DnsFunc | None = None,
    vouched: bool = False,
    envelope_to: tuple[str, ...] = (),
) -> Prepared:
    """Authenticate and interpret outside any transaction (reads only, no locks held)."""
    from parsers import interpret

    prepared = Prepared()
    if msg.kind == "bounce":
        prepared.bounce_token = bounce_token_of(raw, envelope_to)
    if msg.kind not in ANSWER_KINDS or (msg.error and msg.kind == "unknown"):
        return prepared
    if unsubscribe_request_id(signer, msg) is not None:
        return prepared
    with Session(engine) as session:
        if escalation_of(session, signer, msg) is not None:
            return prepared  # an answer to a console reply: nothing to interpret
        try:
            request = find_request(session, signer, msg, allow_sender=False).request
        except Unmatched:
            request = sender_candidate(session, msg)
            if request is not None:
                ids = settings.inbound.trusted_authserv_ids
                prepared.sender_proof = STAFF if vouched else None
                if not vouched:
                    session.close()  # DNS may be slow: hold no connection meanwhile
                    prepared.sender_proof = authenticated(raw, msg, ids, dns=dns)
        survey_key = request.survey_key if request is not None else None
    if survey_key is None:
        return prepared
    try:
        survey = settings.survey(survey_key)
    except KeyError:
        return prepared
    prepared.survey_key, prepared.reading = survey_key, interpret(msg, survey.spec())
    return prepared


def _envelope(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _finish(session: Session, inbound_id: int, outcome: Outcome, *, claimed: bool) -> bool:
    """Write the outcome; unless already claimed, only while the row is still `received`."""
    query = update(InboundMessage).where(InboundMessage.id == inbound_id)
    if not claimed:
        query = query.where(InboundMessage.status == InboundStatus.RECEIVED)
    values = {
        "status": outcome.status,
        "reason": (outcome.reason or None) and outcome.reason[:REASON_MAX],
        "kind": outcome.kind,
        "request_id": outcome.request_id,
        "processed_at": utcnow(),
    }
    return session.exec(query.values(**values)).rowcount == 1  # type: ignore[call-overload]


def _claim(session: Session, inbound_id: int) -> bool:
    """Take the row for this transaction (blocks a concurrent worker until we commit)."""
    query = (
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED)
        .values(processed_at=utcnow())
    )
    return session.exec(query).rowcount == 1  # type: ignore[call-overload]


def process(
    settings: Settings,
    engine: Engine,
    inbound_id: int,
    *,
    signer: Signer | None = None,
    dns: DnsFunc | None = None,
    vouched: bool = False,
) -> Outcome | None:
    """Process one received message; None when it is not (or no longer) `received`.
    `vouched`: staff accepted the sender (mailflow inbound accept)."""
    from parsers import read_message

    signer = signer or signer_for(settings)
    with engine.connect() as connection:
        found = connection.execute(
            select(InboundMessage.raw, InboundMessage.envelope_to).where(  # type: ignore[call-overload]
                InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED
            )
        ).first()
    if found is None or found[0] is None:  # gone, or pruned (never while received)
        return None
    raw = bytes(found[0])
    envelope_to = _envelope(found[1])
    try:
        msg = read_message(raw, envelope_to=envelope_to)
        prepared = prepare(
            settings, engine, signer, raw, msg, dns=dns, vouched=vouched, envelope_to=envelope_to
        )
    except OperationalError:  # the database, not the message: leave it `received`
        raise
    except Exception as exc:  # the parser promises not to raise; if it does, keep the mail
        log.exception("inbound: parser failed on message %s", inbound_id)
        outcome = Outcome(
            InboundStatus.QUARANTINED, f"{UnreadableMime.reason}: parser error: {exc!r}"
        )
        with Session(engine) as session:
            done = _finish(session, inbound_id, outcome, claimed=False)
            session.commit()
        return outcome if done else None
    with Session(engine, expire_on_commit=False) as session:
        if not _claim(session, inbound_id):
            session.rollback()
            return None
        try:
            outcome = handle(session, settings, signer, inbound_id, msg, prepared)
        except Refusal as refusal:
            session.rollback()
            outcome = Outcome(refusal.status, refusal.stored_reason, msg.kind, refusal.request_id)
        except OperationalError:  # the database, not the message: leave it `received`
            session.rollback()
            raise
        except Exception as exc:  # a bug must not stop the batch: keep the message, log it
            log.exception("inbound: message %s failed", inbound_id)
            session.rollback()
            reason = f"{q.InternalError.reason}: {exc.__class__.__name__}: {exc}"
            outcome = Outcome(InboundStatus.QUARANTINED, reason, msg.kind)
        claimed = session.in_transaction()
        if not _finish(session, inbound_id, outcome, claimed=claimed):
            session.rollback()
            return None
        session.commit()
    log.info("inbound %s: %s %s", inbound_id, outcome.status, outcome.reason or "")
    return outcome


def handle(
    session: Session,
    settings: Settings,
    signer: Signer,
    inbound_id: int,
    msg: ParsedMessage,
    prepared: Prepared | None = None,
) -> Outcome:
    """Decide what one parsed message is and do it; what cannot be used raises a Refusal."""
    prepared = prepared or Prepared()
    if msg.error and msg.kind == "unknown":
        raise UnreadableMime(msg.error)
    if msg.kind == "auto_reply":
        return Outcome(
            "ignored", f"auto_reply: {msg.auto_reply_reason or 'auto-submitted'}", "auto_reply"
        )
    if msg.kind == "bounce":
        return handle_bounce(session, settings, signer, msg, prepared.bounce_token)
    unsubscribe_id = unsubscribe_request_id(signer, msg)
    if unsubscribe_id is not None:
        return handle_unsubscribe(session, unsubscribe_id, msg)
    escalation_id = escalation_of(session, signer, msg)
    if escalation_id is not None:
        return handle_escalation_reply(session, settings, inbound_id, escalation_id, msg)
    match = find_request(session, signer, msg, sender_proof=prepared.sender_proof)
    reading = prepared.reading if prepared.survey_key == match.request.survey_key else None
    try:
        return record(
            session, settings, inbound_id, msg, match.request,
            weak=match.weak, how=match.how, reading=reading,
        )  # fmt: skip
    except Refusal as refusal:
        refusal.request_id = match.request.id
        raise


def record(
    session: Session,
    settings: Settings,
    inbound_id: int,
    msg: ParsedMessage,
    request: SurveyRequest,
    *,
    weak: bool,
    how: str,
    reading: Interpretation | None = None,
) -> Outcome:
    """Record the message's reading on the request's survey through record_answer (read
    here only when `prepare` guessed another request, which a race can cause)."""
    from parsers import interpret

    try:
        survey = settings.survey(request.survey_key)
    except KeyError:
        raise q.UnknownSurvey(f"survey '{request.survey_key}' is not configured") from None
    if reading is None:
        reading = interpret(msg, survey.spec())
    if reading.error:
        raise refusal_of(reading.error)
    reasons = read_reasons(survey, reading.score, reading.answers, reading.comment)
    answer = Answer(reading.score, dict(reading.answers), reading.comment, reasons=reasons)
    source = SOURCE_OF_KIND.get(msg.kind, "reply")
    record_answer(  # an AnswerRefused is a Refusal: stored like the others
        session,
        settings,
        request,
        answer,
        source,
        inbound_message_id=inbound_id,
        weak_match=weak,
    )
    return Outcome(InboundStatus.PARSED, f"matched_by: {how}", msg.kind, request.id)


def handle_escalation_reply(
    session: Session, settings: Settings, inbound_id: int, escalation_id: int, msg: ParsedMessage
) -> Outcome:
    """The client answered a manager's console reply: a timeline entry, not a score."""
    try:
        client_replied(
            session,
            settings,
            escalation_id,
            inbound_message_id=inbound_id,
            sender=msg.from_address,
            text=msg.visible_text,
        )
    except EscalationNotFound:
        raise q.UnknownRequest(f"escalation {escalation_id} does not exist") from None
    return Outcome(InboundStatus.PARSED, f"escalation_reply: {escalation_id}", msg.kind)


def handle_unsubscribe(session: Session, request_id: int, msg: ParsedMessage) -> Outcome:
    """Mail to the List-Unsubscribe address: the contact gets no more surveys."""
    request = session.get(SurveyRequest, request_id)
    if request is None:
        raise q.UnknownRequest(f"request {request_id} does not exist")
    contact = session.get(Contact, request.contact_id)
    if contact is not None:
        unsubscribe(session, contact)
    return Outcome(InboundStatus.PARSED, "unsubscribe", msg.kind, request.id)


def bounced_request(
    session: Session, signer: Signer, msg: ParsedMessage, token: str | None
) -> SurveyRequest | None:
    """The request a bounce provably reports on: one of our Message-IDs in the returned
    headers (or the DSN's In-Reply-To/References), else the verified token of the bounce
    address it arrived on. Addresses, and tokens in the returned body, prove nothing."""
    bounce = msg.bounce
    ids = [bounce.original_message_id or ""] if bounce else []
    request = by_message_ids(session, [*ids, msg.in_reply_to or "", *reversed(msg.references)])
    if request is not None or not token:
        return request
    try:
        request_id = signer.verify(token.lower(), Purpose.BOUNCE)
    except TokenError:
        return None
    return session.get(SurveyRequest, request_id)


def handle_bounce(
    session: Session,
    settings: Settings,
    signer: Signer,
    msg: ParsedMessage,
    token: str | None = None,
) -> Outcome:
    """A DSN bound to one of our messages: a permanent failure marks the request bounced
    (webhook request.bounced) and its contact's address bad, so the outbox sends it nothing
    more. Any other bounce is an UnverifiedBounce and changes nothing."""
    bounce = msg.bounce
    if bounce is None:
        return Outcome(
            InboundStatus.IGNORED, "bounce_unreadable: no delivery status found", "bounce"
        )
    detail = " ".join(p for p in (bounce.status, bounce.diagnostic) if p) or "no status"
    request = bounced_request(session, signer, msg, token)
    if not bounce.permanent:
        return Outcome(
            InboundStatus.IGNORED, f"bounce_transient: {detail}", "bounce", request and request.id
        )
    if request is None:
        about = f" for {bounce.recipient}" if bounce.recipient else ""
        raise q.UnverifiedBounce(
            f"{detail}{about}: not on a bounce address of ours and quotes none of our "
            "Message-IDs; nothing changed"
        )
    if request.state in (RequestState.SENT, RequestState.SENDING, RequestState.SCHEDULED):
        request.state, request.reason = RequestState.BOUNCED, f"bounce: {detail}"[:REASON_MAX]
        session.add(request)
        from mailflow.webhooks import request_bounced

        request_bounced(session, settings, request, detail)
    contact = session.get(Contact, request.contact_id)
    if contact is not None:
        contact.bounced_at = contact.bounced_at or utcnow()
        contact.bounce_reason = detail[:REASON_MAX]
        session.add(contact)
    return Outcome(InboundStatus.PARSED, f"bounce_permanent: {detail}", "bounce", request.id)


def received_ids(engine: Engine, limit: int) -> list[int]:
    """The oldest received messages, at most `limit`."""
    query = (
        select(InboundMessage.id)  # type: ignore[call-overload]
        .where(InboundMessage.status == InboundStatus.RECEIVED)
        .order_by(InboundMessage.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def drain(
    settings: Settings,
    engine: Engine,
    *,
    limit: int = 100,
    dns: DnsFunc | None = None,
    health: Health | None = None,
) -> int:
    """Process up to `limit` received messages; the number this call processed (each counted
    in `health`, by outcome, with an answer's time from stored to recorded)."""
    signer = signer_for(settings)
    done = 0
    for inbound_id in received_ids(engine, limit):
        outcome = process(settings, engine, inbound_id, signer=signer, dns=dns)
        if outcome is not None:
            done += 1
            if health is not None:
                _count(engine, health, inbound_id, outcome)
    return done


def _count(engine: Engine, health: Health, inbound_id: int, outcome: Outcome) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            select(InboundMessage.received_at).where(InboundMessage.id == inbound_id)  # type: ignore[call-overload]
        ).scalar()
    waited = (utcnow() - as_utc(stored)).total_seconds() if stored is not None else None
    health.inbound_outcome(outcome.status, outcome.reason, outcome.kind, waited)


def run_until_empty(
    settings: Settings, engine: Engine, *, batch: int = 100, dns: DnsFunc | None = None
) -> int:
    """Drain until nothing is received (tests and `mailflow worker --until-empty`)."""
    total = 0
    while True:
        done = drain(settings, engine, limit=batch, dns=dns)
        total += done
        if done == 0:
            return total


def retry(settings: Settings, engine: Engine, inbound_id: int) -> Outcome | None:
    """Process a stored message again (after a configuration change); not one that answered."""
    with Session(engine) as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise RetryRefused(f"no inbound message {inbound_id}")
        if row.status == InboundStatus.PARSED and row.kind not in ("bounce",):
            raise RetryRefused(f"message {inbound_id} already became an answer; not retried")
        _refuse_pruned(row)
        _reset(session, row)
    return process(settings, engine, inbound_id)


def _refuse_pruned(row: InboundMessage) -> None:
    """A message whose raw bytes were pruned cannot be read again: say so."""
    if row.raw_pruned_at is not None:
        day = row.raw_pruned_at.strftime("%Y-%m-%d")
        raise RetryRefused(
            f"message {row.id}: raw pruned on {day} (inbound.keep_raw_days); "
            "it cannot be processed again"
        )


def _reset(session: Session, row: InboundMessage) -> None:
    row.status, row.reason, row.request_id, row.processed_at = (
        InboundStatus.RECEIVED,
        None,
        None,
        None,
    )
    session.add(row)
    session.commit()


def accept(settings: Settings, engine: Engine, inbound_id: int) -> Outcome | None:
    """Staff vouch for the sender of a quarantined (unverified_sender) or unmatched message:
    it is processed again and may match that sender's newest open request."""
    with Session(engine) as session:
        row = session.get(InboundMessage, inbound_id)
        if row is None:
            raise RetryRefused(f"no inbound message {inbound_id}")
        unverified = row.status == InboundStatus.QUARANTINED and (row.reason or "").startswith(
            q.UnverifiedSender.reason
        )
        unmatched = row.status == InboundStatus.UNMATCHED and row.kind in ANSWER_KINDS
        if not (unverified or unmatched):
            raise RetryRefused(
                f"message {inbound_id} is {row.status} ({row.reason or 'no reason'}); only "
                f"{q.UnverifiedSender.reason} or unmatched answers can be accepted"
            )
        _refuse_pruned(row)
        _reset(session, row)
    return process(settings, engine, inbound_id, vouched=True)
