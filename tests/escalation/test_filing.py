"""A negative answer's escalation is committed with the answer and filed by the worker: once,
whoever files it, and not at all when a manager resolved it first."""

from __future__ import annotations

from sqlmodel import Session, select

from mailflow.answers import Answer, record_answer
from mailflow.escalation.filing import drain, file_escalation, file_pending
from mailflow.escalation.resolve import resolve
from mailflow.outbox.transports import MemoryTransport
from mailflow.service import run_until_empty
from storage.engine import session_scope
from storage.models import Escalation, Notification, SurveyRequest, Task, WebhookDelivery
from tests.escalation.conftest import make_request


def _negative(engine, settings, tag: str) -> int:
    made = make_request(engine, "csat", tag=tag)
    with Session(engine) as session:
        request = session.get(SurveyRequest, made.request_id)
        recorded = record_answer(session, settings, request, Answer(score=1), "link")
        session.commit()
    return recorded.response.id


def _rows(engine, model) -> list:
    with Session(engine) as session:
        return list(session.exec(select(model)))


def test_the_escalation_is_open_at_once_and_filed_by_the_worker(engine, settings):
    _negative(engine, settings, "open")
    [escalation] = _rows(engine, Escalation)
    assert escalation.status == "open" and escalation.rule  # visible to managers at once
    assert escalation.subtask_id is None
    assert [n for n in _rows(engine, Notification) if n.kind == "escalation"] == []
    assert file_pending(settings, engine) == 1
    [escalation] = _rows(engine, Escalation)
    subtask = [t for t in _rows(engine, Task) if t.kind == "escalation"]
    assert [t.id for t in subtask] == [escalation.subtask_id]
    assert escalation.manager_id is not None
    assert [n.kind for n in _rows(engine, Notification)].count("escalation") == 1
    events = sorted(d.event for d in _rows(engine, WebhookDelivery))
    assert events == ["escalation.created", "response.created", "response.negative"]


def test_two_filers_file_once(engine, settings):
    _negative(engine, settings, "twice")
    with session_scope(engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        stale = Escalation(**escalation.model_dump())  # what a second worker read meanwhile
    assert drain(settings, engine, limit=10) == 1
    with session_scope(engine) as session:
        assert file_escalation(session, settings, stale) is False
    assert len([t for t in _rows(engine, Task) if t.kind == "escalation"]) == 1
    assert [n.kind for n in _rows(engine, Notification)].count("escalation") == 1
    assert len(_rows(engine, WebhookDelivery)) == 3


def test_an_escalation_resolved_before_filing_is_left_alone(engine, settings):
    _negative(engine, settings, "early")
    [escalation] = _rows(engine, Escalation)
    with session_scope(engine) as session:
        resolve(session, escalation.id, "Called the client already", by="admin")
    assert file_pending(settings, engine) == 0
    assert [t for t in _rows(engine, Task) if t.kind == "escalation"] == []
    assert [n for n in _rows(engine, Notification) if n.kind == "escalation"] == []


def test_the_worker_loop_files_and_mails_the_manager(engine, settings):
    _negative(engine, settings, "loop")
    memory = MemoryTransport()
    run_until_empty(settings, engine, transport=memory)
    [escalation] = _rows(engine, Escalation)
    assert escalation.subtask_id is not None
    manager_mail = [raw for _, rcpt, raw in memory.sent if rcpt == ["manager@example.com"]]
    assert len(manager_mail) == 1 and b"X-Mailflow-Escalation" in manager_mail[0]
