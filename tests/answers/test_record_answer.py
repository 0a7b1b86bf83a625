"""record_answer, the one recording function, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from mailflow.answers import (
    AlreadyAnswered,
    Answer,
    InvalidAnswer,
    RequestExpired,
    RequestNotAnswerable,
    record_answer,
)
from mailflow.escalation.filing import file_pending
from storage.clock import utcnow
from storage.models import (
    AnalyticsRow,
    Comment,
    Contact,
    Employee,
    Escalation,
    Response,
    SurveyRequest,
    Task,
)


@pytest.fixture
def engine(migrated_engine):
    return migrated_engine


def make_request(engine, survey_key: str, *, state: str = "sent", expires_in_days: float = 7):
    with Session(engine, expire_on_commit=False) as session:
        contact = Contact(email=f"anna-{survey_key}-{state}@example.com", name="Anna")
        employee = Employee(name="Piotr Nowak", email=f"piotr-{survey_key}-{state}@example.com")
        session.add(contact)
        session.add(employee)
        session.flush()
        ticket = Task(
            kind="ticket",
            title="Printer",
            external_ref=f"T-{survey_key}-{state}",
            contact_id=contact.id,
            employee_id=employee.id,
        )
        session.add(ticket)
        session.flush()
        now = utcnow()
        request = SurveyRequest(
            survey_key=survey_key,
            dedupe_key=f"{survey_key}:{ticket.id}:1",
            contact_id=contact.id,
            ticket_id=ticket.id,
            employee_id=employee.id,
            state=state,
            sent_at=now,
            expires_at=now + timedelta(days=expires_in_days),
        )
        session.add(request)
        session.commit()
        return request


def test_answer_files_response_analytics_and_ticket_comment(engine, example_settings):
    request = make_request(engine, "nps")
    with Session(engine) as session:
        loaded = session.get(SurveyRequest, request.id)
        recorded = record_answer(
            session, example_settings, loaded, Answer(score=9, comment="Fast and friendly"), "link"
        )
        session.commit()
        assert recorded.created and not recorded.negative
    with Session(engine) as session:
        response = session.exec(select(Response)).one()
        assert (response.score, response.source, response.answers) == (9, "link", {"score": "9"})
        survey_task = session.exec(select(Task).where(Task.kind == "survey")).one()
        assert survey_task.external_ref == "nps"
        rows = {r.field: r.value for r in session.exec(select(AnalyticsRow)).all()}
        assert rows["score"] == "9"
        assert rows["comment"] == "Fast and friendly"
        assert rows["employee"] == "Piotr Nowak"
        assert rows["ticket"] == "T-nps-sent"
        comment = session.exec(select(Comment)).one()
        assert comment.task_id == request.ticket_id
        assert comment.author == "NPS"
        assert "Rating: 9" in comment.body and "Fast and friendly" in comment.body
        assert session.get(SurveyRequest, request.id).state == "answered"
        assert session.exec(select(Escalation)).all() == []


def test_ticket_comment_speaks_the_staffs_language(engine, example_settings):
    """Staff read the ticket in the default locale, whatever language the client answered in."""
    staff_in_polish = example_settings.model_copy(update={"default_locale": "pl"})
    request = make_request(engine, "csat")
    with Session(engine) as session:
        loaded = session.get(SurveyRequest, request.id)
        record_answer(
            session, staff_in_polish, loaded, Answer(score=2, comment="Za długo"), "reply"
        )
        session.commit()
    with Session(engine) as session:
        body = session.exec(select(Comment)).one().body
    survey = example_settings.survey("csat")
    assert survey.texts["pl"].title in body and "(reply)" in body
    assert f"Ocena: 2 — {survey.labels('pl')['2']}" in body
    assert "Komentarz: Za długo" in body and "Negatywna odpowiedź" in body
    assert "Rating" not in body and "Comment" not in body


def test_negative_form_answer_escalates_once(engine, example_settings):
    request = make_request(engine, "service_quality")
    filed = []
    for _ in range(2):
        with Session(engine) as session:
            req = session.get(SurveyRequest, request.id)
            recorded = record_answer(
                session,
                example_settings,
                req,
                Answer(answers={"speed": "slow", "work": "good"}, comment="Took a week"),
                "google_form",
            )
            session.commit()
            assert recorded.negative
        filed.append(file_pending(example_settings, engine))  # the worker, after each
    assert filed == [1, 0]  # the repeat opened no second escalation
    with Session(engine) as session:
        escalation = session.exec(select(Escalation)).one()
        subtask = session.get(Task, escalation.subtask_id)
        assert subtask.kind == "escalation" and subtask.parent_id == request.ticket_id
        rows = {r.field: r.value for r in session.exec(select(AnalyticsRow)).all()}
        assert rows["answer.speed"] == "slow" and rows["answer.work"] == "good"
        assert len(session.exec(select(Comment)).all()) == 1
        assert len(session.exec(select(Response)).all()) == 1


def test_forbid_change_keeps_the_first_answer(engine, example_settings):
    request = make_request(engine, "thumbs")
    with Session(engine) as session:
        record_answer(
            session,
            example_settings,
            session.get(SurveyRequest, request.id),
            Answer(answers={"thumbs": "good"}),
            "link",
        )
        session.commit()
    with Session(engine) as session, pytest.raises(AlreadyAnswered) as caught:
        record_answer(
            session,
            example_settings,
            session.get(SurveyRequest, request.id),
            Answer(answers={"thumbs": "bad"}),
            "reply",
        )
    assert caught.value.response.answers == {"thumbs": "good"}


def test_change_within_edit_window_replaces_and_after_it_is_refused(engine, example_settings):
    request = make_request(engine, "csat")
    start = utcnow()
    with Session(engine) as session:
        record_answer(
            session,
            example_settings,
            session.get(SurveyRequest, request.id),
            Answer(score=2),
            "link",
            now=start,
        )
        session.commit()
    with Session(engine) as session:
        recorded = record_answer(
            session,
            example_settings,
            session.get(SurveyRequest, request.id),
            Answer(score=5, comment="Sorted now"),
            "amp",
            now=start + timedelta(hours=1),
        )
        session.commit()
        assert recorded.replaced and not recorded.negative
    with Session(engine) as session:
        response = session.exec(select(Response)).one()
        assert (response.score, response.source) == (5, "amp")
        rows = {r.field: r.value for r in session.exec(select(AnalyticsRow)).all()}
        assert rows["score"] == "5"
    with Session(engine) as session, pytest.raises(AlreadyAnswered):
        record_answer(
            session,
            example_settings,
            session.get(SurveyRequest, request.id),
            Answer(score=1),
            "link",
            now=start + timedelta(hours=25),
        )


def test_refusals(engine, example_settings):
    expired = make_request(engine, "nps", expires_in_days=-1)
    unsent = make_request(engine, "csat", state="suppressed")
    with Session(engine) as session:
        with pytest.raises(RequestExpired):
            record_answer(
                session,
                example_settings,
                session.get(SurveyRequest, expired.id),
                Answer(score=9),
                "link",
            )
        with pytest.raises(InvalidAnswer):
            record_answer(
                session,
                example_settings,
                session.get(SurveyRequest, expired.id),
                Answer(score=11),
                "link",
            )
        with pytest.raises(RequestNotAnswerable):
            record_answer(
                session,
                example_settings,
                session.get(SurveyRequest, unsent.id),
                Answer(score=4),
                "link",
            )
