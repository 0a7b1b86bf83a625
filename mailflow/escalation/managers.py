"""Who a negative answer goes to, as a chain of small named lookups.

Order: the rated employee's own manager (Employee.manager_id), the manager of the employee's
team (`[escalation] team_managers`), the survey's `escalate_to`, then `default_manager`. A
manager named by address becomes an Employee on first use (unique email), taking name, locale
and notification permission from `[[escalation.managers]]` when listed there.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailflow import answer_sql
from mailflow.answer_sql import Person
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.models import Employee


def employee_by_address(session: Session, settings: Settings, address: str) -> Employee:
    """The Employee with this address, created from the configuration on first use."""
    email = address.strip().lower()
    query = select(Employee).where(Employee.email == email)
    found = session.exec(query).first()
    if found is not None:
        return found
    known = next((m for m in settings.escalation.managers if m.email.lower() == email), None)
    manager = Employee(
        name=(known.name if known and known.name else email.split("@")[0]),
        email=email,
        locale=known.locale if known else None,
        notify_email=known.notify_email if known else True,
    )
    try:
        with session.begin_nested():
            session.add(manager)
    except IntegrityError:  # created meanwhile by another answer: use that one
        manager = session.exec(query).one()
    return manager


def person_by_address(session: Session, settings: Settings, address: str) -> Person:
    """The manager with this address as a Person; one indexed lookup once they exist."""
    email = address.strip().lower()
    found = answer_sql.employee_by_email(session, email)
    if found is not None:
        return found
    created = employee_by_address(session, settings, email)
    assert created.id is not None
    return Person(
        created.id,
        created.name,
        created.email,
        created.locale,
        created.notify_email,
        created.team,
        created.manager_id,
    )


def _own_manager(session: Session, employee: Person | None) -> Person | None:
    if employee is None or employee.manager_id is None or employee.manager_id == employee.id:
        return None
    return answer_sql.employee_by_id(session, employee.manager_id)


def _address(settings: Settings, survey: SurveyConfig, team: str | None) -> str | None:
    if team and team in settings.escalation.team_managers:
        return settings.escalation.team_managers[team]
    return survey.escalate_to or settings.default_manager


def manager_for(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    employee: Person | None,
    *,
    rule: str | None = None,
) -> Person | None:
    """The manager responsible for a negative answer about `employee`'s work, or None if no
    manager is configured at all. A reason rule with its own address ("reason is rude →
    the team lead") comes before everyone else."""
    target = survey.reason_target(rule)
    if target:
        return person_by_address(session, settings, target)
    manager = _own_manager(session, employee)
    if manager is not None:
        return manager
    address = _address(settings, survey, employee.team if employee else None)
    return person_by_address(session, settings, address) if address else None
