"""No answer invented: a sender-only match needs proof that the mail is from that domain.

Strong matches (plus-token, In-Reply-To) are answers as before. A message that names nothing
but its From address becomes an answer only with a DKIM signature that verifies and aligns
with From (signed here with the test's own key) or a trusted Authentication-Results header;
otherwise it waits, quarantined as unverified_sender, until staff accept it. Machine mail —
mailing lists, spam-flagged mail, DMARC reports — is never matched by its sender.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import RetryRefused, accept, run_until_empty
from storage.models import Escalation, InboundMessage, Response, WebhookDelivery
from tests.inbound.conftest import eml
from tests.inbound.dkim_keys import KeyServer, sign


@pytest.fixture
def dns() -> KeyServer:
    server = KeyServer()
    server.publish("example.com")
    return server


def ingest(engine, settings, raw: bytes, dns: KeyServer | None = None) -> InboundMessage:
    stored = store_raw(engine, raw, via="smtp", envelope_to=["survey@reply.localhost"])
    assert stored.created
    run_until_empty(settings, engine, dns=dns)
    with Session(engine) as session:
        return session.get(InboundMessage, stored.id)


def answers(engine) -> list[Response]:
    with Session(engine) as session:
        return list(session.exec(select(Response)).all())


def test_unsigned_sender_only_reply_is_quarantined_not_invented(
    engine, inbound_settings, make_sent
):
    sent = make_sent("csat", email="anna@example.com")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_sender_only_gmail_csat_2.eml")))

    assert (row.status, row.request_id) == ("quarantined", sent.request_id)
    assert row.reason.startswith("unverified_sender: anna@example.com has open request")
    assert answers(engine) == []
    with Session(engine) as session:  # a score of 2 is negative: still nothing escalated
        assert session.exec(select(Escalation)).all() == []
        assert session.exec(select(WebhookDelivery)).all() == []


def test_aligned_dkim_signature_makes_the_sender_match_an_answer(
    engine, inbound_settings, make_sent, dns
):
    sent = make_sent("csat", email="anna@example.com")
    raw = sign(sent.fill(eml("reply_sender_only_gmail_csat_2.eml")), "example.com")

    row = ingest(engine, inbound_settings, raw, dns)

    assert (row.status, row.request_id) == ("parsed", sent.request_id)
    assert row.reason == "matched_by: sender (dkim: d=example.com)"
    [response] = answers(engine)
    assert response.score == 2 and response.weak_match
    assert b"test._domainkey.example.com." in dns.asked


@pytest.mark.parametrize(
    "case",
    ["tampered_body", "other_domain", "unknown_key", "wrong_key", "body_length_tag"],
)
def test_a_signature_that_fails_or_does_not_align_proves_nothing(
    engine, inbound_settings, make_sent, dns, case
):
    sent = make_sent("csat", email="anna@example.com")
    raw = sent.fill(eml("reply_sender_only_gmail_csat_2.eml"))
    if case == "tampered_body":
        raw = sign(raw, "example.com").replace(b"2, nobody", b"5, nobody")
    elif case == "other_domain":  # a valid signature, but of the sender's ESP, not of From
        dns.publish("mailer.example.net")
        raw = sign(raw, "mailer.example.net")
    elif case == "body_length_tag":  # l= covers the reply; a forger appends below it
        raw = sign(raw, "example.com", length=True) + b"\r\n"
    elif case == "unknown_key":
        raw = sign(raw, "example.com", selector="gone")
    else:  # signed with a key that example.com did not publish
        raw = sign(raw, "example.com", seed="attacker")

    row = ingest(engine, inbound_settings, raw, dns)

    assert row.status == "quarantined" and row.reason.startswith("unverified_sender")
    assert answers(engine) == []


def test_trusted_authentication_results_prove_the_sender(engine, inbound_settings, make_sent):
    trusting = inbound_settings.model_copy(
        update={
            "inbound": inbound_settings.inbound.model_copy(
                update={"trusted_authserv_ids": ["mx.reply.localhost"]}
            )
        }
    )
    sent = make_sent("csat", email="anna@example.com")
    row = ingest(engine, trusting, sent.fill(eml("reply_sender_only_auth_results.eml")))

    assert row.status == "parsed"
    assert row.reason == (
        "matched_by: sender (authentication-results mx.reply.localhost: "
        "dkim=pass header.d=example.com)"
    )
    assert [r.score for r in answers(engine)] == [4]


def test_authentication_results_are_ignored_unless_their_server_is_trusted(
    engine, inbound_settings, make_sent
):
    """By default no authserv-id is trusted; a forged header of a well-known one is not."""
    trusting_ours = inbound_settings.model_copy(
        update={
            "inbound": inbound_settings.inbound.model_copy(
                update={"trusted_authserv_ids": ["mx.reply.localhost"]}
            )
        }
    )
    first = make_sent("csat", email="anna@example.com")
    untrusted = ingest(
        engine, inbound_settings, first.fill(eml("reply_sender_only_auth_results.eml"))
    )
    forged = ingest(
        engine, trusting_ours, first.fill(eml("reply_sender_only_forged_auth_results.eml"))
    )

    assert untrusted.status == forged.status == "quarantined"
    assert forged.reason.startswith("unverified_sender")
    assert answers(engine) == []


@pytest.mark.parametrize(
    ("fixture", "sender", "status", "reason"),
    [
        ("list_mail_google_groups_csat_1.eml", None, "unmatched", "mailing list (list-id)"),
        ("spam_flagged_spamassassin_csat_1.eml", None, "unmatched", "spam flag (x-spam-flag)"),
        ("dmarc_aggregate_google.eml", "noreply-dmarc-support@google.com", "ignored", "dmarc"),
    ],
)
def test_machine_mail_is_never_matched_by_sender_even_when_signed(
    engine, inbound_settings, make_sent, dns, fixture, sender, status, reason
):
    sent = make_sent("csat", email=sender or "anna@example.com")
    dns.publish("google.com")
    domain = (sender or "anna@example.com").rpartition("@")[2]
    raw = sign(sent.fill(eml(fixture)), domain)

    row = ingest(engine, inbound_settings, raw, dns)

    assert row.status == status and reason in row.reason
    assert row.request_id is None
    assert answers(engine) == []


def test_a_strong_match_needs_no_signature(engine, inbound_settings, make_sent):
    sent = make_sent("csat", email="anna@example.com")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_in_reply_to_only_csat_4.eml")))
    assert row.status == "parsed" and row.reason == "matched_by: in_reply_to"
    assert [r.weak_match for r in answers(engine)] == [False]


def test_staff_accept_records_the_quarantined_answer(engine, inbound_settings, make_sent):
    sent = make_sent("csat", email="anna@example.com")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_sender_only_gmail_csat_2.eml")))
    assert row.status == "quarantined"

    outcome = accept(inbound_settings, engine, row.id)

    assert outcome.status == "parsed" and outcome.request_id == sent.request_id
    assert outcome.reason == "matched_by: sender (accepted by staff)"
    [response] = answers(engine)
    assert response.score == 2 and response.weak_match
    with pytest.raises(RetryRefused, match="only unverified_sender or unmatched"):
        accept(inbound_settings, engine, row.id)
