"""The SMTP listener, spoken to over real SMTP on a random loopback port."""

from __future__ import annotations

import datetime
import smtplib
import ssl

import pytest
from sqlmodel import Session, select

from mailflow.database import open_engine
from mailflow.inbound.listener import ThreadedListener
from mailflow.settings import Settings
from storage.engine import make_engine
from storage.models import InboundMessage
from tests.support.policy import free_port

REPLY = (
    b"From: Anna <anna@example.com>\r\n"
    b"To: survey+abc@reply.localhost\r\n"
    b"Subject: Re: How did we do?\r\n"
    b"Message-ID: <reply-1@mail.example.com>\r\n"
    b"\r\n"
    b"5, thank you!\r\n"
)


def start(settings: Settings, engine) -> ThreadedListener:
    listener = ThreadedListener(settings, engine, "127.0.0.1", free_port())
    listener.start()
    return listener


@pytest.fixture
def listener(any_db_settings, any_engine):
    running = start(any_db_settings, any_engine)
    yield running
    running.stop()


def rows(engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())


def send(listener: ThreadedListener, raw: bytes, to: str = "survey+abc@reply.localhost"):
    with smtplib.SMTP(listener.host, listener.port, timeout=10) as client:
        client.ehlo("mx.example.com")
        code, _ = client.mail("anna@example.com")
        assert code == 250
        code, _ = client.rcpt(to)
        assert code == 250
        return client.data(raw)


def test_reply_is_committed_before_250(any_db_settings, any_engine, listener):
    code, text = send(listener, REPLY)
    listener.stop()  # the listener is gone right after 250: the row must already be there
    assert code == 250 and b"queued as" in text
    fresh = make_engine(any_db_settings.database_url)  # another connection sees the commit
    try:
        [row] = rows(fresh)
    finally:
        fresh.dispose()
    assert row.raw == REPLY
    assert row.message_id == "<reply-1@mail.example.com>"
    assert (row.via, row.status) == ("smtp", "received")
    assert row.envelope_from == "anna@example.com"
    assert row.envelope_to == "survey+abc@reply.localhost"
    assert row.kind is None  # nothing was parsed in the SMTP session


def test_repeat_answers_250_and_stores_nothing_new(any_engine, listener):
    assert send(listener, REPLY)[0] == 250
    code, text = send(listener, REPLY)
    assert code == 250 and b"already have it" in text
    assert len(rows(any_engine)) == 1


def test_another_reply_with_the_same_message_id_is_stored(any_engine, listener):
    # A client's second reply (here a negative one) that reuses a Message-ID is its own message.
    assert send(listener, REPLY)[0] == 250
    negative = REPLY.replace(b"5, thank you!", b"1, it broke again")
    code, text = send(listener, negative)
    assert code == 250 and b"queued as" in text
    assert [r.raw for r in rows(any_engine)] == [REPLY, negative]


def test_foreign_domain_is_refused_at_rcpt(any_engine, listener):
    with smtplib.SMTP(listener.host, listener.port, timeout=10) as client:
        client.ehlo("mx.example.com")
        client.mail("spammer@example.net")
        code, text = client.rcpt("victim@gmail.com")
        assert code == 550 and text.startswith(b"5.1.1")
        code, _ = client.rcpt("survey@REPLY.localhost")  # the domain is case-insensitive
        assert code == 250
    assert rows(any_engine) == []


def test_too_big_is_refused_with_552(inbound_settings, engine):
    small = inbound_settings.model_copy(
        update={"inbound": inbound_settings.inbound.model_copy(update={"max_message_bytes": 2000})}
    )
    running = start(small, engine)
    try:
        big = REPLY + b"more words on a line of their own\r\n" * 150
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("mx.example.com")
            assert client.has_extn("size") and client.esmtp_features["size"] == "2000"
            client.mail("anna@example.com")  # no SIZE= given: the limit applies to DATA
            client.rcpt("survey@reply.localhost")
            code, _ = client.data(big)
            assert code == 552
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE=5000 in MAIL FROM
                client.sendmail("anna@example.com", ["survey@reply.localhost"], big)
            assert refused.value.smtp_code == 552
    finally:
        running.stop()
    assert rows(engine) == []


def test_missing_message_id_gets_a_synthetic_one(engine, inbound_settings):
    running = start(inbound_settings, engine)
    try:
        raw = REPLY.replace(b"Message-ID: <reply-1@mail.example.com>\r\n", b"")
        assert send(running, raw)[0] == 250
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.message_id == f"<{row.sha256}@mailflow.invalid>"


def test_storage_failure_answers_451_so_the_sender_retries(inbound_settings, tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    running = start(inbound_settings, broken)
    try:
        code, text = send(running, REPLY)
    finally:
        running.stop()
        broken.dispose()
    assert code == 451 and b"try again" in text


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reply.localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_starttls_and_auth_for_forwarding_hosts(inbound_settings, engine, tmp_path):
    cert, key = _self_signed(tmp_path)
    secured = Settings.model_validate(
        {
            **inbound_settings.model_dump(),
            "secret_keys": [k.get_secret_value() for k in inbound_settings.secret_keys],
            "inbound": {
                **inbound_settings.inbound.model_dump(exclude={"auth_users"}),
                "tls_cert": cert,
                "tls_key": key,
                "auth_users": {"forms-relay": "relay-password"},
            },
        }
    )
    running = start(secured, engine)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("relay.example.com")
            assert client.has_extn("starttls")
            client.starttls(context=context)
            client.ehlo("relay.example.com")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("forms-relay", "wrong")
            client.login("forms-relay", "relay-password")
            client.sendmail("forms@example.com", ["survey@reply.localhost"], REPLY)
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.envelope_from == "forms@example.com"


def test_open_engine_is_reused_by_listener(inbound_settings):
    # the listener needs nothing but a migrated engine: `mailflow listen` opens it like `up`
    engine = open_engine(inbound_settings)
    try:
        running = start(inbound_settings, engine)
        running.stop()
    finally:
        engine.dispose()


def test_mailflow_listen_killed_right_after_250_keeps_the_message(config_file, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFLOW_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    process = subprocess.Popen(
        [sys.executable, "-m", "mailflow", "listen", "--smtp", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "mailflow listen did not start"
                time.sleep(0.05)
        with client:
            client.ehlo("mx.example.com")
            client.mail("anna@example.com")
            client.rcpt("survey@reply.localhost")
            code, _ = client.data(REPLY)
            process.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what is committed
    finally:
        process.kill()
        process.wait(10)
        process.stderr.close()
    assert code == 250
    db = make_engine(f"sqlite:///{tmp_path / 'mailflow.db'}")
    try:
        [row] = rows(db)
    finally:
        db.dispose()
    assert row.raw == REPLY


def test_internationalised_sender_is_accepted(engine, inbound_settings):
    running = start(inbound_settings, engine)
    raw = "From: Иван <иван@почта.рф>\r\nSubject: Оценка\r\n\r\n5\r\n".encode()
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("mx.example.ru")
            assert client.has_extn("smtputf8")
            client.sendmail("иван@почта.рф", ["survey@reply.localhost"], raw, ["SMTPUTF8"])
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.raw == raw and row.envelope_from == "иван@почта.рф"
