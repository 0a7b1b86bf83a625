"""Finding the survey request a message answers, strongest evidence first.

1. the plus-token in a recipient address (Purpose.REPLY),
2. In-Reply-To / References against our Message-IDs (SurveyRequest + every SentMessage),
3. a token in the body: our links (LINK, AMP), a prefilled Google Form field, a "Ref:" line,
4. last, the sender's address to that contact's newest open request (a weak match), and only
   for a message authenticated for its From domain (`sender_proof`, see
   mailflow.inbound.authenticity) and not machine mail (`msg.sender_refused`: list mail, spam
   flags, no-reply senders). An unproven sender match is an UnverifiedSender refusal that
   names the request, so staff can accept it; nothing is invented as the client's answer.

Tokens are verified with mailflow.tokens; a token that fails verification is never trusted,
and when every piece of evidence fails the named refusal says what was wrong.

Before any of that, `escalation_of` recognises a client's answer to a manager's reply from the
console (mailflow.escalation.workspace.reply_to_client): the recipient plus-token of
Purpose.ESCALATION (it names the escalation, not a request), else an In-Reply-To/References
naming one of those replies' Message-IDs. Such mail joins that escalation's timeline and is
never read as a new score, although its References also name the survey.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from mailflow.inbound.quarantine import (
    BadToken,
    NoRequestToken,
    UnknownRequest,
    Unmatched,
    UnverifiedSender,
)
from mailflow.tokens import Purpose, Signer, TokenError
from parsers.types import ParsedMessage
from storage.clock import as_utc, utcnow
from storage.models import Contact, EscalationEvent, SentMessage, SurveyRequest
from storage.states import RequestState

# Any verified token identifies its request; only UNSUBSCRIBE mail *acts* on its purpose.
BODY_PURPOSES = (Purpose.LINK, Purpose.AMP, Purpose.REPLY, Purpose.UNSUBSCRIBE)


@dataclass(frozen=True)
class Match:
    """The request a message answers and how we know (`how` is stored in logs and reasons)."""

    request: SurveyRequest
    how: str  # plus_token | in_reply_to | body_token | sender
    weak: bool = False


def verify_any(signer: Signer, token: str, purposes: tuple[Purpose, ...]) -> int:
    """The request id of a token valid for any of `purposes`; the last TokenError otherwise."""
    last: TokenError | None = None
    for purpose in purposes:
        try:
            return signer.verify(token, purpose)
        except TokenError as exc:
            last = exc
    assert last is not None
    raise last


def unsubscribe_request_id(signer: Signer, msg: ParsedMessage) -> int | None:
    """The request id when the recipient plus-token is an unsubscribe token, else None."""
    if not msg.recipient_token:
        return None
    try:
        return signer.verify(msg.recipient_token.lower(), Purpose.UNSUBSCRIBE)
    except TokenError:
        return None


def escalation_of(session: Session, signer: Signer, msg: ParsedMessage) -> int | None:
    """The escalation whose console reply `msg` answers, or None (then it is survey mail)."""
    if msg.recipient_token:
        try:
            return signer.verify(msg.recipient_token.lower(), Purpose.ESCALATION)
        except TokenError:
            pass  # another purpose (REPLY, UNSUBSCRIBE) or not ours: find_request decides
    wanted = [m.strip() for m in [msg.in_reply_to or "", *msg.references] if m and m.strip()]
    if not wanted:
        return None
    return session.exec(
        select(EscalationEvent.escalation_id).where(
            col(EscalationEvent.message_id).in_(wanted), EscalationEvent.kind == "reply_sent"
        )
    ).first()


def _request(session: Session, request_id: int) -> SurveyRequest:
    request = session.get(SurveyRequest, request_id)
    if request is None:
        raise UnknownRequest(f"request {request_id} does not exist")
    return request


def by_message_ids(session: Session, message_ids: list[str]) -> SurveyRequest | None:
    """The request one of our Message-IDs belongs to (the nearest reference first)."""
    wanted = [m.strip() for m in message_ids if m and m.strip()]
    if not wanted:
        return None
    requests = session.exec(
        select(SurveyRequest).where(col(SurveyRequest.message_id).in_(wanted))
    ).all()
    sent = session.exec(select(SentMessage).where(col(SentMessage.message_id).in_(wanted))).all()
    by_id: dict[str, int] = {s.message_id: s.request_id for s in sent}
    by_id.update({r.message_id: r.id for r in requests if r.message_id and r.id})
    for message_id in wanted:
        if message_id in by_id:
            return session.get(SurveyRequest, by_id[message_id])
    return None


def newest_open_request(session: Session, address: str) -> SurveyRequest | None:
    """The sender's newest sent, unexpired request: the weakest evidence we accept."""
    contact = session.exec(
        select(Contact).where(func.lower(Contact.email) == address.strip().lower())
    ).first()
    if contact is None:
        return None
    now = utcnow()
    query = (
        select(SurveyRequest)
        .where(SurveyRequest.contact_id == contact.id, SurveyRequest.state == RequestState.SENT)
        .where(or_(col(SurveyRequest.expires_at).is_(None), col(SurveyRequest.expires_at) > now))
        .order_by(col(SurveyRequest.sent_at).desc(), col(SurveyRequest.id).desc())
    )
    for request in session.exec(query).all():
        if request.expires_at is None or as_utc(request.expires_at) > now:
            return request
    return None


def find_request(
    session: Session,
    signer: Signer,
    msg: ParsedMessage,
    *,
    allow_sender: bool = True,
    sender_proof: str | None = None,
) -> Match:
    """The request `msg` answers, or an Unmatched subclass / UnverifiedSender naming what
    failed. `sender_proof` says why the From address can be believed (None: it cannot)."""
    failures: list[str] = []
    if msg.recipient_token:
        try:
            request_id = signer.verify(msg.recipient_token.lower(), Purpose.REPLY)
            return Match(_request(session, request_id), "plus_token")
        except TokenError as exc:
            failures.append(f"recipient token: {exc}")
    request = by_message_ids(session, [msg.in_reply_to or "", *reversed(msg.references)])
    if request is not None:
        return Match(request, "in_reply_to")
    for token in msg.body_tokens:
        try:
            request_id = verify_any(signer, token.lower(), BODY_PURPOSES)
        except TokenError as exc:
            failures.append(f"body token: {exc}")
            continue
        return Match(_request(session, request_id), "body_token")
    note = ""
    if allow_sender and msg.from_address and msg.sender_refused:
        note = f"; sender not used: {msg.sender_refused}"
    elif allow_sender and msg.from_address:
        request = newest_open_request(session, msg.from_address)
        if request is not None and sender_proof:
            return Match(request, f"sender ({sender_proof})", weak=True)
        if request is not None:
            refusal = UnverifiedSender(
                f"{msg.from_address} has open request {request.id}, but no token, no thread, "
                "and nothing proves the sender (no aligned DKIM, no trusted "
                "Authentication-Results)"
            )
            refusal.request_id = request.id
            raise refusal
    if failures:
        raise BadToken("; ".join(failures) + note)
    if note:
        raise NoRequestToken(f"no token, no known In-Reply-To{note}")
    raise NoRequestToken("no token, no known In-Reply-To, no open request for the sender")


def sender_candidate(session: Session, msg: ParsedMessage) -> SurveyRequest | None:
    """The open request a sender-only match would use (None for machine mail)."""
    if not msg.from_address or msg.sender_refused:
        return None
    return newest_open_request(session, msg.from_address)


__all__ = [
    "Match",
    "Unmatched",
    "escalation_of",
    "find_request",
    "newest_open_request",
    "sender_candidate",
    "unsubscribe_request_id",
]
