"""Bounces bound to our messages (issue 14, point 5): real bounce reports through the inbound
worker. A bounce marks the request and the contact bounced only when it arrives on our signed
bounce address (VERP) or quotes one of our Message-IDs; one naming just an address is kept as
`unverified_bounce` and changes nothing."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailflow.inbound.listener import ThreadedListener
from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import run_until_empty
from mailflow.tokens import Purpose, signer_for
from storage.models import Contact, InboundMessage, SurveyRequest
from tests.inbound.conftest import sent_factory
from tests.support.policy import free_port

BOUNCES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"
# fixture -> (failed recipient, the Message-ID of the returned message)
PERMANENT = {
    "postfix_5_1_1.eml": ("nobody@client.example", "<survey.536c65a9e8a3@acme.example>"),
    "gmail_dsn_5_1_1.eml": ("nosuchuser@gmail.com", "<survey.b5b5dc6755a2@acme.example>"),
    "exchange_ndr_5_2_2_headers_only.eml": ("full@firma.ru", "<survey.4776b5625f24@acme.example>"),
    "yandex_ru_nonstandard_attached.eml": (
        "net-takogo@yandex.ru",
        "<survey.f9271068a40e@acme.example>",
    ),
    "mailer_daemon_nonstandard_attached.eml": (
        "nobody@client.example",
        "<survey.a2223aa210de@acme.example>",
    ),
}


def bounce(name: str) -> bytes:
    return (BOUNCES / name).read_bytes()


def ingest(engine, settings, raw: bytes, envelope_to: list[str] | None = None) -> InboundMessage:
    stored = store_raw(
        engine, raw, via="smtp" if envelope_to else "file", envelope_to=envelope_to or ()
    )
    assert stored.created
    run_until_empty(settings, engine)
    with Session(engine) as session:
        return session.get(InboundMessage, stored.id)


def give_message_id(engine, request_id: int, message_id: str) -> None:
    """The request's email went out with this Message-ID (the one the fixture returns)."""
    with Session(engine) as session:
        request = session.get(SurveyRequest, request_id)
        request.message_id = message_id
        session.add(request)
        session.commit()


def state(engine, sent) -> tuple[str, bool, str | None]:
    """(request state, contact bounced?, bounce reason) as `mailflow contacts show` sees it."""
    with Session(engine) as session:
        request = session.get(SurveyRequest, sent.request_id)
        contact = session.get(Contact, sent.contact_id)
        return request.state, contact.bounced_at is not None, contact.bounce_reason


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_a_bounce_quoting_our_message_id_bounces_the_request_and_the_contact(
    engine, inbound_settings, make_sent, name
):
    address, message_id = PERMANENT[name]
    sent = make_sent("csat", email=address)
    give_message_id(engine, sent.request_id, message_id)

    row = ingest(engine, inbound_settings, bounce(name), ["survey@reply.localhost"])

    assert (row.status, row.kind, row.request_id) == ("parsed", "bounce", sent.request_id)
    assert row.reason.startswith("bounce_permanent: 5.")
    request_state, bounced, reason = state(engine, sent)
    assert request_state == "bounced" and bounced and reason.startswith("5.")


@pytest.mark.parametrize("name", ["postfix_5_1_1.eml", "gmail_dsn_5_1_1.eml"])
def test_a_bounce_naming_only_an_address_changes_nothing(engine, inbound_settings, make_sent, name):
    """Before: the Final-Recipient alone marked the contact bounced, forever."""
    address, _ = PERMANENT[name]
    sent = make_sent("csat", email=address)  # our own email had another Message-ID

    row = ingest(engine, inbound_settings, bounce(name), ["survey@reply.localhost"])

    assert (row.status, row.kind, row.request_id) == ("ignored", "bounce", None)
    assert row.reason.startswith("unverified_bounce: 5.")
    assert address in row.reason
    assert state(engine, sent) == ("sent", False, None)


def _bounce_address(settings, request_id: int, purpose: Purpose = Purpose.BOUNCE) -> str:
    token = signer_for(settings).sign(request_id, purpose)
    return f"bounce+{token}@{settings.reply_domain}"


@pytest.mark.parametrize("where", ["envelope", "Delivered-To", "X-Original-To", "To"])
def test_a_bounce_on_our_bounce_address_bounces_the_request(
    engine, inbound_settings, make_sent, where
):
    """The fixture quotes a Message-ID that is not ours: the verified address alone binds it."""
    sent = make_sent("csat", email="nosuchuser@gmail.com")
    address = _bounce_address(inbound_settings, sent.request_id)
    raw = bounce("gmail_dsn_5_1_1.eml")
    envelope = None
    if where == "envelope":
        envelope = [address]
    elif where == "To":
        raw = raw.replace(b"To: Acme Support <support@acme.example>", f"To: <{address}>".encode())
        assert address.encode() in raw
    else:
        raw = f"{where}: {address}\r\n".encode() + raw

    row = ingest(engine, inbound_settings, raw, envelope)

    assert (row.status, row.request_id) == ("parsed", sent.request_id)
    assert row.reason.startswith("bounce_permanent: 5.1.1")
    assert state(engine, sent)[:2] == ("bounced", True)


@pytest.mark.parametrize("forgery", ["reply_token", "tampered", "other_local_part"])
def test_a_forged_bounce_address_changes_nothing(engine, inbound_settings, make_sent, forgery):
    sent = make_sent("csat", email="nosuchuser@gmail.com")
    address = _bounce_address(inbound_settings, sent.request_id)
    if forgery == "reply_token":  # signed by us, but for replies
        address = _bounce_address(inbound_settings, sent.request_id, Purpose.REPLY)
    elif forgery == "tampered":
        token = address[7:39]
        address = address.replace(token, token[:-1] + ("a" if token[-1] != "a" else "b"))
    else:  # our token, but not on the bounce address
        address = address.replace("bounce+", "notbounce+")

    row = ingest(engine, inbound_settings, bounce("gmail_dsn_5_1_1.eml"), [address])

    assert (row.status, row.request_id) == ("ignored", None)
    assert row.reason.startswith("unverified_bounce")
    assert state(engine, sent) == ("sent", False, None)


def test_a_delayed_delivery_report_changes_nothing(engine, inbound_settings, make_sent):
    sent = make_sent("csat", email="slow@client.example")
    give_message_id(engine, sent.request_id, "<survey.3d6450440832@acme.example>")
    address = _bounce_address(inbound_settings, sent.request_id)

    row = ingest(engine, inbound_settings, bounce("postfix_4_4_1_delayed.eml"), [address])

    assert (row.status, row.request_id) == ("ignored", sent.request_id)
    assert row.reason.startswith("bounce_transient: 4.4.1")
    assert state(engine, sent) == ("sent", False, None)


def test_the_listener_takes_a_bounce_on_the_bounce_address(inbound_settings, engine, make_sent):
    """Over real SMTP: the listener accepts any local part at the reply domain, so the
    report a remote server sends to our envelope sender (null MAIL FROM) is kept and acts."""
    sent = make_sent("csat", email="nosuchuser@gmail.com")
    address = _bounce_address(inbound_settings, sent.request_id)
    listener = ThreadedListener(inbound_settings, engine, "127.0.0.1", free_port())
    listener.start()
    try:
        with smtplib.SMTP(listener.host, listener.port, timeout=10) as client:
            client.ehlo("mx.example.net")
            assert client.mail("<>")[0] == 250
            assert client.rcpt(address)[0] == 250
            assert client.data(bounce("gmail_dsn_5_1_1.eml"))[0] == 250
    finally:
        listener.stop()
    run_until_empty(inbound_settings, engine)
    with Session(engine) as session:
        [row] = session.exec(select(InboundMessage)).all()
    assert row.envelope_to == address
    assert (row.status, row.request_id) == ("parsed", sent.request_id)
    assert state(engine, sent)[:2] == ("bounced", True)


def test_bound_and_unbound_bounces_on_sqlite_and_postgresql(any_db_settings, any_engine):
    make = sent_factory(any_engine, any_db_settings)
    ours = make("csat", email="nobody@client.example")
    give_message_id(any_engine, ours.request_id, PERMANENT["postfix_5_1_1.eml"][1])
    stranger = make("csat", email="nosuchuser@gmail.com")

    bound = ingest(
        any_engine, any_db_settings, bounce("postfix_5_1_1.eml"), ["survey@reply.localhost"]
    )
    unbound = ingest(
        any_engine, any_db_settings, bounce("gmail_dsn_5_1_1.eml"), ["survey@reply.localhost"]
    )

    assert (bound.status, bound.request_id) == ("parsed", ours.request_id)
    assert state(any_engine, ours)[:2] == ("bounced", True)
    assert (unbound.status, unbound.reason.split(":")[0]) == ("ignored", "unverified_bounce")
    assert state(any_engine, stranger) == ("sent", False, None)
