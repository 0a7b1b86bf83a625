"""The SMTP transport against a real aiosmtpd server on loopback: 2xx, 4xx, 5xx, drops, 550."""

from __future__ import annotations

import asyncio
import email

import pytest
from sqlmodel import select

from mailflow.outbox.transports import (
    PermanentSendError,
    RecipientRefused,
    SmtpTransport,
    TransientSendError,
)
from mailflow.service import run_until_empty
from storage.engine import session_scope
from storage.models import Contact, SurveyRequest
from tests.support.policy import free_port

from .conftest import ticket_event, with_outbound

RAW = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\nMessage-ID: <x@t>\r\n\r\nHello\r\n"
)


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    return with_outbound(
        settings,
        transport="smtp",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_security="none",
        smtp_timeout=5,
        concurrency=2,
        max_attempts=3,
        retry_base_seconds=0,
    )


def states(engine) -> list[tuple[str, int, str | None]]:
    with session_scope(engine) as session:
        rows = session.exec(select(SurveyRequest).order_by(SurveyRequest.id)).all()
        return [(r.state, r.attempts, r.last_error) for r in rows]


def send_once(transport_settings, sender, recipients, raw=RAW):
    async def go():
        transport = SmtpTransport(transport_settings.outbound)
        try:
            await transport.send(sender, recipients, raw)
        finally:
            await transport.close()

    asyncio.run(go())


def test_an_accepted_message_reaches_the_server(post, engine, smtp_settings, smtp_sink):
    post(ticket_event())
    assert run_until_empty(smtp_settings, engine) == 1
    (received,) = smtp_sink.messages
    assert received.rcpt_tos == ["anna@example.com"]
    request = email.message_from_bytes(received.data)
    assert states(engine) == [("sent", 1, None)]
    with session_scope(engine) as session:
        assert session.exec(select(SurveyRequest.message_id)).one() == request["Message-ID"]


def test_a_4xx_reply_is_retried(post, engine, smtp_settings, smtp_sink):
    smtp_sink.fail_next(1, "451 4.3.0 Try later")
    post(ticket_event())
    run_until_empty(smtp_settings, engine)
    assert len(smtp_sink.messages) == 1
    assert states(engine) == [("sent", 2, None)]


def test_a_421_pauses_sending_and_keeps_the_rows_attempt(post, engine, smtp_settings, smtp_sink):
    """421 is the relay closing the channel, not a verdict on the message (issue 15)."""
    smtp_sink.fail_next(1, "421 4.3.2 Service shutting down")
    post(ticket_event())
    run_until_empty(smtp_settings, engine)  # stops claiming while the relay is paused
    assert smtp_sink.messages == []
    ((state, attempts, error),) = states(engine)
    assert (state, attempts) == ("scheduled", 0) and "421" in (error or "")
    run_until_empty(smtp_settings, engine)  # the relay is back
    assert len(smtp_sink.messages) == 1
    assert states(engine) == [("sent", 1, None)]


def test_a_dropped_connection_is_retried(post, engine, smtp_settings, smtp_sink):
    smtp_sink.drop_next(1)
    post(ticket_event())
    run_until_empty(smtp_settings, engine)
    assert len(smtp_sink.dropped) == 1 and len(smtp_sink.messages) == 1
    assert states(engine)[0][:2] == ("sent", 2)


def test_retries_end_failed_with_the_last_error(post, engine, smtp_settings, smtp_sink):
    smtp_sink.fail_next(5, "451 4.3.0 Still busy")
    post(ticket_event())
    run_until_empty(smtp_settings, engine)
    assert smtp_sink.messages == []
    ((state, attempts, error),) = states(engine)
    assert (state, attempts) == ("failed", 3)
    assert "451" in error and "Still busy" in error


def test_retries_wait_an_exponential_backoff(post, engine, smtp_settings, smtp_sink):
    smtp_sink.fail_next(1, "451 4.3.0 Try later")
    post(ticket_event())
    run_until_empty(with_outbound(smtp_settings, retry_base_seconds=600), engine)
    with session_scope(engine) as session:
        request = session.exec(select(SurveyRequest)).one()
    assert request.state == "scheduled" and request.attempts == 1
    assert (request.due_at - request.created_at).total_seconds() >= 600


def test_a_5xx_reply_fails_at_once(post, engine, smtp_settings, smtp_sink):
    smtp_sink.fail_next(1, "554 5.7.1 Rejected as spam")
    post(ticket_event())
    run_until_empty(smtp_settings, engine)
    ((state, attempts, error),) = states(engine)
    assert (state, attempts) == ("failed", 1) and error.startswith("554")


def test_a_refused_recipient_marks_the_address_bounced(post, engine, smtp_settings, smtp_sink):
    smtp_sink.refuse_rcpt("anna@example.com")
    post(ticket_event())
    run_until_empty(smtp_settings, engine)
    with session_scope(engine) as session:
        request = session.exec(select(SurveyRequest)).one()
        contact = session.exec(select(Contact)).one()
    assert request.state == "bounced" and "550" in request.reason
    assert contact.bounced_at is not None and contact.bounce_reason.startswith("550")
    # Nothing more goes to that address.
    later = post(ticket_event(ticket="T-2"))
    assert later.created == [] and later.suppressed[0][1].startswith("address bounced")


def test_transport_errors_are_named(smtp_settings, smtp_sink):
    smtp_sink.refuse_rcpt("gone@example.com")
    with pytest.raises(RecipientRefused) as refused:
        send_once(smtp_settings, "a@example.com", ["gone@example.com"])
    assert refused.value.code == 550 and refused.value.recipient == "gone@example.com"
    smtp_sink.fail_next(1, "450 4.2.0 Mailbox busy", stage="rcpt")
    with pytest.raises(TransientSendError):
        send_once(smtp_settings, "a@example.com", ["b@example.com"])
    smtp_sink.fail_next(1, "552 5.3.4 Too big")
    with pytest.raises(PermanentSendError):
        send_once(smtp_settings, "a@example.com", ["b@example.com"])
    closed = with_outbound(smtp_settings, smtp_port=free_port())  # nothing listens there
    with pytest.raises(TransientSendError):
        send_once(closed, "a@example.com", ["b@example.com"])
