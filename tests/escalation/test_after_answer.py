"""A negative answer reaches the right manager at once; positive ones only thank (if asked)."""

from __future__ import annotations

import email
from email.message import Message

from sqlmodel import Session, select

from mailflow import webhooks
from mailflow.answers import Answer, record_answer
from mailflow.escalation.filing import file_pending
from mailflow.outbox.notifications import message_of
from storage.models import Employee, Escalation, Notification, SurveyRequest, Task, WebhookDelivery
from tests.escalation.conftest import make_request


def answer(engine, settings, request_id: int, reply: Answer, source: str = "link"):
    with Session(engine, expire_on_commit=False) as session:
        request = session.get(SurveyRequest, request_id)
        recorded = record_answer(session, settings, request, reply, source)
        session.commit()
    file_pending(settings, engine)  # what the worker does moments later
    return recorded


def notifications(engine, kind: str | None = None) -> list[Notification]:
    with Session(engine) as session:
        query = select(Notification).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.exec(query))


def parsed(engine, settings, row: Notification) -> Message:
    """The message the worker sends for `row`, as it was queued."""
    return email.message_from_bytes(message_of(row))


def bodies(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode("utf-8")
        for part in message.walk()
        if not part.is_multipart()
    }


def escalation_of(engine) -> tuple[Escalation, Task, Employee | None]:
    with Session(engine) as session:
        escalation = session.exec(select(Escalation)).one()
        subtask = session.get(Task, escalation.subtask_id)
        manager = session.get(Employee, escalation.manager_id) if escalation.manager_id else None
        return escalation, subtask, manager


def test_negative_form_answer_goes_to_survey_manager_with_the_full_analytics_row(engine, settings):
    made = make_request(engine, "service_quality", tag="sq")
    recorded = answer(
        engine,
        settings,
        made.request_id,
        Answer(answers={"speed": "slow", "work": "good"}, comment="Took <b>a week</b>"),
        "google_form",
    )
    assert recorded.negative
    escalation, subtask, manager = escalation_of(engine)
    # escalate_to = manager@example.com, created on first use with [[escalation.managers]] data
    assert manager.email == "manager@example.com" and manager.name == "Maria Manager"
    assert subtask.kind == "escalation" and subtask.parent_id == made.ticket_id
    assert subtask.employee_id == manager.id
    assert escalation.rule and escalation.rule.startswith("speed")
    # The description holds the analytics row in the manager's language (ru), with links.
    description = subtask.description
    for expected in (
        "Клиент: Client sq <client-sq@example.com>",
        "Сотрудник: Agent sq",
        "Заявка: #T-sq Printer sq",
        "Как быстро была обработана ваша заявка?: Медленно",
        "Как вы оцениваете работу менеджера?: Хорошо",
        "Комментарий:\n> Took <b>a week</b>",  # the client's words quoted
        "https://helpdesk.example.com/tickets/T-sq",
        f"/admin/escalations/response/{recorded.response.id}#response",
    ):
        assert expected in description, (expected, description)
    # One escalation email, in Russian, HTML and text with the same facts, link to the admin.
    [row] = notifications(engine, "escalation")
    assert row.recipient == "manager@example.com"
    message = parsed(engine, settings, row)
    assert message["Message-ID"] == row.message_id
    assert message["Content-Language"] == "ru"
    parts = bodies(message)
    html, text = parts["text/html"], parts["text/plain"]
    admin = f"http://127.0.0.1:8000/admin/escalations/response/{recorded.response.id}"
    for part in (html, text):
        assert admin in part
        assert "Медленно" in part and "Agent sq" in part and "client-sq@example.com" in part
    assert "Took <b>a week</b>" in text
    assert "Took &lt;b&gt;a week&lt;/b&gt;" in html and "<b>a week" not in html
    # No follow-up for service_quality (not configured), webhooks queued for every event.
    assert notifications(engine, "followup.apology") == []
    with Session(engine) as session:
        events = sorted(d.event for d in session.exec(select(WebhookDelivery)))
    assert events == ["escalation.created", "response.created", "response.negative"]


def test_the_employees_own_manager_comes_first(engine, settings):
    made = make_request(
        engine, "csat", tag="own", team="printers", manager_email="boss@example.com"
    )
    answer(engine, settings, made.request_id, Answer(score=1))
    _, _, manager = escalation_of(engine)
    assert manager.email == "boss@example.com"
    [row] = notifications(engine, "escalation")
    assert parsed(engine, settings, row)["Content-Language"] == "pl"  # the own manager's locale


def test_team_manager_before_the_default(engine, settings):
    made = make_request(engine, "csat", tag="team", team="printers")
    answer(engine, settings, made.request_id, Answer(score=2))
    _, _, manager = escalation_of(engine)
    assert manager.email == "printers-lead@example.com"


def test_default_manager_and_no_ticket_files_under_the_survey_task(engine, settings):
    made = make_request(engine, "csat", tag="dflt", with_ticket=False)
    answer(engine, settings, made.request_id, Answer(score=1))
    _, subtask, manager = escalation_of(engine)
    assert manager.email == "manager@example.com"  # default_manager
    with Session(engine) as session:
        survey_task = session.exec(select(Task).where(Task.kind == "survey")).one()
    assert subtask.parent_id == survey_task.id


def test_manager_with_notifications_off_gets_the_subtask_but_no_email(engine, settings, tmp_path):
    quiet = settings.model_copy(update={"default_manager": "quiet@example.com"})
    made = make_request(engine, "csat", tag="quiet", with_ticket=False)
    answer(engine, quiet, made.request_id, Answer(score=1))
    _, subtask, manager = escalation_of(engine)
    assert manager.email == "quiet@example.com" and not manager.notify_email
    assert subtask is not None and subtask.employee_id == manager.id
    assert notifications(engine, "escalation") == []


def test_turning_notifications_off_on_an_existing_employee_is_respected(engine, settings):
    made = make_request(engine, "csat", tag="off", manager_email="off@example.com")
    with Session(engine) as session:
        boss = session.exec(select(Employee).where(Employee.email == "off@example.com")).one()
        boss.notify_email = False
        session.add(boss)
        session.commit()
    answer(engine, settings, made.request_id, Answer(score=1))
    assert notifications(engine, "escalation") == []


def test_positive_answer_escalates_nothing_and_gets_a_thank_you(engine, settings):
    made = make_request(engine, "csat", tag="happy", locale="pl")
    answer(engine, settings, made.request_id, Answer(score=5, comment="Super"))
    with Session(engine) as session:
        assert session.exec(select(Escalation)).all() == []
        assert session.exec(select(Task).where(Task.kind == "escalation")).all() == []
        events = [d.event for d in session.exec(select(WebhookDelivery))]
    assert events == ["response.created"]
    [thanks] = notifications(engine)
    assert thanks.kind == "followup.thank_you" and thanks.recipient == "client-happy@example.com"
    message = parsed(engine, settings, thanks)
    assert "Dziękujemy za opinię!" in bodies(message)["text/plain"]
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/u/")


def test_negative_answer_gets_one_apology_and_repeats_change_nothing(engine, settings):
    made = make_request(engine, "csat", tag="sad", locale="ru")
    answer(engine, settings, made.request_id, Answer(score=1, comment="Плохо"))
    # A changed answer inside the edit window (still negative), then the same again.
    answer(engine, settings, made.request_id, Answer(score=2, comment="Всё ещё плохо"), "reply")
    answer(engine, settings, made.request_id, Answer(score=2, comment="Всё ещё плохо"), "reply")
    with Session(engine) as session:
        assert len(session.exec(select(Escalation)).all()) == 1
        assert len(session.exec(select(Task).where(Task.kind == "escalation")).all()) == 1
        events = sorted(d.event for d in session.exec(select(WebhookDelivery)))
    assert events == ["escalation.created", "response.created", "response.negative"]
    kinds = sorted(n.kind for n in notifications(engine))
    assert kinds == ["escalation", "followup.apology"]
    [apology] = notifications(engine, "followup.apology")
    text = bodies(parsed(engine, settings, apology))["text/plain"]
    assert "Руководитель разберётся сегодня же" in text  # the survey's own ru apology text


def test_no_follow_up_to_an_unsubscribed_contact(engine, settings):
    made = make_request(engine, "csat", tag="unsub", unsubscribed=True)
    answer(engine, settings, made.request_id, Answer(score=1))
    kinds = [n.kind for n in notifications(engine)]
    assert kinds == ["escalation"]


def test_escalation_webhook_carries_the_answer_and_the_manager(engine, settings, receiver):
    made = make_request(engine, "csat", tag="hook")
    answer(engine, settings, made.request_id, Answer(score=1, comment="slow"))
    assert webhooks.drain(settings, engine, limit=10) == 3
    got = {r.json["event"]: r for r in receiver.accepted()}
    assert set(got) == {"response.created", "response.negative", "escalation.created"}
    assert all(r.signature_ok for r in got.values())
    data = got["escalation.created"].json["data"]
    assert data["escalation"]["manager"]["email"] == "manager@example.com"
    assert data["response"]["score"] == 1 and data["response"]["comment"] == "slow"
    assert data["response"]["client"]["email"] == "client-hook@example.com"
    assert data["response"]["ticket"]["ref"] == "T-hook"
