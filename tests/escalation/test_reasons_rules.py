"""Reasons in escalation rules, segments and webhooks: "reason is Rude staff → the team lead",
a segment of clients who named a reason, and every payload carrying the reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailflow.answers import Answer, InvalidAnswer, record_answer, record_reasons
from mailflow.escalation.filing import file_pending
from mailflow.segments import contact_ids
from mailflow.settings import load_settings
from storage.models import (
    AnswerReason,
    Comment,
    Employee,
    Escalation,
    SurveyRequest,
    WebhookDelivery,
)
from tests.escalation.conftest import escalation_config, make_request

LEAD = "team-lead@example.com"


@pytest.fixture
def settings(tmp_path: Path, receiver):
    text = escalation_config(receiver.url).replace(
        '# escalate_to = { rude = "team-lead@example.com" }',
        f'escalate_to = {{ rude = "{LEAD}" }}',
    )
    text = text.replace('"request.bounced"]', '"request.bounced", "response.reasons"]')
    path = tmp_path / "mailflow.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def _answer(engine, settings, tag, answer, **made):
    request_id = make_request(engine, "csat", tag=tag, **made).request_id
    with Session(engine) as session:
        recorded = record_answer(
            session, settings, session.get(SurveyRequest, request_id), answer, "link"
        )
        session.commit()
        return request_id, recorded


def _manager_of(engine, response_id):
    with Session(engine) as session:
        escalation = session.exec(
            select(Escalation).where(Escalation.response_id == response_id)
        ).one()
        manager = session.get(Employee, escalation.manager_id) if escalation.manager_id else None
        return escalation.rule, manager.email if manager else None


def test_rude_staff_goes_to_the_team_lead_before_the_own_manager(engine, settings):
    _, recorded = _answer(
        engine,
        settings,
        "rude",
        Answer(score=2, reasons={"what_went_wrong": "rude"}),
        manager_email="own@example.com",
    )
    assert recorded.negative
    assert file_pending(settings, engine) == 1
    assert _manager_of(engine, recorded.response.id) == ("reason what_went_wrong is rude", LEAD)


def test_other_reasons_keep_the_usual_manager(engine, settings):
    _, recorded = _answer(
        engine,
        settings,
        "slow",
        Answer(score=2, reasons={"what_went_wrong": "slow"}),
        manager_email="own-slow@example.com",
    )
    file_pending(settings, engine)
    assert _manager_of(engine, recorded.response.id) == ("score<=2", "own-slow@example.com")


def test_a_reason_given_later_readdresses_an_escalation_not_filed_yet(engine, settings):
    request_id, recorded = _answer(engine, settings, "later", Answer(score=1))
    with Session(engine) as session:
        request = session.get(SurveyRequest, request_id)
        record_reasons(session, settings, request, {"what_went_wrong": "rude"}, {}, "link")
        session.commit()
        [comment] = session.exec(select(Comment)).all()
        assert "What went wrong? Rude staff" in comment.body
    file_pending(settings, engine)
    assert _manager_of(engine, recorded.response.id)[1] == LEAD
    with Session(engine) as session:
        events = {d.event: d.payload for d in session.exec(select(WebhookDelivery))}
    assert events["response.reasons"]["data"]["reasons"] == {
        "what_went_wrong": {"option": "rude", "text": None}
    }
    assert events["response.created"]["data"]["reasons"] == {}


def test_reasons_are_in_the_created_webhook_when_given_with_the_answer(engine, settings):
    _answer(engine, settings, "hook", Answer(score=1, reasons={"what_went_wrong": "slow"}))
    with Session(engine) as session:
        created = [
            d for d in session.exec(select(WebhookDelivery)) if d.event == "response.created"
        ]
    assert created[0].payload["data"]["reasons"] == {
        "what_went_wrong": {"option": "slow", "text": None}
    }


def test_reasons_are_checked_against_the_survey(engine, settings):
    with pytest.raises(InvalidAnswer, match="unknown option 'weather'"):
        _answer(engine, settings, "bad", Answer(score=1, reasons={"what_went_wrong": "weather"}))
    with pytest.raises(InvalidAnswer, match="unknown follow-up"):
        _answer(engine, settings, "bad2", Answer(score=1, reasons={"nope": "slow"}))
    # A reason the answer does not ask (a good score) is dropped, not stored.
    _answer(engine, settings, "good", Answer(score=5, reasons={"what_went_wrong": "slow"}))
    with Session(engine) as session:
        assert session.exec(select(AnswerReason)).all() == []


def test_a_changed_score_drops_reasons_it_no_longer_asks(engine, settings):
    request_id, _ = _answer(
        engine, settings, "chg", Answer(score=1, reasons={"what_went_wrong": "slow"})
    )
    with Session(engine) as session:
        request = session.get(SurveyRequest, request_id)
        record_answer(session, settings, request, Answer(score=1, comment="still bad"), "link")
        session.commit()
        assert [r.option for r in session.exec(select(AnswerReason))] == ["slow"]  # kept
        record_answer(session, settings, request, Answer(score=5), "link")
        session.commit()
        assert session.exec(select(AnswerReason)).all() == []


def test_segment_of_clients_who_named_a_reason(engine, settings):
    rude_id, _ = _answer(
        engine, settings, "s1", Answer(score=2, reasons={"what_went_wrong": "rude"})
    )
    _answer(engine, settings, "s2", Answer(score=2, reasons={"what_went_wrong": "slow"}))
    with Session(engine) as session:
        rude_contact = session.get(SurveyRequest, rude_id).contact_id
        found = session.exec(contact_ids({"type": "reason", "reason": "rude", "days": 30})).all()
        assert list(found) == [rude_contact]
        narrowed = {"type": "reason", "reason": "rude", "survey": "nps"}
        assert list(session.exec(contact_ids(narrowed)).all()) == []
