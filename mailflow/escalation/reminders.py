"""The overdue reminder: an open escalation past its survey's escalation_sla_hours gets one
email, to its assignee (else its manager), through the notifications queue.

"Once" is a conditional UPDATE of reminded_at (NULL -> now) plus the notification's dedupe key;
assigning someone new or reopening clears reminded_at, so the new owner is reminded too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from mailflow.escalation import console_mail
from mailflow.escalation.workspace import add_event, sla_hours, staff_name
from mailflow.notifications import enqueue_notification
from mailflow.settings import Settings
from storage.clock import as_utc, utcnow
from storage.models import Contact, Employee, Escalation, Response, SurveyRequest, User
from storage.states import EscalationStatus

BATCH = 200


def _recipient(session: Session, escalation: Escalation) -> tuple[Employee, str, str | None] | None:
    """(employee, their name on the timeline, locale) to remind, or None without an address."""
    if escalation.assignee_user_id is not None:
        user = session.get(User, escalation.assignee_user_id)
        employee = session.get(Employee, user.employee_id) if user and user.employee_id else None
        if user is not None and employee is not None and employee.email:
            return employee, staff_name(session, user), user.locale
    manager = session.get(Employee, escalation.manager_id) if escalation.manager_id else None
    if manager is not None and manager.email and manager.notify_email:
        return manager, manager.name, manager.locale
    return None


def drain(settings: Settings, engine: Engine, *, limit: int = BATCH) -> int:
    """Queue the reminder of every escalation that became overdue; how many were queued."""
    now = utcnow()
    shortest = min((s.escalation_sla_hours for s in settings.surveys), default=24.0)
    with Session(engine) as session:
        candidates = session.exec(
            select(Escalation, Response.survey_key)
            .join(Response, col(Response.id) == Escalation.response_id)
            .where(
                Escalation.status == EscalationStatus.OPEN,
                col(Escalation.reminded_at).is_(None),
                col(Escalation.created_at) < now - timedelta(hours=shortest),
            )
            .order_by(col(Escalation.id))
            .limit(limit)
        ).all()
        due = [
            e.id
            for e, key in candidates
            if now - as_utc(e.created_at) > timedelta(hours=sla_hours(settings, key))
        ]
    queued = 0
    for escalation_id in due:
        with Session(engine) as session:
            claimed = session.execute(
                update(Escalation)
                .where(col(Escalation.id) == escalation_id, col(Escalation.reminded_at).is_(None))
                .values(reminded_at=now)
            ).rowcount
            if claimed and _remind(session, settings, escalation_id):
                queued += 1
            session.commit()
    return queued


def _remind(session: Session, settings: Settings, escalation_id: int) -> bool:
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None
    found = _recipient(session, escalation)
    if found is None:
        return False
    employee, name, locale = found
    response = session.get(Response, escalation.response_id)
    request = session.get(SurveyRequest, response.request_id) if response else None
    contact = session.get(Contact, request.contact_id) if request else None
    hours = (utcnow() - as_utc(escalation.created_at)).total_seconds() / 3600
    mail = console_mail.staff_notice(
        settings,
        kind="overdue",
        escalation_id=escalation_id,
        to=employee.email or "",
        to_name=employee.name,
        locale=locale,
        values={
            "client": contact.email if contact else "—",
            "hours": int(hours),
            "target": f"{sla_hours(settings, response.survey_key if response else ''):g}",
        },
    )
    enqueue_notification(
        session,
        kind="escalation.overdue",
        dedupe_key=f"escalation-overdue:{escalation_id}:{as_utc(escalation.reminded_at).isoformat()}",
        recipient=mail.recipient,
        message_id=mail.message_id,
        eml=mail.eml,
    )
    add_event(session, settings, escalation_id, "reminded", "mailflow", detail=name)
    return True
