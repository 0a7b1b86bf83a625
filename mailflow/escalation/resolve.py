"""Listing and resolving escalations: shared by `mailflow escalations` and the admin page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, select

from storage.clock import utcnow
from storage.models import Comment, Contact, Employee, Escalation, Response, SurveyRequest, Task
from storage.states import EscalationStatus

STATUSES = tuple(EscalationStatus)


class EscalationRefused(Exception):
    """An escalation action that cannot be done; str() says why."""


class EscalationNotFound(EscalationRefused):
    """No escalation has this id."""


class AlreadyResolved(EscalationRefused):
    """The escalation was resolved before."""


class EmptyNote(EscalationRefused):
    """Resolving needs a note saying what was done."""


@dataclass(frozen=True)
class EscalationView:
    """One escalation with what a manager needs to see in a list."""

    escalation: Escalation
    response: Response
    contact: Contact | None
    manager: Employee | None
    employee: Employee | None
    subtask: Task | None


def list_escalations(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[EscalationView]:
    """Escalations newest first, optionally only open or resolved ones."""
    if status is not None and status not in STATUSES:
        raise EscalationRefused(f"status: must be one of {', '.join(STATUSES)}")
    query = (
        select(Escalation, Response, SurveyRequest)
        .join(Response, Response.id == Escalation.response_id)
        .join(SurveyRequest, SurveyRequest.id == Response.request_id)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Escalation.status == status)
    rows = session.exec(query).all()
    employee_ids = {r.employee_id for _, _, r in rows} | {e.manager_id for e, _, _ in rows}
    employees = {
        e.id: e
        for e in session.exec(select(Employee).where(Employee.id.in_(employee_ids - {None})))
    }
    contacts = {
        c.id: c
        for c in session.exec(
            select(Contact).where(Contact.id.in_({r.contact_id for *_, r in rows}))
        )
    }
    tasks = {
        t.id: t
        for t in session.exec(select(Task).where(Task.id.in_({e.subtask_id for e, *_ in rows})))
    }
    return [
        EscalationView(
            escalation=e,
            response=resp,
            contact=contacts.get(req.contact_id),
            manager=employees.get(e.manager_id),
            employee=employees.get(req.employee_id),
            subtask=tasks.get(e.subtask_id),
        )
        for e, resp, req in rows
    ]


def get_escalation(session: Session, escalation_id: int) -> EscalationView:
    """One escalation with its context, or EscalationNotFound."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    response = session.get(Response, escalation.response_id)
    request = session.get(SurveyRequest, response.request_id) if response else None
    return EscalationView(
        escalation=escalation,
        response=response,  # type: ignore[arg-type]  (foreign key: always there)
        contact=session.get(Contact, request.contact_id) if request else None,
        manager=session.get(Employee, escalation.manager_id) if escalation.manager_id else None,
        employee=session.get(Employee, request.employee_id)
        if request and request.employee_id
        else None,
        subtask=session.get(Task, escalation.subtask_id) if escalation.subtask_id else None,
    )


def resolve(session: Session, escalation_id: int, note: str, *, by: str) -> Escalation:
    """Close an escalation; the note becomes a comment on its subtask, which is closed too."""
    note = (note or "").strip()
    if not note:
        raise EmptyNote("note: required (say what was done)")
    now = utcnow()
    # One statement decides who resolves: a second resolver updates nothing.
    changed = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == EscalationStatus.OPEN)
        .values(
            status=EscalationStatus.RESOLVED, resolution_note=note, resolved_at=now, resolved_by=by
        )
    ).rowcount
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    if not changed:
        raise AlreadyResolved(f"escalation {escalation_id} was resolved already")
    session.refresh(escalation)
    if escalation.subtask_id is not None:
        session.add(
            Comment(task_id=escalation.subtask_id, author=by, body=note, source="resolution")
        )
        subtask = session.get(Task, escalation.subtask_id)
        if subtask is not None:
            subtask.status, subtask.closed_at = EscalationStatus.RESOLVED, now
            session.add(subtask)
    session.flush()
    return escalation
