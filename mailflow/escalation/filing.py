"""Filing escalations: the subtask, the manager's email and the escalation webhooks.

A negative answer commits its Escalation row (status open, no subtask yet) together with the
answer. The worker files it moments later, in one transaction per batch: a subtask under the
rated ticket (or the survey's "Survey" task) assigned to the manager, holding the analytics row;
the manager's email, rendered and queued for the outbox; webhooks response.negative and
escalation.created. Filing is idempotent: the subtask's unique (kind, external_ref) and the
keyed notification and webhook rows make a second filer (another worker, a retry) a no-op, and
an escalation resolved before it was filed is left alone.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from mailflow import answer_sql, webhooks
from mailflow.answer_sql import People, Person, people_of
from mailflow.answers import survey_task_id
from mailflow.escalation.mail import escalation_email
from mailflow.escalation.managers import manager_for
from mailflow.facts import Facts, gather
from mailflow.notifications import enqueue_notification
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.clock import utcnow
from storage.engine import is_postgres, session_scope
from storage.models import Escalation, Notification, Response, SurveyRequest, Task
from storage.states import EscalationStatus

log = logging.getLogger(__name__)


def _rated(people: People) -> Person | None:
    """The rated employee, as manager lookup needs them."""
    if people.employee_id is None:
        return None
    return Person(
        people.employee_id,
        people.employee_name or "",
        people.employee_email,
        None,
        True,
        people.employee_team,
        people.employee_manager_id,
    )


def _subtask(
    session: Session,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    facts: Facts,
    manager: Person | None,
    locale: str,
) -> int:
    """The escalation subtask's id, created now or found from an earlier filing."""
    external_ref = f"response:{response.id}"
    parent = request.ticket_id if request.ticket_id is not None else survey_task_id(session, survey)
    values = {
        "kind": "escalation",
        "title": f"Negative answer to “{survey.key}” (response {response.id})",
        "status": EscalationStatus.OPEN,
        "description": facts.description(locale),
        "external_ref": external_ref,
        "parent_id": parent,
        "contact_id": request.contact_id,
        "employee_id": manager.id if manager else request.employee_id,
        "created_at": utcnow(),
        "closed_at": None,
    }
    statement = answer_sql.for_session(session).insert_subtask
    created = session.connection().execute(statement, values).scalar()
    if created is not None:
        return int(created)
    query = select(Task.id).where(Task.kind == "escalation", Task.external_ref == external_ref)
    return int(session.exec(query).one())


def _notify_manager(
    session: Session,
    settings: Settings,
    escalation: Escalation,
    facts: Facts,
    manager: Person | None,
    locale: str,
) -> Notification | None:
    """The escalation email, rendered now and queued, unless there is no manager, no address,
    or their notifications are off."""
    if manager is None or not manager.email:
        log.warning("escalation %s has no manager to notify", escalation.id)
        return None
    if not manager.notify_email:
        return None
    email = escalation_email(settings, facts, to=manager.email, to_name=manager.name, locale=locale)
    return enqueue_notification(
        session,
        kind="escalation",
        dedupe_key=f"escalation:{escalation.id}",
        recipient=manager.email,
        message_id=email.message_id,
        eml=email.eml,
    )


def _webhook_data(escalation: Escalation, facts: Facts, manager: Person | None) -> dict:
    return {
        "escalation": {
            "id": escalation.id,
            "subtask_id": escalation.subtask_id,
            "rule": escalation.rule,
            "manager": {"name": manager.name, "email": manager.email} if manager else None,
            "admin_url": facts.admin_url,
        },
        "response": facts.payload(),
    }


def file_escalation(session: Session, settings: Settings, escalation: Escalation) -> bool:
    """File one open escalation; False when another filer did it first or its answer is gone."""
    response = session.get(Response, escalation.response_id)
    request = session.get(SurveyRequest, response.request_id) if response else None
    if response is None or request is None or request.id is None:
        return False
    survey = settings.survey(request.survey_key)
    people = people_of(session, request.id)
    manager = manager_for(session, settings, survey, _rated(people), rule=escalation.rule)
    facts = gather(
        session, settings, survey, request, response, rule=escalation.rule, people=people
    )
    locale = (manager.locale if manager else None) or settings.default_locale
    if locale not in settings.locales:
        locale = settings.default_locale
    subtask_id = _subtask(session, survey, request, response, facts, manager, locale)
    claimed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation.id, col(Escalation.subtask_id).is_(None))
        .values(subtask_id=subtask_id, manager_id=manager.id if manager else None)
    ).rowcount
    if not claimed:
        return False
    session.refresh(escalation)
    _notify_manager(session, settings, escalation, facts, manager, locale)
    if settings.webhooks:
        payload = facts.payload()
        webhooks.emit_many(
            session,
            settings,
            [
                ("response.negative", str(response.id), payload),
                (
                    "escalation.created",
                    str(escalation.id),
                    _webhook_data(escalation, facts, manager),
                ),
            ],
        )
    return True


def drain(settings: Settings, engine: Engine, *, limit: int) -> int:
    """File up to `limit` open escalations that have no subtask yet; the number filed.

    On PostgreSQL the rows are locked with SKIP LOCKED, so workers share the queue; an
    escalation whose filing fails (its survey left the configuration, say) is logged and
    left open for the next pass, without holding up the others.
    """
    filed = 0
    with session_scope(engine) as session:
        query = (
            select(Escalation)
            .where(col(Escalation.subtask_id).is_(None), Escalation.status == EscalationStatus.OPEN)
            .order_by(col(Escalation.id))
            .limit(limit)
        )
        if is_postgres(engine):
            query = query.with_for_update(skip_locked=True)
        for escalation in session.exec(query).all():
            try:
                with session.begin_nested():
                    filed += file_escalation(session, settings, escalation)
            except Exception:
                log.exception("escalation %s: filing failed; it stays open", escalation.id)
    return filed


def file_pending(settings: Settings, engine: Engine, *, batch: int = 100) -> int:
    """File every open escalation that waits for it (for `mailflow worker`, imports, tests)."""
    total = 0
    while filed := drain(settings, engine, limit=batch):
        total += filed
    return total
