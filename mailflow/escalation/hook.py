"""What happens after an answer is filed: the response webhook, the client follow-up, and for a
negative answer its escalation.

Called by record_answer inside the same transaction, so everything here becomes durable with
the answer or not at all. A negative answer gets its Escalation row here (unique response_id:
exactly one per response, status open); the subtask, the manager's email and the escalation
webhooks are filed by the worker moments later (mailflow.escalation.filing), so a negative
answer costs its client hardly more than a positive one. Every effect is keyed so a repeat is a
no-op: one follow-up per response (unique Notification.dedupe_key), one webhook delivery per
event, object and subscription (unique WebhookDelivery.dedupe_key).
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from mailflow import answer_sql, webhooks
from mailflow.answer_sql import People, people_of
from mailflow.escalation.facts import gather
from mailflow.escalation.mail import followup_email
from mailflow.escalation.rules import Answer, rule_chain_for
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from storage.models import Notification, Response, SurveyRequest

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
) -> int | None:
    """The response webhook, the follow-up, and for a negative answer its escalation's id
    (None when it has one already)."""
    if people is None:
        assert request.id is not None
        people = people_of(session, request.id)
    escalation_id = record_escalation(session, survey, response) if response.negative else None
    if settings.webhooks:
        facts = gather(session, settings, survey, request, response, people=people)
        webhooks.emit(session, settings, "response.created", str(response.id), facts.payload())
    send_followup(session, settings, survey, request, response, people)
    return escalation_id


def record_escalation(session: Session, survey: SurveyConfig, response: Response) -> int | None:
    """The open Escalation of a negative response, with the rule that matched; its id, or None
    when the response has one (a replaced answer, a repeat)."""
    rule = rule_chain_for(survey).first_match(
        Answer(response.score, response.answers, response.comment)
    )
    values = {
        "response_id": response.id,
        "subtask_id": None,
        "manager_id": None,
        "rule": rule.name if rule else None,
        "status": "open",
        "created_at": utcnow(),
    }
    statement = answer_sql.for_session(session).insert_escalation
    return session.connection().execute(statement, values).scalar()


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
