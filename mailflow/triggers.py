"""Which surveys an event asks for, and the small named rules that suppress a request.

Triggers are pure: an event kind and the ticket's status before and after -> the surveys whose
trigger fires. Suppression is a chain of rules (Mailman style), each with a name and a
`check` returning the reason to store on the request, or None. The same chain runs when a
request is created and again just before it is sent, because a contact may unsubscribe,
bounce or receive another survey in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mailflow.settings import Settings
from mailflow.surveys import SurveyConfig
from parsers.rules import Rule, first_reason
from storage.models import Contact, SurveyRequest

CLOSED = "ticket.closed"
STATUS_CHANGED = "ticket.status_changed"
REOPENED = "ticket.reopened"
REOPEN_REASON = "ticket reopened before the survey was sent"


def _same_status(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def surveys_for(
    settings: Settings,
    kind: str,
    *,
    status: str | None,
    previous_status: str | None,
    was_closed: bool,
) -> list[SurveyConfig]:
    """The surveys whose trigger this event fires (a repeat of a state we are in fires none)."""
    fired: list[SurveyConfig] = []
    for survey in settings.surveys:
        trigger = survey.trigger
        if trigger is None or trigger.on == "never":
            continue
        if (trigger.on == CLOSED and kind == CLOSED and not was_closed) or (
            trigger.on == "status"
            and kind in (CLOSED, STATUS_CHANGED)
            and _same_status(status, trigger.status)
            and not _same_status(previous_status, trigger.status)
        ):
            fired.append(survey)
    return fired


@dataclass(frozen=True)
class Candidate:
    """A request about to be created or sent, as the rules see it."""

    survey: SurveyConfig
    contact: Contact
    at: datetime
    request_id: int | None = None


@dataclass(frozen=True)
class Asked:
    """What a suppression rule looks at: the candidate, with the session and settings."""

    session: Session
    settings: Settings
    candidate: Candidate


class Unsubscribed:
    """No survey to a contact who unsubscribed."""

    name = "unsubscribed"
    description = "the contact unsubscribed"

    def check(self, asked: Asked) -> str | None:
        if asked.candidate.contact.unsubscribed_at is not None:
            return "contact unsubscribed"
        return None


class Bounced:
    """No survey to an address that bounced hard."""

    name = "bounced"
    description = "the contact's address bounced hard"

    def check(self, asked: Asked) -> str | None:
        contact = asked.candidate.contact
        if contact.bounced_at is not None:
            why = f": {contact.bounce_reason}" if contact.bounce_reason else ""
            return f"address bounced{why}"
        return None


class VipOnly:
    """A VIP-only survey goes to VIP contacts only."""

    name = "vip_only"
    description = "the survey is for VIP contacts and this one is not"

    def check(self, asked: Asked) -> str | None:
        candidate = asked.candidate
        trigger = candidate.survey.trigger
        if trigger is not None and trigger.vip_only and not candidate.contact.vip:
            return "VIP-only survey; contact is not VIP"
        return None


def recently_sent(
    session: Session, contact_ids: Iterable[int], since: datetime, exclude: Iterable[int] = ()
) -> set[int]:
    """Which of these contacts were sent any survey after `since` (one query per batch)."""
    query = (
        select(SurveyRequest.contact_id)
        .where(
            col(SurveyRequest.contact_id).in_(list(contact_ids)),
            col(SurveyRequest.sent_at).is_not(None),
            col(SurveyRequest.sent_at) > since,
        )
        .distinct()
    )
    excluded = list(exclude)
    if excluded:
        query = query.where(col(SurveyRequest.id).not_in(excluded))
    return {int(i) for i in session.exec(query)}


class FrequencyCap:
    """No survey to a contact who was sent any survey in the last cap_days days."""

    name = "cap"
    description = "the contact was sent a survey within outbound.cap_days"

    @staticmethod
    def reason(days: int) -> str:
        return f"a survey was sent to this contact in the last {days} days"

    def check(self, asked: Asked) -> str | None:
        days, candidate = asked.settings.outbound.cap_days, asked.candidate
        if days <= 0 or candidate.contact.id is None:
            return None
        exclude = [candidate.request_id] if candidate.request_id is not None else []
        since = candidate.at - timedelta(days=days)
        if recently_sent(asked.session, [candidate.contact.id], since, exclude):
            return self.reason(days)
        return None


SuppressionRule = Rule[Asked]


def suppression_chain() -> list[SuppressionRule]:
    """The rules in the order their reasons are most useful to a reader."""
    return [Unsubscribed(), Bounced(), VipOnly(), FrequencyCap()]


def suppression_reason(
    session: Session,
    settings: Settings,
    candidate: Candidate,
    rules: list[SuppressionRule] | None = None,
) -> str | None:
    """The first rule's reason that suppresses this candidate, or None when it may go out."""
    chain = rules if rules is not None else suppression_chain()
    hit = first_reason(chain, Asked(session, settings, candidate))
    return hit[1] if hit else None


def pick_locale(settings: Settings, survey: SurveyConfig, contact_locale: str | None) -> str:
    """The contact's locale when the survey speaks it, else the default locale."""
    if contact_locale:
        for candidate in (contact_locale, contact_locale.split("-")[0].split("_")[0]):
            if candidate.lower() in survey.texts:
                return candidate.lower()
    if settings.default_locale in survey.texts:
        return settings.default_locale
    return next(iter(survey.texts))
