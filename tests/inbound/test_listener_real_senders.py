"""What real servers send reaches storage: long lines, bare LF, 8-bit headers, SMTPUTF8; a
recipient that is not UTF-8 is refused at RCPT (5xx), never accepted and failed at DATA."""

from __future__ import annotations

import smtplib
import threading

from mailflow.settings import Settings
from tests.inbound.smtp_talk import RawSmtp
from tests.inbound.test_listener import rows, send, start

HEAD = (
    b"From: Anna <anna@example.com>\r\n"
    b"To: survey+abc@reply.localhost\r\n"
    b"Subject: Re: How did we do?\r\n"
)


def with_inbound(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"inbound": settings.inbound.model_copy(update=changes)})


def test_lines_over_1000_bytes_are_accepted(engine, inbound_settings):
    # Outlook's HTML part and SES bounce reports put kilobytes on one line.
    html = b"<p>" + b"Score 2, the printer is still broken. " * 200 + b"</p>\r\n"
    raw = HEAD + b"Message-ID: <long-1@example.com>\r\nContent-Type: text/html\r\n\r\n" + html
    assert len(html) > 7000
    running = start(inbound_settings, engine)
    try:
        code, text = send(running, raw)
    finally:
        running.stop()
    assert code == 250, text
    [row] = rows(engine)
    assert row.raw == raw


def test_bare_lf_message_is_accepted(engine, inbound_settings):
    # A sender that ends lines with LF alone sends the whole message as one "line" to CRLF.
    body = b"".join(b"line %d of a reply written on a bare-LF system\n" % n for n in range(80))
    raw = b"From: anna@example.com\nMessage-ID: <lf-1@example.com>\nSubject: Re: x\n\n" + body
    assert len(raw) > 3000 and b"\r" not in raw
    running = start(inbound_settings, engine)
    try:
        code, text = send(running, raw)
    finally:
        running.stop()
    assert code == 250, text
    [row] = rows(engine)
    assert row.raw == raw + b"\r\n"  # the CRLF before the final dot ends the last line
    assert row.message_id == "<lf-1@example.com>"


def test_a_line_longer_than_the_size_limit_is_refused(engine, inbound_settings):
    running = start(with_inbound(inbound_settings, max_message_bytes=2000), engine)
    try:
        code, _ = send(running, HEAD + b"\r\n" + b"x" * 5000 + b"\r\n")
        ok, _ = send(running, HEAD + b"Message-ID: <after@example.com>\r\n\r\n5\r\n")
    finally:
        running.stop()
    assert 500 <= code < 600 and ok == 250  # refused, and the session goes on
    assert [r.message_id for r in rows(engine)] == ["<after@example.com>"]


def test_eight_bit_headers_without_smtputf8_are_stored_as_sent(engine, inbound_settings):
    raw = (
        "From: Paweł Zieliński <pawel@example.pl>\r\nSubject: Ocena: 2, nadal nie działa\r\n"
        "Message-ID: <pl-1@example.pl>\r\n\r\n2\r\n"
    ).encode()
    running = start(inbound_settings, engine)
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("mx.example.pl")
            assert client.has_extn("8bitmime")
            client.sendmail("pawel@example.pl", ["survey@reply.localhost"], raw)  # no SMTPUTF8
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.raw == raw


def test_recipient_that_is_not_utf8_is_refused_at_rcpt(engine, inbound_settings):
    running = start(inbound_settings, engine)
    try:
        with RawSmtp(running.host, running.port) as smtp:
            assert smtp.reply()[0] == 220
            assert smtp.command(b"EHLO mx.example.com")[0] == 250
            assert smtp.command(b"MAIL FROM:<anna@example.com>")[0] == 250
            code, text = smtp.command(b"RCPT TO:<survey+\xff\xfe@reply.localhost>")
            assert code == 553 and text.startswith(b"5.1.3"), (code, text)
            assert smtp.command(b"RCPT TO:<survey+ok@reply.localhost>")[0] == 250
            assert smtp.command(b"DATA")[0] == 354
            smtp.sock.sendall(HEAD + b"Message-ID: <utf-1@example.com>\r\n\r\n4\r\n.\r\n")
            code, text = smtp.reply()
            assert code == 250, text
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.envelope_to == "survey+ok@reply.localhost"


def test_bad_recipients_among_many_sessions_fail_no_innocent_message(engine, inbound_settings):
    """On main, 42 of 150 innocent messages failed with the one that carried a bad RCPT."""
    running = start(inbound_settings, engine)
    codes: dict[tuple[int, int], int] = {}
    refused: list[int] = []

    def client(worker: int) -> None:
        for n in range(15):
            with RawSmtp(running.host, running.port) as smtp:
                smtp.reply()
                smtp.command(b"EHLO mx.example.com")
                smtp.command(b"MAIL FROM:<anna@example.com>")
                if n % 3 == 0:  # this message also names a recipient that is not UTF-8
                    refused.append(smtp.command(b"RCPT TO:<\xffbad@reply.localhost>")[0])
                smtp.command(b"RCPT TO:<survey+%d@reply.localhost>" % n)
                smtp.command(b"DATA")
                smtp.sock.sendall(HEAD + b"Message-ID: <c%d.%d@x>\r\n\r\n5\r\n.\r\n" % (worker, n))
                codes[worker, n] = smtp.reply()[0]

    threads = [threading.Thread(target=client, args=(w,)) for w in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        running.stop()
    innocent = [code for (_, n), code in codes.items() if n % 3]
    assert innocent == [250] * 100
    assert list(codes.values()) == [250] * 150
    assert refused == [553] * 50
    assert len(rows(engine)) == 150


def test_smtputf8_recipient_local_part_is_accepted(engine, inbound_settings):
    raw = "From: Иван <иван@почта.рф>\r\nSubject: Оценка\r\nMessage-ID: <ru-2@x>\r\n\r\n5\r\n"
    running = start(inbound_settings, engine)
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("mx.example.ru")
            client.sendmail("иван@почта.рф", ["опрос@reply.localhost"], raw.encode(), ["SMTPUTF8"])
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.envelope_to == "опрос@reply.localhost"


def test_undecodable_sender_is_accepted_and_stored_escaped(engine, inbound_settings):
    # An old server's 8-bit bounce sender: the reply is kept, the address shown escaped.
    running = start(inbound_settings, engine)
    try:
        with RawSmtp(running.host, running.port) as smtp:
            smtp.reply()
            smtp.command(b"EHLO old.example.com")
            assert smtp.command(b"MAIL FROM:<b\xe9nard@example.com>")[0] == 250
            assert smtp.command(b"RCPT TO:<survey@reply.localhost>")[0] == 250
            assert smtp.command(b"DATA")[0] == 354
            smtp.sock.sendall(HEAD + b"Message-ID: <old-1@example.com>\r\n\r\n3\r\n.\r\n")
            assert smtp.reply()[0] == 250
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.envelope_from == "b\\xe9nard@example.com"
