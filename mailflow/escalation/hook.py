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

from sqlalchemy import Insert
from sqlmodel import Session

from mailflow import answer_sql
from mailflow.answer_sql import People, Person, people_of
from mailflow.answers import survey_task_id
from mailflow.escalation import webhooks
from mailflow.escalation.facts import Facts, gather
from mailflow.escalation.mail import followup_email
from mailflow.escalation.managers import manager_for
from mailflow.escalation.rules import Answer, rule_chain_for
from mailflow.render import new_message_id
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from storage.models import Escalation, Notification, Response, SurveyRequest

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
    people: People | None = None,
) -> Escalation | None:
    """Webhooks for the response, the follow-up, and for a negative one the escalation."""
    facts: Facts | None = None
    escalation = None
    events: list[tuple[str, str, dict[str, object]]] = []
    if people is None:
        assert request.id is not None
        people = people_of(session, request.id)
    if response.negative:
        escalation, facts = escalate(session, settings, survey, request, response, people)
        if escalation is not None and settings.webhooks:
            events.append(
                ("escalation.created", str(escalation.id), _escalation_data(escalation, facts))
            )
    if settings.webhooks:
        facts = facts or gather(session, settings, survey, request, response, people=people)
        payload = facts.payload()
        events.append(("response.created", str(response.id), payload))
        if response.negative:
            events.append(("response.negative", str(response.id), payload))
        webhooks.emit_many(session, settings, events)
    send_followup(session, settings, survey, request, response, people)
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
    return survey_task_id(session, survey)


def _insert(session: Session, statement: Insert, values: dict[str, object]) -> int | None:
    """A prebuilt INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the
    row existed."""
    return session.connection().execute(statement, values).scalar()


def escalate(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
) -> tuple[Escalation | None, Facts]:
    """Exactly one escalation per negative response: subtask, manager email, webhook.

    The subtask's unique (kind, external_ref) decides: when it exists, this response was
    escalated already and nothing more happens (returns None). Rows are written with plain
    INSERTs, not the unit of work, because this runs inside every negative answer.
    """
    rule = rule_chain_for(survey).first_match(
        Answer(response.score, response.answers, response.comment)
    )
    rated = None
    if people.employee_id is not None:
        rated = Person(
            people.employee_id,
            people.employee_name or "",
            people.employee_email,
            None,
            True,
            people.employee_team,
            people.employee_manager_id,
        )
    manager = manager_for(session, settings, survey, rated)
    extra = (
        {} if manager is None else {"manager_name": manager.name, "manager_email": manager.email}
    )
    facts = replace(
        gather(
            session,
            settings,
            survey,
            request,
            response,
            rule=rule.name if rule else None,
            people=people,
        ),
        extra=extra,
    )
    locale = (manager.locale if manager else None) or settings.default_locale
    if locale not in settings.locales:
        locale = settings.default_locale
    now = utcnow()
    sql = answer_sql.for_session(session)
    subtask_id = _insert(
        session,
        sql.insert_subtask,
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
            "closed_at": None,
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
    escalation_id = _insert(session, sql.insert_escalation, values)
    if escalation_id is None:  # unreachable while the subtask key holds; never escalate twice
        return None, facts
    escalation = Escalation(id=escalation_id, **values)  # a snapshot, not attached to the session
    _notify_manager(session, settings, escalation, manager, locale)
    return escalation, facts


def _notify_manager(
    session: Session,
    settings: Settings,
    escalation: Escalation,
    manager: Person | None,
    locale: str,
) -> Notification | None:
    """The escalation email, unless there is no manager, no address, or notifications are off."""
    if manager is None or not manager.email:
        log.warning("escalation %s has no manager to notify", escalation.id)
        return None
    if not manager.notify_email:
        return None
    return _enqueue(  # rendered by the worker when it sends it (see message_of)
        session,
        kind="escalation",
        dedupe_key=f"escalation:{escalation.id}",
        recipient=manager.email,
        message_id=new_message_id(settings.msgid_domain),
        render={
            "escalation_id": escalation.id,
            "to": manager.email,
            "to_name": manager.name,
            "locale": locale,
        },
    )


def send_followup(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
) -> Notification | None:
    """An apology (negative) or thank-you (positive) when the survey asks for one; at most one
    per response, never to a contact who unsubscribed or whose address bounced."""
    config = survey.followup
    kind = "apology" if response.negative else "thank_you"
    if config is None or not getattr(config, kind):
        return None
    if people.contact_unsubscribed or people.contact_bounced:
        return None
    email = followup_email(
        settings,
        survey,
        kind=kind,
        to=people.contact_email,
        to_name=people.contact_name,
        locale=request.locale or people.contact_locale,
        unsubscribe_token=signer_for(settings).sign(request.id or 0, Purpose.UNSUBSCRIBE),
    )
    return _enqueue(
        session,
        kind=f"followup.{kind}",
        dedupe_key=f"followup:{response.id}",
        recipient=people.contact_email,
        eml=email.eml,
        message_id=email.message_id,
    )
