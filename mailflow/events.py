"""Helpdesk events in: one function, `handle_event`, behind `mailflow event` and POST /api/events.

An event updates the ticket (a Task of kind "ticket"), creates the contact and employee on
first sight, and creates the survey requests its triggers ask for: one per survey per ticket
resolution. The resolution is identified by the time the ticket entered the state, so a repeat
of the same event is a no-op by the unique dedupe key, and closed -> reopened -> closed gets a
second request. A reopen suppresses requests that have not gone out yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailflow.contacts import (
    ContactData,
    EmployeeData,
    checked_address,
    upsert_contact,
    upsert_employee,
)
from mailflow.settings import Settings
from mailflow.survey_store import version_in_use
from mailflow.surveys import SurveyConfig
from mailflow.telegram_chats import link_chat
from mailflow.triggers import (
    CLOSED,
    REOPEN_REASON,
    REOPENED,
    Candidate,
    pick_locale,
    suppression_reason,
    surveys_for,
)
from storage.clock import as_utc, utcnow
from storage.models import Contact, Employee, SurveyRequest, Task
from storage.states import RequestState

Loose = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _text_id(value: Any) -> Any:
    """Helpdesks send ids as numbers or strings; we store strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _address(value: str | None) -> str | None:
    """Addresses are checked and normalised here, at the edge (mailflow.contacts); the error
    is a plain sentence (no "Value error, " prefix) in the CLI and the API alike."""
    if value is None:
        return None
    try:
        return checked_address(value)
    except ValueError as exc:
        raise PydanticCustomError("email", "{reason}", {"reason": str(exc)}) from None


class TicketIn(BaseModel):
    """The ticket the event is about."""

    model_config = Loose

    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    status: str | None = Field(default=None, max_length=100)

    _id = field_validator("id", mode="before")(_text_id)


class ContactIn(BaseModel):
    """The client: found again by address or external id."""

    model_config = Loose

    email: str = Field(min_length=3, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=16)
    vip: bool | None = None
    external_id: str | None = Field(default=None, max_length=200)
    telegram_chat_id: int | None = Field(default=None, ge=-(2**52), le=2**52)

    _id = field_validator("external_id", mode="before")(_text_id)
    _email = field_validator("email")(_address)


class EmployeeIn(BaseModel):
    """The agent whose work the survey rates."""

    model_config = Loose

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    external_id: str | None = Field(default=None, max_length=200)

    _id = field_validator("external_id", mode="before")(_text_id)
    _email = field_validator("email")(_address)


class EventIn(BaseModel):
    """One helpdesk event, as `mailflow event --json` and POST /api/events take it."""

    model_config = Loose

    type: Literal["ticket.closed", "ticket.status_changed", "ticket.reopened"]
    ticket: TicketIn
    contact: ContactIn
    employee: EmployeeIn | None = None
    occurred_at: datetime = Field(default_factory=utcnow)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return as_utc(value)


class EventError(Exception):
    """A payload that is not an event; str() names the field."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def parse_event(payload: dict[str, Any] | EventIn) -> EventIn:
    """The validated event, or EventError naming the first bad field."""
    if isinstance(payload, EventIn):
        return payload
    if not isinstance(payload, dict):
        raise EventError("(body)", "an event is a JSON object")
    try:
        return EventIn.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "(body)"
        message = "required" if first.get("type") == "missing" else first.get("msg", "invalid")
        raise EventError(where, message) from None


@dataclass
class EventResult:
    """What an event did: requests created, and those suppressed or cancelled, with reasons."""

    ticket_id: int
    contact_id: int
    created: list[int] = field(default_factory=list)
    suppressed: list[tuple[int, str]] = field(default_factory=list)
    cancelled: list[tuple[int, str]] = field(default_factory=list)
    duplicates: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the CLI and the API."""
        return {
            "ticket_id": self.ticket_id,
            "contact_id": self.contact_id,
            "created": self.created,
            "suppressed": [{"id": i, "reason": r} for i, r in self.suppressed],
            "cancelled": [{"id": i, "reason": r} for i, r in self.cancelled],
            "duplicates": self.duplicates,
        }


def _ticket(session: Session, event: EventIn) -> Task:
    query = select(Task).where(Task.kind == "ticket", Task.external_ref == event.ticket.id)
    task = session.exec(query).first()
    if task is not None:
        return task
    task = Task(kind="ticket", title=event.ticket.title, external_ref=event.ticket.id)
    try:
        with session.begin_nested():
            session.add(task)
    except IntegrityError:  # the same ticket arrived concurrently
        return session.exec(query).one()
    return task


def resolution_key(survey: SurveyConfig, event: EventIn) -> str:
    """One request per survey per ticket resolution: the moment the ticket entered the state."""
    moment = event.occurred_at.strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{survey.key}:{event.ticket.id}:{moment}"


def _create_request(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    event: EventIn,
    *,
    contact: Contact,
    task: Task,
    employee: Employee | None,
    now: datetime,
) -> SurveyRequest | None:
    """A request for this survey and resolution, or None when it already exists."""
    assert survey.trigger is not None
    due_at = event.occurred_at + timedelta(hours=survey.trigger.delay_hours)
    reason = suppression_reason(
        session, settings, Candidate(survey=survey, contact=contact, at=max(due_at, now))
    )
    request = SurveyRequest(
        survey_key=survey.key,
        dedupe_key=resolution_key(survey, event),
        contact_id=contact.id,
        ticket_id=task.id,
        employee_id=employee.id if employee else task.employee_id,
        locale=pick_locale(settings, survey, contact.locale),
        survey_version_id=version_in_use(settings, survey.key),
        state=RequestState.SUPPRESSED if reason else RequestState.SCHEDULED,
        reason=reason,
        due_at=due_at,
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:  # this resolution already has its request
        return None
    return request


def _cancel_pending(session: Session, task: Task) -> list[tuple[int, str]]:
    """Suppress requests about this ticket that have not gone out yet."""
    pending = session.exec(
        select(SurveyRequest.id).where(
            SurveyRequest.ticket_id == task.id, SurveyRequest.state == RequestState.SCHEDULED
        )
    ).all()
    ids = [int(i) for i in pending if i is not None]
    if ids:
        session.exec(
            update(SurveyRequest)
            .where(
                col(SurveyRequest.id).in_(ids), col(SurveyRequest.state) == RequestState.SCHEDULED
            )
            .values(state=RequestState.SUPPRESSED, reason=REOPEN_REASON)
        )
    return [(i, REOPEN_REASON) for i in ids]


def handle_event(
    session: Session,
    settings: Settings,
    payload: dict[str, Any] | EventIn,
    *,
    now: datetime | None = None,
) -> EventResult:
    """Apply one helpdesk event in the caller's session; raises EventError for a bad payload."""
    event = parse_event(payload)
    now = as_utc(now) if now else utcnow()
    contact = upsert_contact(
        session, ContactData(**event.contact.model_dump(exclude={"telegram_chat_id"}))
    )
    if event.contact.telegram_chat_id is not None and contact.id is not None:
        link_chat(session, contact.id, event.contact.telegram_chat_id)
    employee = (
        upsert_employee(session, EmployeeData(**event.employee.model_dump()))
        if event.employee
        else None
    )
    task = _ticket(session, event)
    previous_status, was_closed = task.status, task.closed_at is not None
    task.title = event.ticket.title
    task.status = event.ticket.status or task.status
    task.contact_id = contact.id
    if employee is not None:
        task.employee_id = employee.id
    session.add(task)
    session.flush()
    assert task.id is not None and contact.id is not None
    result = EventResult(ticket_id=task.id, contact_id=contact.id)
    if event.type == REOPENED:
        task.closed_at = None
        result.cancelled = _cancel_pending(session, task)
        return result
    if event.type == CLOSED and not was_closed:
        task.closed_at = event.occurred_at
    fired = surveys_for(
        settings,
        event.type,
        status=event.ticket.status,
        previous_status=previous_status,
        was_closed=was_closed,
    )
    for survey in fired:
        request = _create_request(
            session, settings, survey, event, contact=contact, task=task, employee=employee, now=now
        )
        if request is None:
            result.duplicates += 1
        elif request.state == RequestState.SUPPRESSED:
            assert request.id is not None and request.reason is not None
            result.suppressed.append((request.id, request.reason))
        else:
            assert request.id is not None
            result.created.append(request.id)
    return result
