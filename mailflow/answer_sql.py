"""The SQL every recorded answer runs, built once per dialect.

record_answer and what follows it (mailflow.after_answer) run inside every click, AMP submit
and reply. Building a SQLAlchemy statement (coercing its values, computing its cache
key) and going through the ORM's unit of work cost several times more than running the
statement on SQLite, so these statements are built once, with bound parameters, and executed
as Core statements on the session's own connection (same transaction as the caller's ORM work).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, Insert, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import (
    AnalyticsRow,
    Comment,
    Contact,
    Employee,
    Escalation,
    Notification,
    Response,
    SurveyRequest,
    Task,
    WebhookDelivery,
)
from storage.states import RequestState


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def insert_or_ignore(dialect_name: str, model: type, *conflict: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the unique constraint decides, no savepoint
    needed; the new id, or no row when one existed."""
    table = _table(model)
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict) or None)
    return statement.returning(table.c.id)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AnswerStatements:
    """The hot path's statements for one dialect."""

    insert_response: Insert
    mark_answered: Executable
    people: Executable
    insert_analytics: Insert
    insert_comment: Insert
    insert_subtask: Insert
    insert_escalation: Insert
    insert_notification: Insert
    insert_webhook: Insert
    employee_by_id: Executable
    employee_by_email: Executable


_EMPLOYEE_COLUMNS = (
    Employee.id,
    Employee.name,
    Employee.email,
    Employee.locale,
    Employee.notify_email,
    Employee.team,
    Employee.manager_id,
)


@cache
def statements(dialect_name: str) -> AnswerStatements:
    """The statements for `dialect_name` ("sqlite" or "postgresql"), built on first use."""
    request = _table(SurveyRequest)
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    people = (
        select(
            Contact.email,
            Contact.name,
            Contact.locale,
            Contact.unsubscribed_at,
            Contact.bounced_at,
            Employee.id,
            Employee.name,
            Employee.email,
            Employee.team,
            Employee.manager_id,
            Task.id,
            Task.external_ref,
            Task.title,
        )
        .select_from(SurveyRequest)
        .join(Contact, Contact.id == SurveyRequest.contact_id)  # type: ignore[arg-type]
        .outerjoin(Employee, Employee.id == SurveyRequest.employee_id)  # type: ignore[arg-type]
        .outerjoin(Task, Task.id == SurveyRequest.ticket_id)  # type: ignore[arg-type]
        .where(SurveyRequest.id == bindparam("request_id"))
    )
    return AnswerStatements(
        insert_response=insert_or_ignore(dialect_name, Response, "request_id"),
        mark_answered=update(request)
        .where(request.c.id == bindparam("b_id"))
        .values(
            state=RequestState.ANSWERED,
            answered_at=func.coalesce(request.c.answered_at, bindparam("b_now")),
        ),
        people=people,
        insert_analytics=_table(AnalyticsRow).insert(),
        insert_comment=_table(Comment).insert(),
        insert_subtask=insert_or_ignore(dialect_name, Task),
        insert_escalation=insert_or_ignore(dialect_name, Escalation),
        insert_notification=insert_or_ignore(dialect_name, Notification),
        insert_webhook=dialect.insert(_table(WebhookDelivery)).on_conflict_do_nothing(),
        employee_by_id=select(*_EMPLOYEE_COLUMNS).where(Employee.id == bindparam("id")),
        employee_by_email=select(*_EMPLOYEE_COLUMNS).where(Employee.email == bindparam("email")),
    )


def for_session(session: Session) -> AnswerStatements:
    """The statements for the session's database."""
    return statements(session.get_bind().dialect.name)


@dataclass(frozen=True)
class People:
    """Who an answer is about, read in one query: the client, the rated employee, the ticket."""

    contact_email: str
    contact_name: str | None
    contact_locale: str | None
    contact_unsubscribed: bool
    contact_bounced: bool
    employee_id: int | None
    employee_name: str | None
    employee_email: str | None
    employee_team: str | None
    employee_manager_id: int | None
    ticket_id: int | None
    ticket_ref: str | None
    ticket_title: str | None


def people_of(session: Session, request_id: int) -> People:
    """The People of a survey request."""
    row = session.connection().execute(for_session(session).people, {"request_id": request_id})
    (email, name, locale, unsubscribed, bounced, *rest) = row.one()
    return People(email, name, locale, unsubscribed is not None, bounced is not None, *rest)


@dataclass(frozen=True)
class Person:
    """An employee as escalation needs one: who, where to write, in which language."""

    id: int
    name: str
    email: str | None
    locale: str | None
    notify_email: bool
    team: str | None
    manager_id: int | None


def employee_by_id(session: Session, employee_id: int) -> Person | None:
    """The employee with this id, or None."""
    found = session.connection().execute(for_session(session).employee_by_id, {"id": employee_id})
    row = found.first()
    return Person(*row) if row else None


def employee_by_email(session: Session, email: str) -> Person | None:
    """The employee with this (lower-case) address, or None."""
    found = session.connection().execute(for_session(session).employee_by_email, {"email": email})
    row = found.first()
    return Person(*row) if row else None


def execute(session: Session, statement: Executable, params: Any) -> Any:
    """Run a prebuilt statement on the session's connection (a list of dicts: executemany)."""
    return session.connection().execute(statement, params)
