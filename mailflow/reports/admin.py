"""The dashboard's operational lists: escalations, inbound quarantine, requests by state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from mailflow.reports.filters import ReportFilter, request_conditions
from storage.clock import as_utc
from storage.models import (
    REQUEST_STATES,
    Contact,
    Employee,
    Escalation,
    InboundMessage,
    Response,
    SurveyRequest,
)
from storage.states import InboundStatus

Manager = aliased(Employee, name="manager")


@dataclass
class EscalationRow:
    id: int
    status: str
    rule: str | None
    created_at: datetime
    response_id: int
    survey: str
    score: int | None
    comment: str | None
    contact_email: str | None
    employee: str | None
    manager: str | None
    ticket_id: int | None
    subtask_id: int | None


def escalations(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[EscalationRow]:
    """Newest escalations first, optionally only one status (open, resolved …)."""
    query = (
        select(
            Escalation.id,
            Escalation.status,
            Escalation.rule,
            Escalation.created_at,
            Escalation.subtask_id,
            Response.id.label("response_id"),
            Response.survey_key,
            Response.score,
            Response.comment,
            Contact.email,
            Employee.name.label("employee"),
            Manager.name.label("manager"),
            SurveyRequest.ticket_id,
        )
        .select_from(Escalation)
        .join(Response, Escalation.response_id == Response.id)
        .join(SurveyRequest, Response.request_id == SurveyRequest.id)
        .outerjoin(Contact, SurveyRequest.contact_id == Contact.id)
        .outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
        .outerjoin(Manager, Escalation.manager_id == Manager.id)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Escalation.status == status)
    return [
        EscalationRow(
            id=r.id,
            status=r.status,
            rule=r.rule,
            created_at=as_utc(r.created_at),
            response_id=r.response_id,
            survey=r.survey_key,
            score=r.score,
            comment=r.comment,
            contact_email=r.email,
            employee=r.employee,
            manager=r.manager,
            ticket_id=r.ticket_id,
            subtask_id=r.subtask_id,
        )
        for r in session.execute(query)
    ]


def _in_period(column: Any, flt: ReportFilter | None) -> list[Any]:
    if flt is None:
        return []
    return [
        *([column >= flt.start] if flt.start is not None else []),
        *([column < flt.end] if flt.end is not None else []),
    ]


def escalation_counts(session: Session, flt: ReportFilter | None = None) -> dict[str, int]:
    """Escalations per status; with a filter, those raised in its period about its answers."""
    query = select(Escalation.status, func.count()).group_by(Escalation.status)
    if flt is not None:
        query = query.join(Response, Escalation.response_id == Response.id).join(
            SurveyRequest, Response.request_id == SurveyRequest.id
        )
        query = query.where(
            *_in_period(Escalation.created_at, flt),
            *request_conditions(session, flt, team_joined=False),
        )
    return {status: int(n) for status, n in session.execute(query)}


@dataclass
class QuarantineRow:
    id: int
    message_id: str
    envelope_from: str | None
    via: str
    kind: str | None
    reason: str | None
    received_at: datetime


def quarantine(session: Session, *, limit: int = 100) -> list[QuarantineRow]:
    """Inbound messages the worker could not file, newest first, with the reason."""
    query = (
        select(
            InboundMessage.id,
            InboundMessage.message_id,
            InboundMessage.envelope_from,
            InboundMessage.via,
            InboundMessage.kind,
            InboundMessage.reason,
            InboundMessage.received_at,
        )
        .where(InboundMessage.status == InboundStatus.QUARANTINED)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit)
    )
    return [
        QuarantineRow(
            id=r.id,
            message_id=r.message_id,
            envelope_from=r.envelope_from,
            via=r.via,
            kind=r.kind,
            reason=r.reason,
            received_at=as_utc(r.received_at),
        )
        for r in session.execute(query)
    ]


def request_states(session: Session, flt: ReportFilter | None = None) -> dict[str, int]:
    """Survey requests per state, every state listed (zero included), in lifecycle order;
    with a filter, the requests due in its period for its survey/employee/team/segment."""
    query = select(SurveyRequest.state, func.count()).group_by(SurveyRequest.state)
    if flt is not None:
        query = query.where(
            *_in_period(SurveyRequest.due_at, flt),
            *request_conditions(session, flt, team_joined=False),
        )
    found = {state: int(n) for state, n in session.execute(query)}
    counts = {state: found.pop(state, 0) for state in REQUEST_STATES}
    counts.update(found)
    return counts


def quarantine_count(session: Session, flt: ReportFilter | None = None) -> int:
    """How many inbound messages wait in quarantine (received in the filter's period)."""
    query = select(func.count()).where(
        InboundMessage.status == InboundStatus.QUARANTINED,
        *_in_period(InboundMessage.received_at, flt),
    )
    return int(session.execute(query).scalar_one())


@dataclass
class RequestRow:
    id: int
    survey: str
    state: str
    reason: str | None
    contact_email: str | None
    employee: str | None
    due_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    last_error: str | None


def requests(session: Session, *, state: str | None = None, limit: int = 100) -> list[RequestRow]:
    """Newest requests first (by due time), optionally in one state."""
    query = (
        select(
            SurveyRequest.id,
            SurveyRequest.survey_key,
            SurveyRequest.state,
            SurveyRequest.reason,
            SurveyRequest.due_at,
            SurveyRequest.sent_at,
            SurveyRequest.answered_at,
            SurveyRequest.last_error,
            Contact.email,
            Employee.name.label("employee"),
        )
        .select_from(SurveyRequest)
        .outerjoin(Contact, SurveyRequest.contact_id == Contact.id)
        .outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
        .order_by(SurveyRequest.due_at.desc(), SurveyRequest.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(SurveyRequest.state == state)

    def when(value: Any) -> datetime | None:
        return as_utc(value) if value else None

    return [
        RequestRow(
            id=r.id,
            survey=r.survey_key,
            state=r.state,
            reason=r.reason,
            contact_email=r.email,
            employee=r.employee,
            due_at=as_utc(r.due_at),
            sent_at=when(r.sent_at),
            answered_at=when(r.answered_at),
            last_error=r.last_error,
        )
        for r in session.execute(query)
    ]
