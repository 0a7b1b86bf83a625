"""Events in: contacts, triggers, delays, resolutions, reopen, and every suppression reason."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
from sqlmodel import select

from mailflow.events import EventError, EventIn, parse_event
from mailflow.service import run_until_empty
from storage.clock import as_utc, utcnow
from storage.engine import session_scope
from storage.models import Contact, Employee, SurveyRequest, Task

from .conftest import ticket_event, with_outbound, with_trigger


def requests_of(engine, survey: str | None = None) -> list[SurveyRequest]:
    with session_scope(engine) as session:
        query = select(SurveyRequest).order_by(SurveyRequest.id)
        if survey:
            query = query.where(SurveyRequest.survey_key == survey)
        return list(session.exec(query).all())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(type="ticket.deleted"), "type"),
        (lambda p: p["contact"].update(email="not an address"), "contact.email"),
        (lambda p: p["ticket"].pop("id"), "ticket.id"),
        (lambda p: p.update(occurred_at="yesterday-ish"), "occurred_at"),
        (lambda p: p["contact"].update(vip="perhaps"), "contact.vip"),
    ],
)
def test_a_bad_event_names_the_field(change, field):
    payload = ticket_event()
    change(payload)
    with pytest.raises(EventError) as caught:
        parse_event(payload)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_numeric_ids_are_accepted_as_text():
    payload = ticket_event()
    payload["ticket"]["id"] = 1042
    assert parse_event(payload).ticket.id == "1042"
    assert isinstance(parse_event(parse_event(payload)), EventIn)


def test_closing_a_ticket_sends_csat_at_once_and_a_repeat_is_a_no_op(
    post, engine, settings, memory
):
    first = post(ticket_event())
    assert len(first.created) == 1
    again = post(ticket_event())
    assert again.created == [] and again.suppressed == []
    assert run_until_empty(settings, engine, transport=memory) == 1
    (sent,) = memory.sent
    message = email.message_from_bytes(sent[2])
    assert sent[1] == ["anna@example.com"]
    assert message["X-Mailflow-Survey"] == "csat"
    (request,) = requests_of(engine)
    assert request.state == "sent" and message["Message-ID"] == request.message_id
    assert as_utc(request.expires_at) - as_utc(request.sent_at) == timedelta(days=7)


def test_the_same_event_twice_at_once_creates_one_request(post, engine):
    moment = utcnow()
    post(ticket_event(occurred_at=moment))
    # The ticket is closed already; a concurrent duplicate would collide on the dedupe key.
    assert post(ticket_event(occurred_at=moment)).created == []
    assert len(requests_of(engine)) == 1


def test_one_contact_per_address_found_again_by_external_id(post, engine):
    post(ticket_event(email="Anna@Example.com", ticket="A"))
    payload = ticket_event(email="anna@example.com", ticket="B")
    payload["contact"]["external_id"] = "crm-7"
    post(payload)
    other = ticket_event(email="anna.new@example.com", ticket="C")
    other["contact"]["external_id"] = "crm-7"
    post(other)
    with session_scope(engine) as session:
        contacts = session.exec(select(Contact)).all()
        employees = session.exec(select(Employee)).all()
    assert [(c.email, c.external_id) for c in contacts] == [("anna@example.com", "crm-7")]
    assert len(employees) == 1


def test_closed_reopened_closed_gets_a_survey_per_resolution(post, engine, settings, memory):
    start = utcnow() - timedelta(hours=3)
    settings = with_outbound(settings, cap_days=0)
    post(ticket_event(occurred_at=start), config=settings)
    run_until_empty(settings, engine, transport=memory)
    post(ticket_event("ticket.reopened", status="Open", occurred_at=start + timedelta(hours=1)))
    second = post(ticket_event(occurred_at=start + timedelta(hours=2)), config=settings)
    assert len(second.created) == 1
    run_until_empty(settings, engine, transport=memory)
    assert [r.state for r in requests_of(engine)] == ["sent", "sent"]
    assert len(memory.sent) == 2


def test_a_reopen_before_sending_suppresses_with_the_reason(post, engine, settings, memory):
    settings = with_trigger(settings, "csat", on="ticket.closed", delay_hours=2)
    created = post(ticket_event(), config=settings).created
    result = post(ticket_event("ticket.reopened", status="Open"), config=settings)
    assert [i for i, _ in result.cancelled] == created
    run_until_empty(settings, engine, transport=memory)
    assert memory.sent == []
    (request,) = requests_of(engine)
    assert request.state == "suppressed"
    assert request.reason == "ticket reopened before the survey was sent"


def test_a_delay_holds_the_survey_until_due(post, engine, settings, memory):
    settings = with_trigger(settings, "csat", on="ticket.closed", delay_hours=2)
    now = utcnow()
    post(ticket_event(occurred_at=now), config=settings)
    (request,) = requests_of(engine)
    assert as_utc(request.due_at) == now + timedelta(hours=2)
    assert run_until_empty(settings, engine, transport=memory) == 0
    assert memory.sent == []
    post(
        ticket_event(ticket="old", email="b@example.com", occurred_at=now - timedelta(hours=3)),
        config=settings,
    )
    run_until_empty(settings, engine, transport=memory)
    assert [s[1] for s in memory.sent] == [["b@example.com"]]


def test_a_named_status_triggers_its_survey_once(post, engine):
    assert post(ticket_event("ticket.status_changed", status="In progress")).created == []
    created = post(ticket_event("ticket.status_changed", status="Completed")).created
    assert len(created) == 1
    assert post(ticket_event("ticket.status_changed", status="completed")).created == []
    (request,) = requests_of(engine)
    assert request.survey_key == "ces"


def test_vip_only_survey_skips_other_contacts_with_a_reason(post, engine, settings):
    settings = with_trigger(settings, "thumbs", on="ticket.closed", vip_only=True)
    post(ticket_event(email="vip@example.com", ticket="V", vip=True), config=settings)
    post(ticket_event(email="plain@example.com", ticket="P", vip=False), config=settings)
    thumbs = {r.contact_id: r for r in requests_of(engine, "thumbs")}
    with session_scope(engine) as session:
        ids = {c.email: c.id for c in session.exec(select(Contact))}
    assert thumbs[ids["vip@example.com"]].state == "scheduled"
    plain = thumbs[ids["plain@example.com"]]
    assert plain.state == "suppressed" and "VIP" in plain.reason


def test_no_second_survey_within_the_cap(post, engine, settings, memory):
    post(ticket_event(ticket="1"))
    run_until_empty(settings, engine, transport=memory)
    result = post(ticket_event(ticket="2"))
    assert result.created == []
    ((_, reason),) = result.suppressed
    assert reason == "a survey was sent to this contact in the last 7 days"
    # Outside the window (cap_days = 0 switches the cap off) the contact is asked again.
    assert post(ticket_event(ticket="3"), config=with_outbound(settings, cap_days=0)).created


def test_the_cap_is_checked_again_at_send_time(post, engine, settings, memory):
    delayed = with_trigger(settings, "csat", on="ticket.closed", delay_hours=1)
    post(ticket_event(ticket="later", occurred_at=utcnow() - timedelta(minutes=59)), config=delayed)
    post(ticket_event(ticket="first"))
    run_until_empty(settings, engine, transport=memory)
    assert len(memory.sent) == 1
    with session_scope(engine) as session:
        query = select(SurveyRequest).where(SurveyRequest.dedupe_key.like("csat:later:%"))
        request = session.exec(query).one()
        request.due_at = utcnow()
        session.add(request)
    run_until_empty(settings, engine, transport=memory)
    assert len(memory.sent) == 1
    later = next(r for r in requests_of(engine) if r.dedupe_key.startswith("csat:later:"))
    assert later.state == "suppressed" and "last 7 days" in later.reason


@pytest.mark.parametrize(
    ("column", "reason"),
    [("unsubscribed_at", "contact unsubscribed"), ("bounced_at", "address bounced")],
)
def test_unsubscribed_and_bounced_contacts_get_nothing(
    post, engine, settings, memory, column, reason
):
    post(ticket_event(ticket="1", status="Open", kind="ticket.status_changed"))
    with session_scope(engine) as session:
        contact = session.exec(select(Contact)).one()
        setattr(contact, column, utcnow())
        session.add(contact)
    result = post(ticket_event(ticket="1"))
    assert result.created == [] and result.suppressed[0][1].startswith(reason)
    run_until_empty(settings, engine, transport=memory)
    assert memory.sent == []


def test_the_employee_rated_is_the_one_at_send_time(post, engine, settings, memory):
    delayed = with_trigger(settings, "csat", on="ticket.closed", delay_hours=1)
    earlier = utcnow() - timedelta(hours=2)
    post(ticket_event(employee="bob@example.com", occurred_at=earlier), config=delayed)
    post(
        ticket_event("ticket.status_changed", employee="carol@example.com", occurred_at=earlier),
        config=delayed,
    )
    run_until_empty(settings, engine, transport=memory)
    with session_scope(engine) as session:
        carol = session.exec(select(Employee).where(Employee.email == "carol@example.com")).one()
        request = session.exec(select(SurveyRequest)).one()
        ticket = session.get(Task, request.ticket_id)
    assert request.state == "sent" and request.employee_id == carol.id == ticket.employee_id


def test_locale_comes_from_the_contact_with_a_fallback(post, engine):
    post(ticket_event(ticket="ru", email="ru@example.com", locale="ru-RU"))
    post(ticket_event(ticket="xx", email="xx@example.com", locale="de"))
    assert [r.locale for r in requests_of(engine)] == ["ru", "en"]
