"""Campaigns: audience, one run per scheduled time, the scheduler's clock, the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from mailflow.outbox.campaigns import (
    CampaignError,
    cron_trigger,
    last_fire_time,
    run_campaign,
)
from mailflow.outbox.scheduler import build_scheduler
from mailflow.service import run_until_empty
from storage.engine import session_scope
from storage.models import CampaignRun, SurveyRequest

from .conftest import ticket_event, with_outbound

ROOT = Path(__file__).resolve().parents[2]
FIRST_OF_MONTH = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_a_campaign_triggered_twice_for_one_time_sends_once_per_contact(
    post, engine, settings, memory
):
    for n in range(3):
        post(ticket_event(ticket=f"T{n}", email=f"c{n}@example.com"))
    post(
        ticket_event(
            "ticket.status_changed", ticket="open", email="open@example.com", status="Open"
        )
    )
    run_until_empty(settings, engine, transport=memory)
    memory.sent.clear()
    settings = with_outbound(settings, cap_days=0)
    first = run_campaign(settings, engine, "nps", FIRST_OF_MONTH)
    second = run_campaign(settings, engine, "nps", FIRST_OF_MONTH)
    assert (first.audience, first.created, first.already_ran) == (3, 3, False)
    assert second.already_ran and second.created == 0
    run_until_empty(settings, engine, transport=memory)
    assert sorted(r[0] for _, r, _ in memory.sent) == [
        "c0@example.com",
        "c1@example.com",
        "c2@example.com",
    ]
    with session_scope(engine) as session:
        runs = session.exec(select(CampaignRun)).all()
    assert [(r.run_key, r.created_requests) for r in runs] == [("nps@2025-03-01T10:00:00Z", 3)]


def test_campaign_requests_respect_the_cap(post, engine, settings, memory):
    post(ticket_event())
    run_until_empty(settings, engine, transport=memory)
    result = run_campaign(settings, engine, "nps", FIRST_OF_MONTH)
    assert result.created == 0 and "last 7 days" in result.suppressed[0][1]


def test_a_segment_audience_needs_the_segment(engine, settings):
    nps = settings.survey("nps")
    campaign = nps.campaign.model_copy(update={"audience": "segment", "segment": "vips"})
    surveys = [nps.model_copy(update={"campaign": campaign})]
    config = settings.model_copy(update={"surveys": surveys})
    with pytest.raises(CampaignError, match="no segment named 'vips'"):
        run_campaign(config, engine, "nps", FIRST_OF_MONTH)
    with pytest.raises(CampaignError, match="unknown survey"):
        run_campaign(config, engine, "nope", FIRST_OF_MONTH)


def test_the_scheduled_time_is_the_cron_time_that_just_passed(settings):
    trigger = cron_trigger(settings, settings.survey("nps"))  # "0 10 1 * *"
    late = FIRST_OF_MONTH + timedelta(minutes=3, seconds=7)
    assert last_fire_time(trigger, late, timedelta(days=1)) == FIRST_OF_MONTH
    assert last_fire_time(trigger, FIRST_OF_MONTH - timedelta(minutes=1), timedelta(days=1)) is None


def test_the_scheduler_has_one_cron_job_per_campaign(settings, engine):
    scheduler = build_scheduler(settings, engine)
    assert [job.id for job in scheduler.get_jobs()] == ["campaign:nps"]


def test_campaign_now_from_the_command_line(post, engine, settings, config_file, tmp_path):
    post(ticket_event())
    env = {
        "MAILFLOW_DATABASE_URL": settings.database_url,
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "120",
    }
    command = [sys.executable, "-m", "mailflow", "--config", str(config_file), "campaign", "nps"]
    done = subprocess.run(
        [*command, "--now"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "audience 1" in done.stdout and "campaign nps" in done.stdout
    with session_scope(engine) as session:
        assert len(session.exec(select(SurveyRequest)).all()) == 2
    refused = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "--now" in refused.stderr
