"""Addresses as the world writes them: IDN domains and Unicode local parts are taken at the
edge, stored normalised, and sent (IDNA on the wire, SMTPUTF8 where the relay offers it); a
malformed one is refused naming the field; a relay without SMTPUTF8 fails that one request."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from mailflow.auth import create_api_key
from mailflow.events import EventError
from mailflow.followups import followup_email
from mailflow.notifications import enqueue_notification
from mailflow.service import run_until_empty
from mailflow.web.app import create_app
from storage.engine import session_scope
from storage.models import Contact, Employee, SurveyRequest

from .conftest import ticket_event, with_outbound
from .served import served
from .sinks import Relay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def relay_settings(settings):
    def make(relay: Relay):
        return with_outbound(
            settings,
            transport="smtp",
            smtp_host=relay.host,
            smtp_port=relay.port,
            smtp_security="none",
            smtp_timeout=5,
            cap_days=0,
        )

    return make


def stored(engine) -> dict[str, tuple[str, str | None]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Contact.email, SurveyRequest.state, SurveyRequest.last_error).join(
                SurveyRequest, SurveyRequest.contact_id == Contact.id
            )
        ).all()
    return {address: (state, error) for address, state, error in rows}


def test_unicode_and_idn_addresses_are_taken_and_stored_normalised(post, engine):
    post(ticket_event(ticket="1", email="Иван@Почта.РФ", employee="Agent@Bücher.DE"))
    post(ticket_event(ticket="2", email="é@example.org"))
    with session_scope(engine) as session:
        contacts = set(session.exec(select(Contact.email)))
        employees = set(session.exec(select(Employee.email)))
    assert contacts == {"иван@почта.рф", "é@example.org"}
    assert "agent@bücher.de" in employees


@pytest.mark.parametrize(
    ("contact", "employee", "field"),
    [
        ("ivan@@example.org", "bob@example.com", "contact.email"),
        ("ivan at example.org", "bob@example.com", "contact.email"),
        ("anna@example.com", "bob@", "employee.email"),
        ("anna@example.com, eve@example.org", "bob@example.com", "contact.email"),
    ],
)
def test_a_malformed_address_is_refused_naming_the_field(post, contact, employee, field):
    with pytest.raises(EventError) as refused:
        post(ticket_event(email=contact, employee=employee))
    assert refused.value.field == field
    assert "not a valid email address" in refused.value.message


@pytest.mark.parametrize(
    ("part", "key", "limit"),
    [("ticket", "title", 500), ("ticket", "status", 100), ("contact", "name", 200)],
)
def test_an_overlong_field_is_refused_naming_it(post, part, key, limit):
    event = ticket_event()
    event[part][key] = "x" * limit  # the longest that is taken
    post(event)
    event[part][key] = "x" * (limit + 1)
    with pytest.raises(EventError) as refused:
        post(event)
    assert refused.value.field == f"{part}.{key}"


def test_the_api_answers_422_naming_the_field_and_the_cli_says_which(
    settings, engine, config_file, tmp_path
):
    with session_scope(engine) as session:
        key = create_api_key(session, "helpdesk")
    bad = ticket_event(email="ivan@почта@рф")
    auth = {"Authorization": f"Bearer {key}"}
    with served(create_app(settings, engine)) as base:
        reply = httpx.post(f"{base}/api/events", json=bad, headers=auth, timeout=10)
        good = httpx.post(
            f"{base}/api/events", json=ticket_event(email="иван@почта.рф"), headers=auth
        )
    assert reply.status_code == 422
    assert reply.json()["field"] == "contact.email"
    assert "not a valid email address" in reply.json()["error"]
    assert good.status_code == 202

    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(bad), encoding="utf-8")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailflow",
            "--config",
            str(config_file),
            "event",
            "--json",
            str(event_file),
        ],
        cwd=tmp_path,
        env={
            "MAILFLOW_DATABASE_URL": settings.database_url,
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode != 0
    assert "contact.email" in cli.stderr + cli.stdout


def test_unicode_addresses_go_out_with_smtputf8_and_idna(post, engine, relay_settings):
    relay = Relay(smtputf8=True).start()
    try:
        post(ticket_event(ticket="1", email="иван@почта.рф"))
        post(ticket_event(ticket="2", email="user@bücher.de"))
        run_until_empty(relay_settings(relay), engine)
    finally:
        relay.stop()
    by_rcpt = {m.rcpt_tos[0]: m for m in relay.messages}
    assert set(by_rcpt) == {"иван@xn--80a1acny.xn--p1ai", "user@xn--bcher-kva.de"}
    ivan = email.message_from_string(  # RFC 6532: the header is raw UTF-8
        by_rcpt["иван@xn--80a1acny.xn--p1ai"].data.decode("utf-8"), policy=email.policy.SMTPUTF8
    )
    assert ivan["To"].addresses[0].addr_spec == "иван@xn--80a1acny.xn--p1ai"
    assert set(stored(engine).values()) == {("sent", None)}


def test_a_relay_without_smtputf8_fails_only_the_unicode_request(post, engine, relay_settings):
    relay = Relay(smtputf8=False).start()
    try:
        post(ticket_event(ticket="1", email="иван@почта.рф"))
        post(ticket_event(ticket="2", email="user@bücher.de"))  # IDNA alone needs no SMTPUTF8
        post(ticket_event(ticket="3", email="anna@example.com"))
        run_until_empty(relay_settings(relay), engine)
    finally:
        relay.stop()
    assert sorted(m.rcpt_tos[0] for m in relay.messages) == [
        "anna@example.com",
        "user@xn--bcher-kva.de",
    ]
    rows = stored(engine)
    state, error = rows["иван@почта.рф"]
    assert state == "failed" and "SMTPUTF8" in error
    assert rows["anna@example.com"] == ("sent", None)


def test_a_notice_to_a_unicode_address_is_sent_with_smtputf8(engine, settings, relay_settings):
    relay = Relay(smtputf8=True).start()
    try:
        email_ = followup_email(
            settings,
            settings.survey("csat"),
            kind="thank_you",
            to="мария@почта.рф",
            to_name="Мария",
            locale="ru",
            unsubscribe_token="t",
        )
        with session_scope(engine) as session:
            enqueue_notification(
                session,
                kind="followup",
                dedupe_key="f:1",
                recipient=email_.recipient,
                message_id=email_.message_id,
                eml=email_.eml,
            )
        run_until_empty(relay_settings(relay), engine)
    finally:
        relay.stop()
    (received,) = relay.messages
    assert received.rcpt_tos == ["мария@xn--80a1acny.xn--p1ai"]
    parsed = email.message_from_string(received.data.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert parsed["To"].addresses[0].display_name == "Мария"
