"""Periods follow the configured time zone: an answer at 00:30 on 1 November in Warsaw belongs
to November there, though it is still 31 October in UTC (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from mailflow.reports import build_filter, figures, survey_types
from storage.engine import session_scope
from storage.models import Contact, Employee, Response, SurveyRequest

LATE_OCTOBER = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)  # 23:30 in Warsaw (CET, UTC+1)
EARLY_NOVEMBER = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 November in Warsaw


def _answer(engine, at: datetime, score: int) -> None:
    with session_scope(engine) as session:
        employee = session.get(Employee, 1) or Employee(id=1, name="Alice", team="A")
        contact = Contact(email=f"c{score}@example.com")
        session.add_all([employee, contact])
        session.flush()
        request = SurveyRequest(
            survey_key="csat",
            dedupe_key=f"tz-{score}",
            contact_id=contact.id,
            employee_id=employee.id,
            state="answered",
            due_at=at - timedelta(minutes=5),
            sent_at=at - timedelta(minutes=5),
            answered_at=at,
        )
        session.add(request)
        session.flush()
        session.add(
            Response(
                request_id=request.id,
                survey_key="csat",
                score=score,
                answers={"score": str(score)},
                source="link",
                negative=score <= 2,
                created_at=at,
                updated_at=at,
            )
        )


def _counts(engine, settings, period: str) -> tuple[int, int]:
    with Session(engine) as session:
        rows = figures(session, survey_types(settings), build_filter(settings, period=period))
    return sum(r.positive for r in rows), sum(r.negative for r in rows)


def test_month_boundaries_in_the_configured_zone(engine, settings):
    _answer(engine, LATE_OCTOBER, 5)
    _answer(engine, EARLY_NOVEMBER, 1)
    utc = settings
    warsaw = settings.model_copy(update={"timezone": "Europe/Warsaw"})
    assert _counts(engine, utc, "2026-10") == (1, 1)  # both on 31 October in UTC
    assert _counts(engine, utc, "2026-11") == (0, 0)
    assert _counts(engine, warsaw, "2026-10") == (1, 0)
    assert _counts(engine, warsaw, "2026-11") == (0, 1)
    assert _counts(engine, warsaw, "2026-11-01") == (0, 1)


def test_filter_reads_dates_in_the_local_calendar(settings):
    warsaw = settings.model_copy(update={"timezone": "Europe/Warsaw"})
    flt = build_filter(warsaw, date_from="2026-10-01", date_to="2026-10-31")
    assert flt.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # CEST, UTC+2
    assert flt.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # CET after 25 October


def test_dashboard_times_are_local(settings):
    from mailflow.web.pages import Pages

    pages = Pages(settings.model_copy(update={"timezone": "Europe/Warsaw"}))
    assert pages.localtime(EARLY_NOVEMBER) == "2026-11-01 00:30"
    assert Pages(settings).localtime(EARLY_NOVEMBER) == "2026-10-31 23:30"
    assert pages.localtime(None) == ""


def test_monthly_and_weekly_trends_use_the_local_calendar(engine, settings):
    """Identical local buckets on SQLite (mf_local) and PostgreSQL (timezone())."""
    from mailflow.reports import trends

    _answer(engine, LATE_OCTOBER, 5)
    _answer(engine, EARLY_NOVEMBER, 1)
    warsaw = settings.model_copy(update={"timezone": "Europe/Warsaw"})
    types = survey_types(settings)
    with Session(engine) as session:
        utc_months = trends(session, types, build_filter(settings), "month")
        local_months = trends(session, types, build_filter(warsaw), "month")
        local_weeks = trends(session, types, build_filter(warsaw), "week")
    assert [(p.bucket, p.answers) for p in utc_months] == [("2026-10", 2)]
    assert [(p.bucket, p.answers) for p in local_months] == [("2026-10", 1), ("2026-11", 1)]
    # Saturday 31 October and Sunday 1 November (local) share the week of Monday 26 October.
    assert [(p.bucket, p.answers) for p in local_weeks] == [("2026-10-26", 2)]
