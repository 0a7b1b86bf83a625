"""The listener's limits, each a setting: connections per client IP, messages per IP a minute
(trusted relays, loopback by default, exempt), recipients per message, an idle timeout NOOP
cannot extend; AUTH only over TLS, only with users. Over a limit a client gets a 4xx (it
retries later: nothing is lost)."""

from __future__ import annotations

import smtplib
import ssl
import time

import pytest
from pydantic import SecretStr, ValidationError

from mailflow.settings import InboundSettings, Settings
from tests.inbound.smtp_talk import RawSmtp
from tests.inbound.test_listener import REPLY, _self_signed, rows, start
from tests.inbound.test_listener_real_senders import with_inbound


def greeted(running, source: str | None = None) -> RawSmtp:
    smtp = RawSmtp(running.host, running.port, source=source)
    code, text = smtp.reply()
    assert code == 220, text
    return smtp


def test_defaults_are_set():
    defaults = InboundSettings()
    assert defaults.max_recipients == 100
    assert defaults.max_connections_per_ip == 20
    assert defaults.messages_per_ip_per_minute == 300
    assert defaults.idle_timeout_seconds == 120
    assert [str(n) for n in defaults.trusted_relays] == ["127.0.0.0/8", "::1/128"]


def test_connections_per_ip_are_limited(engine, inbound_settings):
    limited = with_inbound(inbound_settings, max_connections_per_ip=3, trusted_relays=[])
    running = start(limited, engine)
    held = [greeted(running) for _ in range(3)]
    try:
        with RawSmtp(running.host, running.port) as fourth:
            code, text = fourth.reply()
            assert code == 421 and text.startswith(b"4.7.0")
            assert fourth.closed_within(5)
        with greeted(running, source="127.0.0.2") as other_ip:  # another client is not affected
            assert other_ip.command(b"QUIT")[0] == 221
        with held.pop() as leaving:
            assert leaving.command(b"QUIT")[0] == 221
        deadline = time.monotonic() + 10  # the server notices the QUIT's close at once
        while True:
            with RawSmtp(running.host, running.port) as again:
                code, _ = again.reply()
            if code == 220 or time.monotonic() > deadline:
                break
        assert code == 220  # a freed place is given again
    finally:
        for smtp in held:
            smtp.close()
        running.stop()


def test_messages_per_ip_per_minute(engine, inbound_settings):
    limited = with_inbound(inbound_settings, messages_per_ip_per_minute=3, trusted_relays=[])
    running = start(limited, engine)
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            for n in range(3):
                raw = REPLY.replace(b"reply-1@", b"rate-%d@" % n)
                client.sendmail("anna@example.com", ["survey@reply.localhost"], raw)
            code, text = client.mail("anna@example.com")
            assert code == 450 and text.startswith(b"4.7.1")
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:  # a new session
            client.ehlo("mx.example.com")
            assert client.mail("anna@example.com")[0] == 450
        with greeted(running, source="127.0.0.2") as other_ip:
            other_ip.command(b"EHLO mx.example.net")
            assert other_ip.command(b"MAIL FROM:<bob@example.net>")[0] == 250
    finally:
        running.stop()
    assert len(rows(engine)) == 3


def test_trusted_relays_are_exempt_from_per_ip_limits(engine, inbound_settings):
    # The local MTA relays every reply from one address; only 127.0.0.2 is trusted here.
    settings = with_inbound(
        inbound_settings,
        max_connections_per_ip=1,
        messages_per_ip_per_minute=1,
        trusted_relays=["127.0.0.2/32"],
    )
    running = start(settings, engine)
    try:
        relay = [greeted(running, source="127.0.0.2") for _ in range(3)]
        for n, smtp in enumerate(relay):
            smtp.command(b"EHLO relay.example.com")
            assert smtp.command(b"MAIL FROM:<relay-%d@example.com>" % n)[0] == 250
            smtp.close()
        with greeted(running) as untrusted:
            with RawSmtp(running.host, running.port) as second:
                assert second.reply()[0] == 421
            untrusted.command(b"EHLO mx.example.com")
            assert untrusted.command(b"MAIL FROM:<a@example.com>")[0] == 250
            assert untrusted.command(b"RSET")[0] == 250
            assert untrusted.command(b"MAIL FROM:<a@example.com>")[0] == 450
    finally:
        running.stop()


def test_recipients_per_message(engine, inbound_settings):
    running = start(with_inbound(inbound_settings, max_recipients=3), engine)
    try:
        with smtplib.SMTP(running.host, running.port, timeout=10) as client:
            client.ehlo("mx.example.com")
            client.mail("anna@example.com")
            for n in range(3):
                assert client.rcpt(f"survey+{n}@reply.localhost")[0] == 250
            code, text = client.rcpt("survey+3@reply.localhost")
            assert code == 452 and text.startswith(b"4.5.3")
            assert client.data(REPLY)[0] == 250
    finally:
        running.stop()
    [row] = rows(engine)
    assert row.envelope_to == ", ".join(f"survey+{n}@reply.localhost" for n in range(3))


def test_idle_timeout_cannot_be_extended_by_noop(engine, inbound_settings):
    idle = 0.6
    running = start(with_inbound(inbound_settings, idle_timeout_seconds=idle), engine)
    try:
        with greeted(running) as smtp:
            assert smtp.command(b"EHLO mx.example.com")[0] == 250
            began = time.monotonic()
            answered = 0
            while time.monotonic() - began < 10:
                if smtp.closed_within(0.1):  # waits for the server, not a sleep
                    break
                code, _ = smtp.command(b"NOOP")
                if code == 0:
                    break
                answered += code == 250
            lasted = time.monotonic() - began
        with greeted(running) as quiet:  # and a session that says nothing at all
            quiet_began = time.monotonic()
            assert quiet.closed_within(10)
            quiet_lasted = time.monotonic() - quiet_began
    finally:
        running.stop()
    assert answered >= 2  # NOOPs were answered while the session was alive…
    assert lasted < idle + 1.5  # …but did not keep it open
    assert quiet_lasted < idle + 1.5


def test_a_slow_data_transfer_is_progress_not_idleness(engine, inbound_settings):
    idle = 1.0  # a chunk every 0.2 s leaves room for a loaded machine
    running = start(with_inbound(inbound_settings, idle_timeout_seconds=idle), engine)
    try:
        with greeted(running) as smtp:
            smtp.command(b"EHLO mx.example.com")
            smtp.command(b"MAIL FROM:<anna@example.com>")
            smtp.command(b"RCPT TO:<survey@reply.localhost>")
            assert smtp.command(b"DATA")[0] == 354
            began = time.monotonic()
            smtp.sock.sendall(REPLY)
            while time.monotonic() - began < 2.5 * idle:  # 2.5 s in all, longer than idle
                assert not smtp.closed_within(0.2)
                smtp.sock.sendall(b"more of a long answer, arriving slowly\r\n")
            smtp.sock.sendall(b".\r\n")
            code, text = smtp.reply()
    finally:
        running.stop()
    assert code == 250, text
    assert len(rows(engine)) == 1


def _tls_settings(inbound_settings: Settings, tmp_path, users: dict[str, str]) -> Settings:
    cert, key = _self_signed(tmp_path)
    return Settings.model_validate(
        {
            **inbound_settings.model_dump(),
            "secret_keys": [k.get_secret_value() for k in inbound_settings.secret_keys],
            "inbound": {
                **inbound_settings.inbound.model_dump(exclude={"auth_users"}),
                "tls_cert": cert,
                "tls_key": key,
                "auth_users": users,
                "max_connections_per_ip": 1,
                "trusted_relays": [],
            },
        }
    )


def _client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_auth_users_without_tls_is_a_configuration_error():
    with pytest.raises(ValidationError, match=r"auth_users needs inbound\.tls_cert"):
        InboundSettings.model_validate({"auth_users": {"forms-relay": "relay-password"}})


def test_auth_is_not_offered_without_tls(engine, inbound_settings):
    users = {"forms-relay": SecretStr("relay-password")}
    # built past validation, to show the listener itself never offers AUTH in clear
    with_users = with_inbound(inbound_settings, auth_users=users)
    for settings in (inbound_settings, with_users):
        running = start(settings, engine)
        try:
            with smtplib.SMTP(running.host, running.port, timeout=10) as client:
                client.ehlo("relay.example.com")
                assert not client.has_extn("auth")  # no password ever crosses in clear
                code, _ = client.docmd("AUTH", "PLAIN AGZvcm1zLXJlbGF5AHJlbGF5LXBhc3N3b3Jk")
                assert 500 <= code < 600
        finally:
            running.stop()


@pytest.mark.parametrize("users", [{}, {"forms-relay": "relay-password"}])
def test_auth_over_tls_only_when_users_are_configured(engine, inbound_settings, tmp_path, users):
    running = start(_tls_settings(inbound_settings, tmp_path, users), engine)
    try:
        for _ in range(2):  # max 1 connection per IP: STARTTLS must not count it twice
            with smtplib.SMTP(running.host, running.port, timeout=10) as client:
                client.ehlo("relay.example.com")
                assert not client.has_extn("auth")
                client.starttls(context=_client_context())
                client.ehlo("relay.example.com")
                assert client.has_extn("auth") == bool(users)
            deadline = time.monotonic() + 10
            while running.handler.limits.connections("127.0.0.1") and time.monotonic() < deadline:
                time.monotonic()  # the server sees the close in a moment
            assert running.handler.limits.connections("127.0.0.1") == 0
    finally:
        running.stop()


@pytest.mark.parametrize(
    "line", ['trusted_relays = ["not-an-ip"]', "max_recipients = 0", "idle_timeout_seconds = -1"]
)
def test_a_bad_limit_names_the_file_and_key(config_file, line):
    from mailflow.settings import ConfigError, load_settings

    text = config_file.read_text(encoding="utf-8")
    anchor = 'smtp_listen = "127.0.0.1:2525"'
    assert anchor in text
    config_file.write_text(text.replace(anchor, f"{anchor}\n{line}", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    message = str(caught.value)
    assert message.startswith(f"{config_file}: ") and line.split(" ")[0] in message
