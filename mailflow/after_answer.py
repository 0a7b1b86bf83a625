"""What every recorded answer sets off, inside its own transaction: the response.created
webhook, the client's follow-up, and for a negative answer its open Escalation.

Called by record_answer, so everything here becomes durable with the answer or not at all. A
negative answer gets its Escalation row here (unique response_id: exactly one per response,
status open); the subtask, the manager's email and the escalation webhooks are filed by the
worker moments later (mailflow.escalation.filing), so a negative answer costs its client
hardly more than a positive one. Every effect is keyed so a repeat is a no-op: one follow-up
per response (unique Notification.dedupe_key), one webhook delivery per event, object and
subscription (unique WebhookDelivery.dedupe_key).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from mailflow import answer_reasons, answer_sql, webhooks
from mailflow.answer_sql import People
from mailflow.facts import gather
from mailflow.followups import send_followup
from mailflow.negative import Answer
from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from storage.clock import utcnow
from storage.models import Escalation, Response, SurveyRequest
from storage.states import EscalationStatus


def on_answer(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
) -> int | None:
    """The response webhook, the follow-up, and for a negative answer its escalation's id
    (None when it has one already, or the answer is not negative)."""
    escalation_id = open_escalation(session, survey, response) if response.negative else None
    if settings.webhooks:
        facts = gather(session, settings, survey, request, response, people=people)
        webhooks.emit(session, settings, "response.created", str(response.id), facts.payload())
    send_followup(session, settings, survey, request, response, people)
    return escalation_id


def open_escalation(session: Session, survey: SurveyConfig, response: Response) -> int | None:
    """The open Escalation of a negative response, with the rule that matched; its id, or None
    when the response has one (a replaced answer, a repeat)."""
    reasons = answer_reasons.stored(session, response.id) if survey.reasons and response.id else {}
    rule = survey.negative_chain().first_match(
        Answer(response.score, response.answers, response.comment, answer_reasons.options(reasons))
    )
    values = {
        "response_id": response.id,
        "subtask_id": None,
        "manager_id": None,
        "rule": rule.name if rule else None,
        "status": EscalationStatus.OPEN,
        "created_at": utcnow(),
    }
    statement = answer_sql.for_session(session).insert_escalation
    return session.connection().execute(statement, values).scalar()


def reasons_added(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    request: SurveyRequest,
    response: Response,
    people: People,
    was_negative: bool,
) -> None:
    """Reasons given after the answer: a newly negative answer opens its escalation; an
    escalation not filed yet takes the rule the reasons match now (so "rude" reaches the team
    lead); the `response.reasons` webhook carries them."""
    if response.negative and not was_negative:
        open_escalation(session, survey, response)
    elif response.negative:
        reasons = answer_reasons.stored(session, response.id or 0)
        rule = survey.negative_chain().first_match(
            Answer(
                response.score, response.answers, response.comment, answer_reasons.options(reasons)
            )
        )
        if rule is not None:
            session.execute(
                update(Escalation)
                .where(
                    Escalation.response_id == response.id,
                    Escalation.status == EscalationStatus.OPEN,
                    Escalation.subtask_id.is_(None),  # type: ignore[union-attr]
                )
                .values(rule=rule.name)
            )
    if settings.webhooks:
        facts = gather(session, settings, survey, request, response, people=people)
        key = f"{response.id}:{response.updated_at.timestamp():.0f}"
        webhooks.emit(session, settings, "response.reasons", key, facts.payload())
