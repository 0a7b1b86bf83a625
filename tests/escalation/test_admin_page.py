"""The escalations admin page: open and resolved, who, when, what; resolving leaves a comment."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from mailflow.answers import Answer, record_answer
from mailflow.database import open_engine
from mailflow.escalation.filing import file_pending
from mailflow.settings import load_settings
from storage.models import Comment, Escalation, SurveyRequest, Task
from tests.escalation.conftest import escalation_config, make_request
from tests.escalation.webapp import csrf_of, serving, signed_in
from tests.support.policy import free_port


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'mailflow.db'}")
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    path = tmp_path / "mailflow.toml"
    path.write_text(escalation_config(), encoding="utf-8")
    settings = load_settings(path)
    engine = open_engine(settings)
    with serving(settings, engine) as url:
        yield settings, engine, url
    engine.dispose()


def _negative(settings, engine, tag: str, comment: str, *, filed: bool = True) -> int:
    made = make_request(engine, "csat", tag=tag)
    with Session(engine) as session:
        request = session.get(SurveyRequest, made.request_id)
        recorded = record_answer(
            session, settings, request, Answer(score=1, comment=comment), "link"
        )
        session.commit()
    if filed:
        file_pending(settings, engine)  # what the worker does moments later
    return recorded.response.id


def test_list_detail_and_resolve_with_a_note(site):
    settings, engine, url = site
    response_id = _negative(settings, engine, "a", "Nobody called <me> back")
    _negative(settings, engine, "b", "Slow")
    with httpx.Client(base_url=url, timeout=10) as anonymous:
        assert anonymous.get("/admin/escalations").status_code == 303  # sign-in first
    with closing(signed_in(engine, url, locale="ru")) as client:
        _walk_through(client, engine, response_id)


def _walk_through(client: httpx.Client, engine, response_id: int) -> None:
    listing = client.get("/admin/escalations")
    assert listing.status_code == 200
    assert "Эскалации" in listing.text
    assert "Nobody called &lt;me&gt; back" in listing.text and "Slow" in listing.text
    assert "client-a@example.com" in listing.text and "Agent a" in listing.text
    # The link from the manager's email leads to the escalation of that response.
    jump = client.get(f"/admin/escalations/response/{response_id}")
    assert jump.status_code == 303
    detail = client.get(jump.headers["location"])
    assert detail.status_code == 200
    assert "Очень недоволен" in detail.text and "Maria Manager" in detail.text
    escalation_id = int(jump.headers["location"].rsplit("/", 1)[1])
    action = f"/admin/escalations/{escalation_id}/resolve"
    # No CSRF field: refused. Empty note: refused with the reason.
    assert client.post(action, data={"note": "done"}).status_code == 403
    empty = client.post(action, data={"csrf": csrf_of(detail.text), "note": "  "})
    assert empty.status_code == 400 and "Напишите, что было сделано." in empty.text
    done = client.post(
        action, data={"csrf": csrf_of(detail.text), "note": "Called the client, sent a new printer"}
    )
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    assert "Решено. Заметка добавлена в подзадачу." in shown.text
    assert "Called the client, sent a new printer" in shown.text and "maria" in shown.text
    again = client.post(action, data={"csrf": csrf_of(detail.text), "note": "twice"})
    assert again.status_code == 409
    with Session(engine) as session:
        escalation = session.get(Escalation, escalation_id)
        assert escalation.status == "resolved" and escalation.resolved_by == "maria"
        subtask = session.get(Task, escalation.subtask_id)
        assert subtask.status == "resolved"
        [note] = session.exec(select(Comment).where(Comment.task_id == subtask.id)).all()
        assert note.body == "Called the client, sent a new printer" and note.author == "maria"
    open_page = client.get("/admin/escalations?status=open").text
    resolved_page = client.get("/admin/escalations?status=resolved").text
    assert f'id="escalation-{escalation_id}"' not in open_page
    assert f'id="escalation-{escalation_id}"' in resolved_page
    assert client.get("/admin/escalations/99999").status_code == 404


def test_an_escalation_not_yet_filed_shows_and_can_be_resolved(site):
    """Between the answer and the worker's filing, managers already see it and may close it."""
    settings, engine, url = site
    response_id = _negative(settings, engine, "early", "Printer still broken", filed=False)
    with closing(signed_in(engine, url, locale="en")) as client:
        listing = client.get("/admin/escalations")
        assert listing.status_code == 200 and "Printer still broken" in listing.text
        jump = client.get(f"/admin/escalations/response/{response_id}")
        detail = client.get(jump.headers["location"])
        assert detail.status_code == 200 and "Printer still broken" in detail.text
        action = jump.headers["location"] + "/resolve"
        done = client.post(action, data={"csrf": csrf_of(detail.text), "note": "Replaced it"})
        assert done.status_code == 303
    assert file_pending(settings, engine) == 0  # resolved before filing: nothing to file
