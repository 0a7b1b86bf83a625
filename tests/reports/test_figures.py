"""Report figures on SQLite and PostgreSQL against seed.py, whose numbers are worked out here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from mailflow.reports import (
    ReportInputError,
    build_filter,
    figures,
    rated_tickets,
    survey_types,
    total_figures,
    trends,
)


def _by_label(rows):
    return {row.label: row for row in rows}


def test_per_employee_figures_for_october(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    with Session(engine) as session:
        rows = _by_label(figures(session, survey_types(settings), flt, by="employee"))
    assert set(rows) == {"Alice", "Bob", "Carol"}
    alice, bob, carol = rows["Alice"], rows["Bob"], rows["Carol"]
    # Alice: csat 5, 4, 2(neg), nps 10 -> 3 positive, 1 negative -> 3/4 = 75 %
    assert (alice.positive, alice.negative, alice.coefficient) == (3, 1, 75.0)
    assert alice.csat == 66.7  # 2 of 3 csat answers are 4-5
    assert alice.nps == 100.0  # one promoter out of one
    assert alice.ces is None and alice.thumbs_up is None
    assert (alice.sent, alice.answered, alice.response_rate) == (5, 4, 80.0)
    assert alice.median_seconds == 900.0  # 300, 600 | 1200, 1800 -> (600 + 1200) / 2
    assert alice.team == "A"
    # Bob: nps 9, 3(neg); ces 6; thumbs up, down(neg) -> 3 / 5 = 60 %
    assert (bob.positive, bob.negative, bob.coefficient) == (3, 2, 60.0)
    assert bob.nps == 0.0  # 1 promoter, 1 detractor of 2
    assert bob.ces == 6.0
    assert bob.thumbs_up == 50.0
    assert (bob.sent, bob.answered, bob.response_rate) == (5, 5, 100.0)
    assert bob.median_seconds == 240.0  # 60, 120, 240, 3600, 7200
    # Carol: csat 3 only (September's 1 is outside) -> 100 %, CSAT 0 %, 1 of 3 answered
    assert (carol.positive, carol.negative, carol.coefficient) == (1, 0, 100.0)
    assert carol.csat == 0.0
    assert (carol.sent, carol.answered, carol.response_rate) == (3, 1, 33.3)
    assert carol.median_seconds == 100.0


def test_by_team_and_by_survey(engine, seeded, settings):
    flt = build_filter(settings, period="2026-10")
    types = survey_types(settings)
    with Session(engine) as session:
        teams = _by_label(figures(session, types, flt, by="team"))
        surveys = _by_label(figures(session, types, flt, by="survey"))
    assert (teams["A"].positive, teams["A"].negative, teams["A"].coefficient) == (6, 3, 66.7)
    assert (teams["B"].positive, teams["B"].negative) == (1, 0)
    # csat answers in October: 5, 4, 2, 3 -> 2 of 4 are 4-5
    assert (surveys["csat"].csat, surveys["csat"].answers, surveys["csat"].negative) == (50.0, 4, 1)
    # nps: 10, 9, 3 -> 2 promoters, 1 detractor of 3 -> 33.3
    assert surveys["nps"].nps == 33.3
    # csat sent in October: 4 answered + Alice's and Carol's unanswered = 6
    assert (surveys["csat"].sent, surveys["csat"].answered) == (6, 4)


def test_filters_narrow_the_figures(engine, seeded, settings):
    types = survey_types(settings)
    with Session(engine) as session:
        reply = _by_label(
            figures(session, types, build_filter(settings, period="2026-10", channel="reply"))
        )
        team_b = figures(session, types, build_filter(settings, period="2026-10", team="B"))
        alice = figures(
            session, types, build_filter(settings, period="2026-10", employee=seeded["alice"])
        )
        form = total_figures(
            session, types, build_filter(settings, period="2026-10", channel="form")
        )
        everything = total_figures(session, types, build_filter(settings))
        nps_only = total_figures(
            session,
            types,
            build_filter(settings, survey="nps", date_from="2026-10-01", date_to="2026-10-31"),
        )
    assert (reply["Alice"].positive, reply["Alice"].negative, reply["Alice"].coefficient) == (
        0,
        1,
        0.0,
    )
    assert (reply["Bob"].negative, reply["Bob"].answered, reply["Bob"].sent) == (1, 1, 5)
    assert [row.label for row in team_b] == ["Carol"]
    assert [row.label for row in alice] == ["Alice"]
    assert (form.answers, form.positive, form.negative) == (2, 1, 1)  # google_form + web_form
    assert (everything.answers, everything.negative) == (12, 5)
    assert (nps_only.answers, nps_only.nps, nps_only.sent) == (3, 33.3, 4)


def test_monthly_and_weekly_trends(engine, seeded, settings):
    types = survey_types(settings)
    with Session(engine) as session:
        months = {p.bucket: p for p in trends(session, types, build_filter(settings), "month")}
        weeks = {
            p.bucket: p
            for p in trends(session, types, build_filter(settings, period="2026-10"), "week")
        }
    assert list(months) == ["2026-09", "2026-10", "2026-11"]
    assert months["2026-10"].csat == 50.0 and months["2026-10"].nps == 33.3
    assert months["2026-10"].ces == 6.0
    assert (months["2026-10"].sent, months["2026-10"].answered) == (13, 10)
    assert months["2026-09"].csat == 0.0 and months["2026-11"].answers == 1
    # ISO weeks start on Monday: 2026-09-28 holds 1-4 October (+ 5 October's unanswered)
    assert list(weeks)[:3] == ["2026-09-28", "2026-10-05", "2026-10-12"]
    assert weeks["2026-09-28"].answers == 4 and weeks["2026-09-28"].csat == 66.7
    assert weeks["2026-10-05"].nps == 100.0 and weeks["2026-10-05"].response_rate == 50.0


def test_rated_tickets_link_comment_and_escalation_fields(engine, seeded, settings):
    types = survey_types(settings)
    flt = build_filter(settings, period="2026-10")
    with Session(engine) as session:
        page, total = rated_tickets(session, types, flt, limit=3)
        negatives, n_negative = rated_tickets(session, types, flt, negative_only=True)
    assert total == 10 and len(page) == 3
    assert page[0].answered_at == datetime(2026, 10, 22, 9, 1, 40, tzinfo=UTC)
    assert (page[0].employee, page[0].answer, page[0].channel) == ("Carol", "3", "link")
    assert page[0].ticket_ref == "T-10" and page[0].contact_email == "client@example.com"
    assert n_negative == 3  # Alice csat 2, Bob nps 3, Bob thumbs down
    assert {t.answer for t in negatives if t.survey_type == "thumbs"} == {"bad"}


def test_bad_filters_name_the_field(settings):
    with pytest.raises(ReportInputError, match=r"^period:"):
        build_filter(settings, period="October")
    with pytest.raises(ReportInputError, match=r"^channel:"):
        build_filter(settings, channel="fax")
    with pytest.raises(ReportInputError, match=r"^survey:"):
        build_filter(settings, survey="nope")
    with pytest.raises(ReportInputError, match=r"^to:"):
        build_filter(settings, date_from="2026-10-05", date_to="2026-10-01")


def test_segment_filter_uses_saved_segments(engine, seeded, settings):
    from mailflow.segments import create_segment
    from storage.engine import session_scope
    from storage.models import Contact, Employee, Response, SurveyRequest

    with session_scope(engine) as session:
        create_segment(session, "vip", {"type": "vip"})
        vip = Contact(email="vip@example.com", vip=True)
        session.add(vip)
        session.flush()
        carol = session.get(Employee, seeded["carol"])
        sent = datetime(2026, 10, 9, 8, tzinfo=UTC)
        request = SurveyRequest(
            survey_key="csat",
            dedupe_key="vip-1",
            contact_id=vip.id,
            employee_id=carol.id,
            state="answered",
            due_at=sent,
            sent_at=sent,
            answered_at=sent,
        )
        session.add(request)
        session.flush()
        session.add(
            Response(
                request_id=request.id,
                survey_key="csat",
                score=1,
                source="link",
                negative=True,
                created_at=sent,
                updated_at=sent,
            )
        )
    types = survey_types(settings)
    with Session(engine) as session:
        rows = figures(session, types, build_filter(settings, period="2026-10", segment="vip"))
        with pytest.raises(ReportInputError, match=r"^segment:"):
            figures(session, types, build_filter(settings, segment="nobody"))
    assert [(r.label, r.positive, r.negative, r.sent) for r in rows] == [("Carol", 0, 1, 1)]


def test_report_indexes_exist(engine):
    from sqlalchemy import inspect

    indexes = {ix["name"] for ix in inspect(engine).get_indexes("surveyrequest")}
    assert {"ix_request_sent", "ix_request_answered", "ix_request_survey_sent"} <= indexes
    assert "ix_response_created" in {ix["name"] for ix in inspect(engine).get_indexes("response")}
