"""SMTP sink: a real SMTP server answers 250, 451, 550 or hangs up, as the test tells it."""

import asyncio
import smtplib

import aiosmtplib
import pytest

MESSAGE = (
    b"From: survey@mailflow.test\r\nTo: client@example.com\r\nSubject: How did we do?\r\n\r\nx\r\n"
)


def smtp(sink):
    return smtplib.SMTP(sink.host, sink.port, local_hostname="client.test", timeout=10)


def test_accepts_and_stores_the_message(smtp_sink):
    with smtp(smtp_sink) as client:
        refused = client.sendmail(
            "survey@mailflow.test", ["a@example.com", "b@example.com"], MESSAGE
        )
    assert refused == {}
    [stored] = smtp_sink.messages
    assert stored.mail_from == "survey@mailflow.test"
    assert stored.rcpt_tos == ["a@example.com", "b@example.com"]
    assert stored.data == MESSAGE


def test_fail_next_answers_451_then_250(smtp_sink):
    smtp_sink.fail_next(2, "451 4.3.0 Try again later")
    for _attempt in range(2):
        with smtp(smtp_sink) as client, pytest.raises(smtplib.SMTPDataError) as err:
            client.sendmail("survey@mailflow.test", ["a@example.com"], MESSAGE)
        assert err.value.smtp_code == 451
        assert err.value.smtp_error == b"4.3.0 Try again later"
    with smtp(smtp_sink) as client:
        client.sendmail("survey@mailflow.test", ["a@example.com"], MESSAGE)
    assert len(smtp_sink.messages) == 1


def test_refuse_rcpt_answers_550_for_that_address_only(smtp_sink):
    smtp_sink.refuse_rcpt("Gone@Example.com", "550 5.1.1 No such user")
    with smtp(smtp_sink) as client:
        refused = client.sendmail(
            "survey@mailflow.test", ["gone@example.com", "ok@example.com"], MESSAGE
        )
    assert refused == {"gone@example.com": (550, b"5.1.1 No such user")}
    assert smtp_sink.messages[0].rcpt_tos == ["ok@example.com"]


def test_fail_next_rcpt_stage(smtp_sink):
    smtp_sink.fail_next(1, "452 4.2.2 Mailbox full", stage="rcpt")
    with smtp(smtp_sink) as client:
        code, _reply = client.ehlo()
        assert code == 250
        client.mail("survey@mailflow.test")
        assert client.rcpt("a@example.com") == (452, b"4.2.2 Mailbox full")
        assert client.rcpt("a@example.com")[0] == 250


def test_drop_next_hangs_up_without_reply_async_client(smtp_sink):
    smtp_sink.drop_next()

    async def send():
        return await aiosmtplib.send(
            MESSAGE,
            sender="survey@mailflow.test",
            recipients=["a@example.com"],
            hostname=smtp_sink.host,
            port=smtp_sink.port,
            local_hostname="client.test",
            timeout=10,
        )

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        asyncio.run(send())
    assert smtp_sink.messages == []
    assert len(smtp_sink.dropped) == 1

    errors, reply = asyncio.run(send())
    assert errors == {}
    assert reply.startswith("2.0.0")
    assert len(smtp_sink.messages) == 1
