"""The campaign scheduler: APScheduler 3.x with one CronTrigger job per campaign survey.

A job only creates the run (and its requests) under its unique run key; the worker loop sends
them. Jobs receive ids (the survey key), never pickled objects. On start, `catch_up` runs each
campaign's latest scheduled time that passed while nothing was up (within
outbound.campaign_grace_hours); the run key keeps it from ever running twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from mailflow.outbox.campaigns import CampaignError, cron_trigger, last_fire_time, run_campaign
from mailflow.settings import Settings
from storage.clock import utcnow

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=1)


def fire_campaign(settings: Settings, engine: Engine, survey_key: str) -> None:
    """Run the campaign for the schedule time that just passed (idempotent by run key)."""
    survey = settings.survey(survey_key)
    scheduled = last_fire_time(cron_trigger(settings, survey), utcnow(), LOOKBACK)
    if scheduled is None:
        log.warning("campaign %s fired with no scheduled time in the last day", survey_key)
        return
    try:
        result = run_campaign(settings, engine, survey_key, scheduled)
    except CampaignError as exc:
        log.error("campaign %s: %s", survey_key, exc)
        return
    if result.already_ran:
        log.info("campaign %s already ran", result.run_key)


def catch_up(settings: Settings, engine: Engine, *, now: datetime | None = None) -> list[str]:
    """Run every campaign whose latest scheduled time lies within the grace and has no run
    yet; the run keys created (a run that exists already is a no-op by its key)."""
    now = now or utcnow()
    grace = timedelta(hours=settings.outbound.campaign_grace_hours)
    created = []
    for survey in settings.surveys:
        if survey.campaign is None or grace <= timedelta(0):
            continue
        try:
            scheduled = last_fire_time(cron_trigger(settings, survey), now, grace)
            if scheduled is None:
                continue
            result = run_campaign(settings, engine, survey.key, scheduled)
        except CampaignError as exc:
            log.error("campaign %s: catch-up: %s", survey.key, exc)
            continue
        if not result.already_ran:
            log.warning(
                "campaign %s: run missed while nothing was up, caught up (%s requests)",
                result.run_key,
                result.created,
            )
            created.append(result.run_key)
    return created


def build_scheduler(settings: Settings, engine: Engine) -> BackgroundScheduler:
    """A scheduler (not started) with a job per survey that has a campaign."""
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.timezone))
    for survey in settings.surveys:
        if survey.campaign is None:
            continue
        scheduler.add_job(
            fire_campaign,
            trigger=cron_trigger(settings, survey),
            args=(settings, engine, survey.key),
            id=f"campaign:{survey.key}",
            coalesce=True,
            misfire_grace_time=3600,
            max_instances=1,
        )
    return scheduler
