"""Campaigns never skipped: a run whose time passed while nothing was up is caught up on start
within the grace (default a day), and never twice (the unique run key)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from mailflow.outbox.scheduler import catch_up
from mailflow.service import run_until_empty
from storage.engine import session_scope
from storage.models import CampaignRun, SurveyRequest

from .conftest import ticket_event, with_outbound
from .test_campaigns import FIRST_OF_MONTH


def runs(engine) -> list[str]:
    with session_scope(engine) as session:
        return [run.run_key for run in session.exec(select(CampaignRun))]


def test_a_run_missed_while_nothing_was_up_is_caught_up_once(post, engine, settings, memory):
    settings = with_outbound(settings, cap_days=0)
    post(ticket_event(ticket="1", email="c1@example.com"))
    post(ticket_event(ticket="2", email="c2@example.com"))
    run_until_empty(settings, engine, transport=memory)
    memory.sent.clear()

    # Started at 16:00 on the 2nd: 30 hours after the 10:00 run on the 1st, past the grace.
    assert catch_up(settings, engine, now=FIRST_OF_MONTH + timedelta(hours=30)) == []
    assert runs(engine) == []

    # Started at 15:00 on the 1st (a restart during the morning's maintenance, say).
    started = FIRST_OF_MONTH + timedelta(hours=5)
    results: list[list[str]] = []
    starts = [  # two `mailflow up`s starting at once
        threading.Thread(target=lambda: results.append(catch_up(settings, engine, now=started)))
        for _ in range(2)
    ]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join(60)
    assert sorted(results) == [[], ["nps@2025-03-01T10:00:00Z"]]
    assert catch_up(settings, engine, now=started + timedelta(minutes=1)) == []
    run_until_empty(settings, engine, transport=memory)
    assert sorted(recipients for _, recipients, _ in memory.sent) == [
        ["c1@example.com"],
        ["c2@example.com"],
    ]
    with session_scope(engine) as session:
        nps = session.exec(select(SurveyRequest).where(SurveyRequest.survey_key == "nps")).all()
    assert len(nps) == 2


def test_the_grace_is_a_setting(engine, settings):
    late = FIRST_OF_MONTH + timedelta(hours=30)
    assert catch_up(with_outbound(settings, campaign_grace_hours=0), engine, now=late) == []
    assert runs(engine) == []  # no catch-up at all
    assert catch_up(with_outbound(settings, campaign_grace_hours=48), engine, now=late) == [
        "nps@2025-03-01T10:00:00Z"
    ]
