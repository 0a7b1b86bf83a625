"""The escalation console's actions: assign, internal comment, reply to the client, resolve,
reopen, and the client's answer to a reply. Each one is an EscalationEvent on the timeline and
an `escalation.updated` webhook (data.action names it), in the caller's transaction.

Who did it is a staff username (`by`); "mine" is Escalation.assignee_user_id = the signed-in
user's id. Emails go through the notifications queue (a dedupe key per event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from mailflow import webhooks
from mailflow.escalation import console_mail
from mailflow.escalation.resolve import (
    AlreadyResolved,
    EmptyNote,
    EscalationNotFound,
    EscalationRefused,
    resolve,
)
from mailflow.notifications import enqueue_notification
from mailflow.settings import Settings
from storage.clock import as_utc, utcnow
from storage.models import (
    Contact,
    Employee,
    Escalation,
    EscalationEvent,
    Response,
    SentMessage,
    SurveyRequest,
    Task,
    User,
)
from storage.states import EscalationStatus

TEXT_MAX = 8000
KINDS = (
    "created",
    "assigned",
    "comment",
    "reply_sent",
    "client_reply",
    "resolved",
    "reopened",
    "reminded",
)


class NotOpen(EscalationRefused):
    """The action needs an open escalation."""


class AlreadyOpen(EscalationRefused):
    """Reopening an escalation that is open."""


class UnknownUser(EscalationRefused):
    """Assigning to someone who is not an active staff user."""


class NoClientEmail(EscalationRefused):
    """Replying to a client without an address."""


__all__ = [
    "AlreadyOpen",
    "AlreadyResolved",
    "EmptyNote",
    "EscalationNotFound",
    "NoClientEmail",
    "NotOpen",
    "UnknownUser",
]


def _text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise EmptyNote("text: required")
    return text[:TEXT_MAX]


def _get(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    return escalation


def add_event(
    session: Session,
    settings: Settings,
    escalation_id: int,
    kind: str,
    actor: str,
    *,
    body: str | None = None,
    detail: str | None = None,
    message_id: str | None = None,
    inbound_message_id: int | None = None,
) -> EscalationEvent:
    """One timeline entry and its `escalation.updated` webhook."""
    assert kind in KINDS, kind
    event = EscalationEvent(
        escalation_id=escalation_id,
        kind=kind,
        actor=actor[:200],
        body=body,
        detail=(detail or None) and detail[:320],
        message_id=message_id,
        inbound_message_id=inbound_message_id,
    )
    session.add(event)
    session.flush()
    webhooks.emit(
        session,
        settings,
        "escalation.updated",
        f"{escalation_id}:{event.id}",
        {
            "escalation_id": escalation_id,
            "action": kind,
            "by": event.actor,
            "text": body,
            "detail": event.detail,
            "at": as_utc(event.created_at).isoformat(),
        },
    )
    return event


def timeline(session: Session, escalation_id: int) -> list[EscalationEvent]:
    """The escalation's events, oldest first."""
    query = (
        select(EscalationEvent)
        .where(EscalationEvent.escalation_id == escalation_id)
        .order_by(col(EscalationEvent.created_at), col(EscalationEvent.id))
    )
    return list(session.exec(query))


def staff_name(session: Session, user: User) -> str:
    """How a user is named on the timeline: the employee's name, else the username."""
    employee = session.get(Employee, user.employee_id) if user.employee_id else None
    return employee.name if employee and employee.name else user.username


def assignable_users(session: Session) -> list[tuple[User, str]]:
    """Active staff users with their display name (managers and agents alike)."""
    users = session.exec(
        select(User).where(col(User.disabled_at).is_(None)).order_by(col(User.username))
    )
    return [(u, staff_name(session, u)) for u in users]


def assign(
    session: Session, settings: Settings, escalation_id: int, user_id: int, *, by: str
) -> Escalation:
    """Give the escalation to a staff user; they get an email when they have an address."""
    escalation = _get(session, escalation_id)
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        raise UnknownUser(f"assignee: no active user {user_id}")
    escalation.assignee_user_id = user.id
    escalation.reminded_at = None  # a new owner gets the overdue reminder again
    session.add(escalation)
    name = staff_name(session, user)
    event = add_event(session, settings, escalation_id, "assigned", by, detail=name)
    employee = session.get(Employee, user.employee_id) if user.employee_id else None
    if employee is not None and employee.email:
        client = _client_label(session, escalation)
        mail = console_mail.staff_notice(
            settings,
            kind="assigned",
            escalation_id=escalation_id,
            to=employee.email,
            to_name=employee.name,
            locale=user.locale,
            values={"who": by, "client": client},
        )
        enqueue_notification(
            session,
            kind="escalation.assigned",
            dedupe_key=f"escalation-assigned:{event.id}",
            recipient=mail.recipient,
            message_id=mail.message_id,
            eml=mail.eml,
        )
    return escalation


def comment(
    session: Session, settings: Settings, escalation_id: int, text: str, *, by: str
) -> EscalationEvent:
    """An internal note on the timeline (never sent to the client)."""
    _get(session, escalation_id)
    return add_event(session, settings, escalation_id, "comment", by, body=_text(text))


def _request_of(session: Session, escalation: Escalation) -> SurveyRequest:
    response = session.get(Response, escalation.response_id)
    request = session.get(SurveyRequest, response.request_id) if response else None
    if request is None:  # foreign keys: cannot happen
        raise EscalationNotFound(f"escalation {escalation.id} has no request")
    return request


def _client_label(session: Session, escalation: Escalation) -> str:
    contact = session.get(Contact, _request_of(session, escalation).contact_id)
    if contact is None:
        return "—"
    return f"{contact.name} <{contact.email}>" if contact.name else contact.email


def thread_ids(session: Session, escalation: Escalation, request: SurveyRequest) -> list[str]:
    """Our Message-IDs in the client's thread, oldest first: the survey, then our replies."""
    ids = [request.message_id] if request.message_id else []
    sent = session.exec(
        select(SentMessage.message_id)
        .where(SentMessage.request_id == request.id)
        .order_by(col(SentMessage.sent_at))
    )
    ids += [m for m in sent if m not in ids]
    replies = session.exec(
        select(EscalationEvent.message_id)
        .where(
            EscalationEvent.escalation_id == escalation.id,
            EscalationEvent.kind == "reply_sent",
        )
        .order_by(col(EscalationEvent.id))
    )
    ids += [m for m in replies if m and m not in ids]
    return ids


def reply_to_client(
    session: Session, settings: Settings, escalation_id: int, text: str, *, by: str, signature: str
) -> EscalationEvent:
    """Email the client in the survey's thread; their answer comes back to this escalation."""
    escalation = _get(session, escalation_id)
    if escalation.status != EscalationStatus.OPEN:
        raise NotOpen(f"escalation {escalation_id} is resolved")
    body = _text(text)
    request = _request_of(session, escalation)
    contact = session.get(Contact, request.contact_id)
    if contact is None or not contact.email:
        raise NoClientEmail("the client has no email address")
    locale = request.locale if request.locale in settings.locales else settings.default_locale
    try:
        survey = settings.survey(request.survey_key)
        texts = survey.texts.get(locale) or next(iter(survey.texts.values()))
        subject = texts.subject or f"{settings.brand.company}: {texts.title}"
    except KeyError:
        subject = settings.brand.company
    mail = console_mail.client_reply(
        settings,
        escalation_id=escalation_id,
        to=contact.email,
        to_name=contact.name,
        locale=locale,
        subject=f"Re: {subject}",
        text=body,
        signature=signature,
        thread=thread_ids(session, escalation, request),
    )
    event = add_event(
        session, settings, escalation_id, "reply_sent", by, body=body, message_id=mail.message_id
    )
    enqueue_notification(
        session,
        kind="escalation.reply",
        dedupe_key=f"escalation-reply:{event.id}",
        recipient=mail.recipient,
        message_id=mail.message_id,
        eml=mail.eml,
    )
    return event


def resolve_with_note(
    session: Session, settings: Settings, escalation_id: int, note: str, *, by: str
) -> Escalation:
    """mailflow.escalation.resolve.resolve plus the timeline entry."""
    escalation = resolve(session, escalation_id, note, by=by)
    add_event(session, settings, escalation_id, "resolved", by, body=escalation.resolution_note)
    return escalation


def reopen(session: Session, settings: Settings, escalation_id: int, *, by: str) -> Escalation:
    """Open a resolved escalation again (its subtask too); one statement decides."""
    changed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation_id, col(Escalation.status) != EscalationStatus.OPEN)
        .values(status=EscalationStatus.OPEN, resolved_at=None, reminded_at=None)
    ).rowcount
    escalation = _get(session, escalation_id)
    if not changed:
        raise AlreadyOpen(f"escalation {escalation_id} is open")
    session.refresh(escalation)
    if escalation.subtask_id is not None:
        subtask = session.get(Task, escalation.subtask_id)
        if subtask is not None:
            subtask.status, subtask.closed_at = EscalationStatus.OPEN, None
            session.add(subtask)
    add_event(session, settings, escalation_id, "reopened", by)
    return escalation


def client_replied(
    session: Session,
    settings: Settings,
    escalation_id: int,
    *,
    inbound_message_id: int,
    sender: str | None,
    text: str,
) -> EscalationEvent:
    """The client's answer to a console reply: on the timeline, never a score. A resolved
    escalation is reopened, since the client wrote again."""
    escalation = _get(session, escalation_id)
    event = add_event(
        session,
        settings,
        escalation_id,
        "client_reply",
        sender or "client",
        body=text.strip()[:TEXT_MAX] or None,
        inbound_message_id=inbound_message_id,
    )
    if escalation.status != EscalationStatus.OPEN:
        reopen(session, settings, escalation_id, by=sender or "client")
    return event


# --- age and the SLA ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    """How long an escalation has been open against its survey's target."""

    age: timedelta
    target_hours: float
    overdue: bool

    @property
    def left(self) -> timedelta:
        return timedelta(hours=self.target_hours) - self.age


def sla_hours(settings: Settings, survey_key: str) -> float:
    """The survey's escalation_sla_hours (24 for a survey no longer configured)."""
    try:
        return settings.survey(survey_key).escalation_sla_hours
    except KeyError:
        return 24.0


def sla_of(settings: Settings, escalation: Escalation, survey_key: str, now: datetime) -> Sla:
    """Age until now (or until it was resolved) and whether it is past the target while open."""
    end = as_utc(escalation.resolved_at) if escalation.resolved_at else now
    age = end - as_utc(escalation.created_at)
    hours = sla_hours(settings, survey_key)
    overdue = escalation.status == EscalationStatus.OPEN and age > timedelta(hours=hours)
    return Sla(age, hours, overdue)


def now() -> datetime:
    """The clock the console uses (storage.clock, UTC)."""
    return as_utc(utcnow())
