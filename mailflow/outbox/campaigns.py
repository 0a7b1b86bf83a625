"""Campaigns: a survey with a cron schedule sent to an audience.

Each run has a run key (survey + scheduled time) with a unique constraint: the CampaignRun row
and every request it creates are written in one transaction, so a restart, a second `mailflow
up` or two workers firing the same schedule create the run once, or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailflow import segments
from mailflow.settings import Settings
from mailflow.survey_store import version_in_use
from mailflow.surveys import SurveyConfig
from mailflow.triggers import Candidate, pick_locale, suppression_reason
from storage.clock import as_utc, utcnow
from storage.engine import session_scope
from storage.models import CampaignRun, Contact, Segment, SurveyRequest, Task
from storage.states import RequestState

log = logging.getLogger(__name__)
CHUNK = 200


class CampaignError(Exception):
    """A campaign that cannot run (str() says why)."""


@dataclass
class CampaignResult:
    """What one run did; `already_ran` when the run key existed."""

    run_key: str
    scheduled_for: datetime
    already_ran: bool = False
    audience: int = 0
    created: int = 0
    suppressed: list[tuple[int, str]] = field(default_factory=list)


def run_key(survey: SurveyConfig, scheduled_for: datetime) -> str:
    """The unique key of one run: survey + scheduled time (UTC, to the second)."""
    return f"{survey.key}@{as_utc(scheduled_for).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def campaign_survey(settings: Settings, key: str) -> SurveyConfig:
    """The survey, or CampaignError naming the known ones."""
    try:
        return settings.survey(key)
    except KeyError:
        known = ", ".join(s.key for s in settings.surveys) or "none"
        raise CampaignError(f"unknown survey '{key}' (configured: {known})") from None


def audience(session: Session, survey: SurveyConfig, now: datetime) -> list[int]:
    """Contact ids the campaign goes to: active contacts, or a saved segment."""
    campaign = survey.campaign
    if campaign is not None and campaign.audience == "segment":
        return _segment_audience(session, campaign.segment)
    days = campaign.active_days if campaign is not None else 30
    since = now - timedelta(days=days)
    query = (
        select(Task.contact_id)
        .where(
            Task.kind == "ticket",
            col(Task.contact_id).is_not(None),
            col(Task.closed_at).is_not(None),
            col(Task.closed_at) >= since,
        )
        .distinct()
    )
    return sorted(int(i) for i in session.exec(query) if i is not None)


def _segment_audience(session: Session, name: str | None) -> list[int]:
    if not name:
        raise CampaignError("audience = 'segment' needs campaign.segment (the segment's name)")
    segment = session.exec(select(Segment).where(Segment.name == name)).first()
    if segment is None:
        raise CampaignError(f"no segment named '{name}'")
    return sorted(int(i) for i in segments.contacts_in_segment(session, segment))


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_campaign(
    settings: Settings,
    engine: Engine,
    survey_key: str,
    scheduled_for: datetime,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CampaignResult:
    """Create the run and its requests in one transaction; a repeat of the run key is a no-op."""
    survey = campaign_survey(settings, survey_key)
    scheduled_for = as_utc(scheduled_for)
    result = CampaignResult(run_key=run_key(survey, scheduled_for), scheduled_for=scheduled_for)
    now = utcnow()
    try:
        with session_scope(engine) as session:
            run = CampaignRun(
                run_key=result.run_key, survey_key=survey.key, scheduled_for=scheduled_for
            )
            session.add(run)
            session.flush()  # the unique run key is claimed here, before any work
            ids = audience(session, survey, now)
            result.audience = len(ids)
            done = 0
            for chunk in _chunks(ids, CHUNK):
                contacts = session.exec(select(Contact).where(col(Contact.id).in_(chunk))).all()
                for contact in contacts:
                    _add_request(session, settings, survey, run, contact, now, result)
                session.flush()
                done += len(chunk)
                if progress is not None:
                    progress(done, len(ids))
            run.created_requests = result.created
            run.finished_at = utcnow()
            session.add(run)
    except IntegrityError:
        with session_scope(engine) as session:
            existing = session.exec(
                select(CampaignRun).where(CampaignRun.run_key == result.run_key)
            ).first()
        if existing is None:
            raise
        return CampaignResult(result.run_key, scheduled_for, already_ran=True)
    log.info("campaign %s: %s requests", result.run_key, result.created)
    return result


def _add_request(
    session: Session,
    settings: Settings,
    survey: SurveyConfig,
    run: CampaignRun,
    contact: Contact,
    now: datetime,
    result: CampaignResult,
) -> None:
    reason = suppression_reason(
        session, settings, Candidate(survey=survey, contact=contact, at=now)
    )
    request = SurveyRequest(
        survey_key=survey.key,
        dedupe_key=f"{run.run_key}:{contact.id}",
        contact_id=contact.id,
        campaign_run_id=run.id,
        locale=pick_locale(settings, survey, contact.locale),
        survey_version_id=version_in_use(settings, survey.key),
        state=RequestState.SUPPRESSED if reason else RequestState.SCHEDULED,
        reason=reason,
        due_at=now,
    )
    session.add(request)
    if reason:
        session.flush()
        assert request.id is not None
        result.suppressed.append((request.id, reason))
    else:
        result.created += 1


def cron_trigger(settings: Settings, survey: SurveyConfig) -> CronTrigger:
    """The survey's schedule in the configured time zone, or CampaignError."""
    assert survey.campaign is not None
    try:
        return CronTrigger.from_crontab(survey.campaign.cron, timezone=ZoneInfo(settings.timezone))
    except ValueError as exc:
        raise CampaignError(f"survey '{survey.key}': campaign.cron: {exc}") from None


def last_fire_time(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest time the schedule fired at or before `now` (the run's scheduled time)."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last
