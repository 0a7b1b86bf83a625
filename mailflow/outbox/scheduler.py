"""The campaign scheduler: APScheduler 3.x with one CronTrigger job per campaign survey.

A job only creates the run (and its requests) under its unique run key; the worker loop sends
them. Jobs receive ids (the survey key), never pickled objects.
"""

from __future__ import annotations

import logging
from datetime import timedelta
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
