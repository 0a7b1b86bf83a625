"""`mailflow demo`: a living data set through record_answer, refused on a non-empty database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from mailflow.demo import DemoRefused, run_demo
from mailflow.reports import build_filter, figures, survey_types, trends
from storage.models import (
    SOURCES,
    AnalyticsRow,
    Comment,
    Escalation,
    InboundMessage,
    Response,
    SurveyRequest,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_demo_fills_every_state_channel_and_type(engine, settings):
    summary = run_demo(engine, settings, now=NOW)
    assert summary.counts["contacts"] == 40 and summary.counts["tickets"] >= 600
    with Session(engine) as session:
        states = dict(
            session.execute(
                select(SurveyRequest.state, func.count()).group_by(SurveyRequest.state)
            ).all()
        )
        sources = set(session.execute(select(Response.source).distinct()).scalars())
        surveys = set(session.execute(select(Response.survey_key).distinct()).scalars())
        negatives = session.execute(
            select(func.count()).where(Response.negative.is_(True))
        ).scalar_one()
        escalated = session.execute(select(func.count()).select_from(Escalation)).scalar_one()
        comments = session.execute(
            select(func.count()).where(Comment.response_id.is_not(None))
        ).scalar_one()
        analytics = session.execute(select(func.count()).select_from(AnalyticsRow)).scalar_one()
        quarantined = session.execute(
            select(func.count()).where(InboundMessage.status == "quarantined")
        ).scalar_one()
        months = trends(session, survey_types(settings), build_filter(settings), "month")
        people = figures(session, survey_types(settings), build_filter(settings))
    assert {"scheduled", "sent", "answered", "expired", "failed", "suppressed", "bounced"} <= set(
        states
    )
    assert sources == set(SOURCES)
    assert surveys == {s.key for s in settings.surveys}
    assert negatives > 30 and escalated == negatives
    assert comments > 400 and analytics > 2000 and quarantined >= 5
    assert len(months) >= 6
    assert len([p for p in people if p.answers > 20]) >= 8
    assert len({p.coefficient for p in people}) > 3  # employees differ


def test_demo_refuses_a_database_with_data(engine, settings, seeded):
    with pytest.raises(DemoRefused, match="--force"):
        run_demo(engine, settings, now=NOW)
    summary = run_demo(engine, settings, now=NOW, force=True, tickets=30)
    assert summary.counts["contacts"] == 41 and summary.counts["tickets"] == 12 + 30 + 4
