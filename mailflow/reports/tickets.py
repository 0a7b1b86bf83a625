"""Tickets with their ratings: one row per answer, with the ticket's comment and escalation.

Shared by the dashboard's tickets page, the JSON API and the CSV export (which streams it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from mailflow.reports.filters import ReportFilter, response_conditions
from storage.clock import as_utc
from storage.models import Comment, Contact, Employee, Escalation, Response, SurveyRequest, Task

Ticket = aliased(Task, name="ticket")


@dataclass
class RatedTicket:
    """One answer and what it rates."""

    response_id: int
    answered_at: datetime
    survey: str
    survey_type: str
    score: int | None
    answer: str
    comment: str | None
    channel: str
    negative: bool
    ticket_id: int | None
    ticket_ref: str | None
    ticket_title: str | None
    contact_email: str | None
    contact_name: str | None
    employee_id: int | None
    employee: str | None
    team: str | None
    sent_at: datetime | None
    comment_id: int | None
    escalation_id: int | None
    escalation_status: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["answered_at"] = self.answered_at.isoformat()
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return data


def answer_text(survey_type: str, score: int | None, answers: Mapping[str, Any]) -> str:
    """What the client answered, readable: '9', 'good', 'speed=slow, work=bad'."""
    if survey_type == "thumbs":
        return str(answers.get("thumbs", "good" if score else "bad"))
    if survey_type == "form" or score is None:
        return ", ".join(f"{key}={value}" for key, value in sorted(answers.items()))
    return str(score)


def _query(session: Session, flt: ReportFilter) -> Any:
    return (
        select(
            Response.id,
            Response.created_at,
            Response.survey_key,
            Response.score,
            Response.answers,
            Response.comment,
            Response.source,
            Response.negative,
            Ticket.id.label("ticket_id"),
            Ticket.external_ref,
            Ticket.title,
            Contact.email,
            Contact.name.label("contact_name"),
            SurveyRequest.employee_id,
            Employee.name.label("employee"),
            Employee.team,
            SurveyRequest.sent_at,
            Comment.id.label("comment_id"),
            Escalation.id.label("escalation_id"),
            Escalation.status.label("escalation_status"),
        )
        .select_from(Response)
        .join(SurveyRequest, Response.request_id == SurveyRequest.id)
        .outerjoin(Ticket, SurveyRequest.ticket_id == Ticket.id)
        .outerjoin(Contact, SurveyRequest.contact_id == Contact.id)
        .outerjoin(Employee, SurveyRequest.employee_id == Employee.id)
        .outerjoin(
            Comment,
            and_(Comment.response_id == Response.id, Comment.task_id == SurveyRequest.ticket_id),
        )
        .outerjoin(Escalation, Escalation.response_id == Response.id)
        .where(response_conditions(session, flt, team_joined=True))
    )


def _row(result: Any, types: Mapping[str, str]) -> RatedTicket:
    kind = types.get(result.survey_key, "")
    return RatedTicket(
        response_id=result.id,
        answered_at=as_utc(result.created_at),
        survey=result.survey_key,
        survey_type=kind,
        score=result.score,
        answer=answer_text(kind, result.score, result.answers or {}),
        comment=result.comment,
        channel=result.source,
        negative=bool(result.negative),
        ticket_id=result.ticket_id,
        ticket_ref=result.external_ref,
        ticket_title=result.title,
        contact_email=result.email,
        contact_name=result.contact_name,
        employee_id=result.employee_id,
        employee=result.employee,
        team=result.team,
        sent_at=as_utc(result.sent_at) if result.sent_at else None,
        comment_id=result.comment_id,
        escalation_id=result.escalation_id,
        escalation_status=result.escalation_status,
    )


def rated_tickets(
    session: Session,
    types: Mapping[str, str],
    flt: ReportFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    negative_only: bool = False,
    tickets_only: bool = False,
) -> tuple[list[RatedTicket], int]:
    """A page of answers, newest first, and how many match the filter in all;
    `tickets_only` keeps the answers that rate a ticket (the "Rated tickets" page)."""
    query = _query(session, flt)
    if tickets_only:
        query = query.where(SurveyRequest.ticket_id.is_not(None))
    if negative_only:
        query = query.where(Response.negative.is_(True))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = query.order_by(Response.created_at.desc(), Response.id.desc())
    results = session.execute(page.limit(limit).offset(offset)).all()
    return [_row(result, types) for result in results], int(total)


def iter_rated_tickets(
    session: Session, types: Mapping[str, str], flt: ReportFilter, *, batch: int = 1000
) -> Iterator[RatedTicket]:
    """Every answer in the filter, oldest first, fetched in batches (for CSV export)."""
    query = _query(session, flt).order_by(Response.created_at, Response.id)
    results = session.execute(query.execution_options(yield_per=batch))
    for result in results:
        yield _row(result, types)
