"""The outbox worker with the memory transport: sending, expiry, resend, notifications, CLI."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from mailflow.cli.app import app
from mailflow.notifications import enqueue_notification
from mailflow.outbox.resend import ResendRefused, resend_request
from mailflow.service import run_until_empty
from mailflow.tokens import Purpose, signer_for
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import Notification, SentMessage, SurveyRequest

from .conftest import ticket_event


def only_request(engine) -> SurveyRequest:
    with session_scope(engine) as session:
        return session.exec(select(SurveyRequest)).one()


def test_the_message_id_is_kept_before_and_after_sending(post, engine, settings, memory):
    post(ticket_event())
    run_until_empty(settings, engine, transport=memory)
    request = only_request(engine)
    with session_scope(engine) as session:
        kept = session.exec(select(SentMessage.message_id)).all()
    assert kept == [request.message_id]
    message = email.message_from_bytes(memory.sent[0][2])
    assert message["Message-ID"] == request.message_id
    signer = signer_for(settings)
    # Replies go to the signed reply address, bounces to the signed VERP bounce address.
    reply = signer.sign(request.id, Purpose.REPLY)
    assert f"survey+{reply}@reply.localhost" in message["Reply-To"]
    envelope_sender = memory.sent[0][0]
    assert envelope_sender == f"bounce+{signer.sign(request.id, Purpose.BOUNCE)}@reply.localhost"
    assert signer.verify(envelope_sender[7:39], Purpose.BOUNCE) == request.id


def test_sent_requests_expire_after_the_survey_days(post, engine, settings, memory):
    post(ticket_event())
    run_until_empty(settings, engine, transport=memory)
    assert only_request(engine).state == "sent"
    with session_scope(engine) as session:
        request = session.exec(select(SurveyRequest)).one()
        request.expires_at = utcnow() - timedelta(seconds=1)
        session.add(request)
    assert run_until_empty(settings, engine, transport=memory) == 1
    assert only_request(engine).state == "expired"


def test_resend_uses_a_new_message_id_and_the_same_token(post, engine, settings, memory):
    post(ticket_event())
    run_until_empty(settings, engine, transport=memory)
    first = only_request(engine)
    new_id = resend_request(settings, engine, first.id, transport=memory)
    assert new_id != first.message_id
    one, two = (email.message_from_bytes(raw) for _, _, raw in memory.sent)
    assert two["Message-ID"] == new_id and one["Message-ID"] == first.message_id
    assert one["Reply-To"] == two["Reply-To"]
    assert one["List-Unsubscribe"] == two["List-Unsubscribe"]
    (first_sender, *_), (second_sender, *_) = memory.sent
    assert second_sender == first_sender and second_sender.startswith("bounce+")
    with session_scope(engine) as session:
        kept = set(session.exec(select(SentMessage.message_id)).all())
    assert kept == {first.message_id, new_id}


def test_resend_is_refused_for_answered_unless_forced(post, engine, settings, memory):
    post(ticket_event())
    run_until_empty(settings, engine, transport=memory)
    with session_scope(engine) as session:
        request = session.exec(select(SurveyRequest)).one()
        request.state = "answered"
        session.add(request)
    with pytest.raises(ResendRefused, match="answered; use --force"):
        resend_request(settings, engine, request.id, transport=memory)
    resend_request(settings, engine, request.id, force=True, transport=memory)
    assert len(memory.sent) == 2
    assert only_request(engine).state == "answered"


def test_notifications_are_sent_once_per_dedupe_key(engine, settings, memory):
    eml = b"From: a@example.com\r\nTo: m@example.com\r\nSubject: escalation\r\n\r\nBad score.\r\n"
    with session_scope(engine) as session:
        first = enqueue_notification(
            session,
            kind="escalation",
            dedupe_key="esc:1",
            recipient="m@example.com",
            eml=eml,
            message_id="<n1@reply.localhost>",
        )
        again = enqueue_notification(
            session,
            kind="escalation",
            dedupe_key="esc:1",
            recipient="m@example.com",
            eml=eml,
            message_id="<n2@reply.localhost>",
        )
    assert first is not None and again is None
    assert run_until_empty(settings, engine, transport=memory) == 1
    assert memory.sent == [(settings.brand.sender_email, ["m@example.com"], eml)]
    with session_scope(engine) as session:
        row = session.exec(select(Notification)).one()
    assert row.state == "sent" and row.sent_at is not None


def test_requests_command_lists_suppressed_with_reasons(
    post, engine, config_file, settings, monkeypatch
):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", settings.database_url)
    post(ticket_event(ticket="1", kind="ticket.status_changed", status="Open"))
    post(ticket_event(ticket="1"))
    post(ticket_event(ticket="1", kind="ticket.reopened", status="Open"))
    post(ticket_event(ticket="2", email="other@example.com"))
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--config", str(config_file), "requests", "--state", "suppressed"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "ticket reopened before the survey was sent" in result.output
    assert "anna@example.com" in result.output and "other@example.com" not in result.output
    bad = runner.invoke(app, ["--config", str(config_file), "requests", "--state", "nope"])
    assert bad.exit_code == 2


def test_contacts_merge_moves_history(post, engine, config_file, settings, monkeypatch):
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", settings.database_url)
    post(ticket_event(ticket="1", email="anna@example.com"))
    post(ticket_event(ticket="2", email="anna.old@example.com"))
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(config_file),
            "contacts",
            "merge",
            "anna@example.com",
            "anna.old@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 requests and 1 tickets moved" in result.output
    with session_scope(engine) as session:
        owners = set(session.exec(select(SurveyRequest.contact_id)).all())
    assert len(owners) == 1
