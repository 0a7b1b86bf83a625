"""What happens after an answer is filed: webhooks, the client follow-up, and escalation.

Called by record_answer inside the same transaction, so everything here becomes durable with
the answer or not at all. Every effect is keyed so a repeat is a no-op: one subtask per
response (unique kind + external_ref), one Escalation per response (unique response_id), one
notification per escalation and one follow-up per response (unique Notification.dedupe_key),
one webhook delivery per event, object and subscription (unique WebhookDelivery.dedupe_key).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from mailflow.escalation import webhooks
from mailflow.escalation.facts import Facts, gather
from mailflow.escalation.mail import escalation_email, followup_email
from mailflow.escalation.managers import manager_for
from mailflow.escalation.rules import Answer, rule_chain_for
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from storage.models import (
    Contact,
    Employee,
    Escalation,
    Notification,
    Response,
    SurveyRequest,
    Task,
)

log = logging.getLogger(__name__)


def _enqueue(session: Session, **kwargs: object) -> Notification | None:
    """Hand an email to the outbox (imported late: the outbox builds on answers)."""
    from mailflow.outbox.notifications import enqueue_notification

    return enqueue_notification(session, **kwargs)  # type: ignore[arg-type]


def on_answer(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
) -> Escalation | None:
    """Webhooks for the response, the follow-up, and for a negative one the escalation."""
    facts: Facts | None = None
    escalation = None
    events: list[tuple[str, str, dict[str, object]]] = []
    if response.negative:
        escalation, facts = escalate(session, settings, survey, request, response)
        if escalation is not None and settings.webhooks:
            events.append(
                ("escalation.created", str(escalation.id), _escalation_data(escalation, facts))
            )
    if settings.webhooks:
        facts = facts or gather(session, settings, survey, request, response)
        payload = facts.payload()
        events.append(("response.created", str(response.id), payload))
        if response.negative:
            events.append(("response.negative", str(response.id), payload))
        webhooks.emit_many(session, settings, events)
    send_followup(session, settings, survey, request, response)
    return escalation


def _escalation_data(escalation: Escalation, facts: Facts) -> dict[str, object]:
    manager = facts.extra
    return {
        "escalation": {
            "id": escalation.id,
            "subtask_id": escalation.subtask_id,
            "rule": escalation.rule,
            "manager": {"name": manager.get("manager_name"), "email": manager.get("manager_email")}
            if manager
            else None,
            "admin_url": facts.admin_url,
        },
        "response": facts.payload(),
    }


def _parent_id(session: Session, survey: SurveyConfig, request: SurveyRequest) -> int | None:
    """The rated ticket, or the survey's "Survey" task when the answer rates no ticket."""
    if request.ticket_id is not None:
        return request.ticket_id
    parent = session.exec(
        select(Task.id).where(Task.kind == "survey", Task.external_ref == survey.key)
    ).first()
    return parent


def _insert(session: Session, model: type, values: dict[str, object]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id on the session's connection (a Core
    statement: a fifth of the ORM's cost): the new id, or None when the row existed."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing().returning(table.c.id)
    return session.connection().execute(statement, values).scalar()


def escalate(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
) -> tuple[Escalation | None, Facts]:
    """Exactly one escalation per negative response: subtask, manager email, webhook.

    The subtask's unique (kind, external_ref) decides: when it exists, this response was
    escalated already and nothing more happens (returns None). Rows are written with plain
    INSERTs, not the unit of work, because this runs inside every negative answer.
    """
    rule = rule_chain_for(survey).first_match(
        Answer(response.score, response.answers, response.comment)
    )
    # Held in this frame, so the session's (weak) identity map serves gather() from memory.
    employee = session.get(Employee, request.employee_id) if request.employee_id else None
    manager = manager_for(session, settings, survey, employee)
    extra = (
        {} if manager is None else {"manager_name": manager.name, "manager_email": manager.email}
    )
    facts = replace(
        gather(session, settings, survey, request, response, rule=rule.name if rule else None),
        extra=extra,
    )
    locale = (manager.locale if manager else None) or settings.default_locale
    if locale not in settings.locales:
        locale = settings.default_locale
    now = utcnow()
    subtask_id = _insert(
        session,
        Task,
        {
            "kind": "escalation",
            "title": f"Negative answer to “{survey.key}” (response {response.id})",
            "status": "open",
            "description": facts.description(locale),
            "external_ref": f"response:{response.id}",
            "parent_id": _parent_id(session, survey, request),
            "contact_id": request.contact_id,
            "employee_id": manager.id if manager else request.employee_id,
            "created_at": now,
        },
    )
    if subtask_id is None:
        return None, facts
    values = {
        "response_id": response.id,
        "subtask_id": subtask_id,
        "manager_id": manager.id if manager else None,
        "rule": facts.rule,
        "status": "open",
        "created_at": now,
    }
    escalation_id = _insert(session, Escalation, values)
    if escalation_id is None:  # unreachable while the subtask key holds; never escalate twice
        return None, facts
    escalation = Escalation(id=escalation_id, **values)  # a snapshot, not attached to the session
    _notify_manager(session, settings, facts, escalation, manager, locale)
    return escalation, facts


def _notify_manager(
    session: Session,
    settings: Settings,
    facts: Facts,
    escalation: Escalation,
    manager: Employee | None,
    locale: str,
) -> Notification | None:
    """The escalation email, unless there is no manager, no address, or notifications are off."""
    if manager is None or not manager.email:
        log.warning("escalation %s has no manager to notify", escalation.id)
        return None
    if not manager.notify_email:
        return None
    email = escalation_email(settings, facts, to=manager.email, to_name=manager.name, locale=locale)
    return _enqueue(
        session,
        kind="escalation",
        dedupe_key=f"escalation:{escalation.id}",
        recipient=manager.email,
        eml=email.eml,
        message_id=email.message_id,
    )


def send_followup(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
) -> Notification | None:
    """An apology (negative) or thank-you (positive) when the survey asks for one; at most one
    per response, never to a contact who unsubscribed or whose address bounced."""
    config = survey.followup
    kind = "apology" if response.negative else "thank_you"
    if config is None or not getattr(config, kind):
        return None
    contact = session.get(Contact, request.contact_id)
    if contact is None or contact.unsubscribed_at is not None or contact.bounced_at is not None:
        return None
    email = followup_email(
        settings,
        survey,
        kind=kind,
        to=contact.email,
        to_name=contact.name,
        locale=request.locale or contact.locale,
        unsubscribe_token=signer_for(settings).sign(request.id or 0, Purpose.UNSUBSCRIBE),
    )
    return _enqueue(
        session,
        kind=f"followup.{kind}",
        dedupe_key=f"followup:{response.id}",
        recipient=contact.email,
        eml=email.eml,
        message_id=email.message_id,
    )
