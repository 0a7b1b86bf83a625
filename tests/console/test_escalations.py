"""The escalation workspace over HTTP on a real uvicorn: the list's views, assign (with the
assignee's email), internal comment, reply to the client in the survey's thread, the client's
answer to it back on the same escalation's timeline (never a score), resolve, reopen, the
overdue reminder sent once, and an `escalation.updated` webhook row for every action."""

from __future__ import annotations

import email
from contextlib import closing
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from mailflow.answers import Answer, record_answer
from mailflow.auth import create_user
from mailflow.database import open_engine
from mailflow.escalation import reminders
from mailflow.escalation.filing import file_pending
from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from mailflow.settings import load_settings
from storage.clock import utcnow
from storage.models import (
    Employee,
    Escalation,
    EscalationEvent,
    InboundMessage,
    Notification,
    Response,
    SurveyRequest,
    User,
    WebhookDelivery,
)
from tests.escalation.conftest import escalation_config, make_request
from tests.escalation.webapp import csrf_of, serving, signed_in
from tests.support.policy import free_port

SURVEY_MESSAGE_ID = "<survey-a@mail.example.com>"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'mailflow.db'}")
    monkeypatch.setenv("MAILFLOW_WEB__BASE_URL", f"http://127.0.0.1:{free_port()}")
    text = escalation_config("http://127.0.0.1:9/hook").replace(
        '"request.bounced"]', '"request.bounced", "escalation.updated"]'
    )
    path = tmp_path / "mailflow.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    engine = open_engine(settings)
    with serving(settings, engine) as url:
        yield settings, engine, url
    engine.dispose()


def _negative(settings, engine, tag: str, comment: str) -> int:
    made = make_request(engine, "csat", tag=tag)
    with Session(engine) as session:
        request = session.get(SurveyRequest, made.request_id)
        request.message_id = f"<survey-{tag}@mail.example.com>"
        session.add(request)
        record_answer(session, settings, request, Answer(score=1, comment=comment), "link")
        session.commit()
    file_pending(settings, engine)
    with Session(engine) as session:
        response = session.exec(
            select(Response).where(Response.request_id == made.request_id)
        ).one()
        return session.exec(
            select(Escalation.id).where(Escalation.response_id == response.id)
        ).one()


def _agent(engine, username: str, address: str) -> int:
    with Session(engine) as session:
        employee = Employee(name="Ivan Agent", email=address)
        session.add(employee)
        session.flush()
        user = create_user(session, username, "correct horse battery staple", locale="pl")
        user.employee_id = employee.id
        session.add(user)
        session.commit()
        return user.id


def _post(client, path: str, **data):
    page = client.get(path.rsplit("/", 1)[0])
    return client.post(path, data={"csrf": csrf_of(page.text), **data})


def test_assign_comment_reply_client_answer_resolve_reopen(site):
    settings, engine, url = site
    escalation_id = _negative(settings, engine, "a", "Nobody called me back")
    other = _negative(settings, engine, "b", "Slow")
    ivan = _agent(engine, "ivan", "ivan@example.com")
    base = f"/admin/escalations/{escalation_id}"
    with closing(signed_in(engine, url, locale="en")) as client:
        assert client.post(base + "/comment", data={"text": "x"}).status_code == 403  # no CSRF
        unassigned = client.get("/admin/escalations?view=unassigned").text
        assert f'id="escalation-{escalation_id}"' in unassigned and "2 of 2" in unassigned
        # Assign to Ivan: his email is queued in his (Polish) language; Mine is still empty.
        assert _post(client, base + "/assign", assignee=str(ivan)).status_code == 303
        page = client.get(base).text
        assert 'id="assignee">Ivan Agent<' in page and "Assigned to Ivan Agent" in page
        assert (
            f'id="escalation-{escalation_id}"'
            not in client.get("/admin/escalations?view=mine").text
        )
        with Session(engine) as session:
            [note] = session.exec(
                select(Notification).where(Notification.kind == "escalation.assigned")
            ).all()
        assigned = email.message_from_string(note.payload["eml"], policy=default)
        assert note.recipient == "ivan@example.com"
        assert f"Przypisano Ci eskalację nr {escalation_id}" == str(assigned["Subject"])
        # An internal comment; an empty one is refused with the reason and nothing is kept.
        empty = _post(client, base + "/comment", text="   ")
        assert empty.status_code == 400 and "Write something first." in empty.text
        assert _post(client, base + "/comment", text="Calling <them> now").status_code == 303
        assert "Calling &lt;them&gt; now" in client.get(base).text
        # Reply to the client: threaded under the survey, Reply-To names this escalation.
        reply = _post(client, base + "/reply", text="We are sorry.\n\nA new printer is on its way.")
        assert reply.status_code == 303
        with Session(engine) as session:
            [sent] = session.exec(
                select(Notification).where(Notification.kind == "escalation.reply")
            ).all()
        mail = email.message_from_string(sent.payload["eml"], policy=default)
        assert sent.recipient == "client-a@example.com"
        assert mail["In-Reply-To"] == SURVEY_MESSAGE_ID
        assert SURVEY_MESSAGE_ID in mail["References"]
        assert mail["Auto-Submitted"] is None  # a person wrote it
        assert "A new printer is on its way." in mail.get_body(("plain",)).get_content()
        reply_to = mail["Reply-To"].addresses[0].addr_spec
        assert reply_to.startswith("survey+")
        # The client answers that reply with a "1" on top: it joins the timeline, no new score.
        answer = (
            f"From: Client A <client-a@example.com>\r\nTo: {reply_to}\r\n"
            f"Subject: Re: {mail['Subject']}\r\nMessage-ID: <answer-a@client.example>\r\n"
            f"In-Reply-To: {mail['Message-ID']}\r\nReferences: {SURVEY_MESSAGE_ID} "
            f"{mail['Message-ID']}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "1 more week and I cancel. Thanks for the printer though.\r\n"
        ).encode()
        store_raw(engine, answer, via="smtp", envelope_to=[reply_to])
        run_until_empty(settings, engine)
        with Session(engine) as session:
            [row] = session.exec(select(InboundMessage)).all()
            assert row.status == "parsed" and row.reason == f"escalation_reply: {escalation_id}"
            responses = session.exec(select(Response)).all()
            assert sorted(r.score for r in responses) == [1, 1]  # unchanged
        page = client.get(base).text
        assert "The client answered" in page and "1 more week and I cancel" in page
        assert "1 more week" not in client.get(f"/admin/escalations/{other}").text
        # Resolve, then reopen.
        assert _post(client, base + "/resolve", note="Sent a printer").status_code == 303
        page = client.get(base).text
        assert 'id="status">Resolved<' in page and 'id="reopen"' in page
        again = _post(client, base + "/reply", text="More")
        assert again.status_code == 409
        assert _post(client, base + "/reopen").status_code == 303
        assert 'id="status">Open<' in client.get(base).text
        assert _post(client, base + "/reopen").status_code == 409
        assert _post(client, base + "/fly").status_code == 404
    with Session(engine) as session:
        kinds = [
            e.kind
            for e in session.exec(
                select(EscalationEvent).where(EscalationEvent.escalation_id == escalation_id)
            )
        ]
        hooks = session.exec(
            select(WebhookDelivery).where(WebhookDelivery.event == "escalation.updated")
        ).all()
    expected = ["assigned", "comment", "reply_sent", "client_reply", "resolved", "reopened"]
    assert kinds == expected
    assert sorted(h.payload["data"]["action"] for h in hooks) == sorted(expected)


def test_overdue_is_highlighted_filtered_and_reminded_once(site):
    settings, engine, url = site
    late = _negative(settings, engine, "late", "Still waiting")
    fresh = _negative(settings, engine, "fresh", "Meh")
    with Session(engine) as session:  # opened 30 h ago: past the 24 h target of csat
        session.execute(
            update(Escalation)
            .where(Escalation.id == late)
            .values(created_at=utcnow() - timedelta(hours=30))
        )
        session.commit()
    with closing(signed_in(engine, url, locale="ru")) as client:
        overdue = client.get("/admin/escalations?view=overdue").text
        assert f'id="escalation-{late}" class="overdue"' in overdue
        assert f'id="escalation-{fresh}"' not in overdue and "просрочено на 6 ч" in overdue
        assert f'id="escalation-{fresh}"' in client.get("/admin/escalations").text
    assert reminders.drain(settings, engine) == 1
    assert reminders.drain(settings, engine) == 0  # once
    with Session(engine) as session:
        [note] = session.exec(
            select(Notification).where(Notification.kind == "escalation.overdue")
        ).all()
        assert note.recipient == "manager@example.com"  # no assignee: the manager
        assert session.get(Escalation, late).reminded_at is not None
        assert session.exec(select(User)).first() is not None


def test_sort_and_pages_keep_the_filters(site):
    settings, engine, url = site
    ids = [_negative(settings, engine, f"p{i}", f"c{i}") for i in range(3)]
    with closing(signed_in(engine, url)) as client:
        page = client.get("/admin/escalations?view=open&per_page=2&sort=id").text
        assert "1–2 of 3" in page and f'id="escalation-{ids[2]}"' not in page
        assert 'href="?view=open&amp;sort=id&amp;per_page=2&amp;page=2"' in page
        second = client.get("/admin/escalations?view=open&sort=id&per_page=2&page=2").text
        assert "3–3 of 3" in second and f'id="escalation-{ids[2]}"' in second
        found = client.get("/admin/escalations?q=client-p1").text
        assert "1–1 of 1" in found and f'id="escalation-{ids[1]}"' in found
