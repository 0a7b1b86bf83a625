"""The inbound worker: stored mail becomes answers, bounces, unsubscribes or named refusals."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import RetryRefused, drain, retry, run_until_empty
from mailflow.settings import Settings, load_settings
from storage.models import (
    AnalyticsRow,
    Comment,
    Contact,
    Escalation,
    InboundMessage,
    Response,
    SurveyRequest,
    Task,
    WebhookDelivery,
)
from tests.inbound.conftest import eml
from tests.inbound.dkim_keys import KeyServer, sign


def ingest(engine, settings, raw: bytes) -> InboundMessage:
    stored = store_raw(engine, raw, via="smtp", envelope_to=["survey@reply.localhost"])
    assert stored.created
    run_until_empty(settings, engine)
    with Session(engine) as session:
        return session.get(InboundMessage, stored.id)


def response_of(engine, request_id: int) -> Response | None:
    with Session(engine) as session:
        return session.exec(select(Response).where(Response.request_id == request_id)).first()


def request_of(engine, request_id: int) -> SurveyRequest:
    with Session(engine) as session:
        return session.get(SurveyRequest, request_id)


def test_reply_becomes_response_analytics_and_ticket_comment(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_plus_token_csat_5.eml")))

    assert (row.status, row.kind, row.request_id) == ("parsed", "reply", sent.request_id)
    assert row.reason == "matched_by: plus_token"
    response = response_of(engine, sent.request_id)
    assert response.score == 5 and response.source == "reply" and not response.weak_match
    assert response.inbound_message_id == row.id
    assert "quick" in (response.comment or "")
    assert request_of(engine, sent.request_id).state == "answered"
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.kind == "survey")).one()
        fields = {
            a.field: a.value
            for a in session.exec(
                select(AnalyticsRow).where(AnalyticsRow.response_id == response.id)
            )
        }
        [comment] = session.exec(select(Comment).where(Comment.task_id == sent.ticket_id)).all()
    assert task.external_ref == "csat"
    assert fields["score"] == "5" and fields["source"] == "reply"
    assert comment.source == "reply" and "5" in comment.body
    assert comment.author == inbound_settings.survey("csat").comment_author


def test_in_reply_to_matches_without_a_token(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_in_reply_to_only_csat_4.eml")))
    assert (row.status, row.request_id, row.reason) == (
        "parsed",
        sent.request_id,
        "matched_by: in_reply_to",
    )
    assert response_of(engine, sent.request_id).score == 4


def test_sender_address_is_a_weak_match_to_the_newest_open_request(
    engine, inbound_settings, make_sent
):
    """Only for a message signed by the sender's domain (tests/inbound/test_trust.py)."""
    older = make_sent("csat", email="anna@example.com", sent_minutes_ago=60)
    newer = make_sent("csat", email="anna@example.com", sent_minutes_ago=5)
    make_sent("csat", email="anna@example.com", sent_minutes_ago=1, expires_in_days=-1)
    dns = KeyServer()
    dns.publish("example.com")
    raw = sign(newer.fill(eml("reply_sender_only_csat_3.eml")), "example.com")
    stored = store_raw(engine, raw, via="smtp", envelope_to=["survey@reply.localhost"])
    run_until_empty(inbound_settings, engine, dns=dns)
    with Session(engine) as session:
        row = session.get(InboundMessage, stored.id)
    assert (row.status, row.request_id) == ("parsed", newer.request_id)
    response = response_of(engine, newer.request_id)
    assert response.weak_match and response.score == 3
    assert response_of(engine, older.request_id) is None


def test_google_form_notification_files_form_answers_and_escalates(
    config_file, engine, inbound_settings, make_sent
):
    sent = make_sent("service_quality")
    row = ingest(engine, inbound_settings, sent.fill(eml("google_form_service_quality.eml")))
    assert (row.status, row.kind, row.request_id) == ("parsed", "google_form", sent.request_id)
    response = response_of(engine, sent.request_id)
    assert response.source == "google_form"
    assert response.answers == {"speed": "slow", "work": "bad"}
    assert response.negative
    with Session(engine) as session:
        assert session.exec(select(Escalation).where(Escalation.response_id == response.id)).one()


def test_auto_reply_is_ignored_and_never_an_answer(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("auto_reply_out_of_office.eml")))
    assert (row.status, row.kind) == ("ignored", "auto_reply")
    assert row.reason.startswith("auto_reply")
    assert response_of(engine, sent.request_id) is None
    assert request_of(engine, sent.request_id).state == "sent"


def test_permanent_bounce_marks_request_bounced_and_address_bad(
    engine, inbound_settings, make_sent
):
    hooked = Settings.model_validate(
        {
            **inbound_settings.model_dump(),
            "secret_keys": [k.get_secret_value() for k in inbound_settings.secret_keys],
            "webhooks": [
                {"url": "http://127.0.0.1:9/h", "secret": "s" * 16, "events": ["request.bounced"]}
            ],
        }
    )
    sent = make_sent("csat")
    row = ingest(engine, hooked, sent.fill(eml("dsn_postfix_user_unknown.eml")))
    assert (row.status, row.kind, row.request_id) == ("parsed", "bounce", sent.request_id)
    assert row.reason.startswith("bounce_permanent: 5.1.1")
    assert request_of(engine, sent.request_id).state == "bounced"
    assert response_of(engine, sent.request_id) is None
    with Session(engine) as session:
        contact = session.get(Contact, sent.contact_id)
    assert contact.bounced_at is not None and "5.1.1" in contact.bounce_reason
    with Session(engine) as session:
        [hook] = session.exec(select(WebhookDelivery)).all()
    assert hook.event == "request.bounced" and hook.payload["data"]["request_id"] == sent.request_id


def test_mail_to_the_unsubscribe_address_unsubscribes(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("unsubscribe_mailto.eml")))
    assert (row.status, row.reason, row.request_id) == ("parsed", "unsubscribe", sent.request_id)
    with Session(engine) as session:
        assert session.get(Contact, sent.contact_id).unsubscribed_at is not None
    assert response_of(engine, sent.request_id) is None


def test_ambiguous_score_is_quarantined_with_its_reason(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_ambiguous_3_or_4.eml")))
    assert (row.status, row.request_id) == ("quarantined", sent.request_id)
    assert row.reason.startswith("ambiguous_score")
    assert response_of(engine, sent.request_id) is None


def test_unknown_sender_without_token_is_unmatched(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_no_token_unknown_sender.eml")))
    assert (row.status, row.request_id) == ("unmatched", None)
    assert row.reason.startswith("no_request_token")


def test_tampered_token_is_not_trusted(engine, inbound_settings, make_sent):
    sent = make_sent("csat", email="someone@example.com")
    forged = sent.reply_token[:-4] + ("aaaa" if not sent.reply_token.endswith("aaaa") else "bbbb")
    raw = sent.fill(eml("reply_plus_token_csat_5.eml"), REPLY_TOKEN=forged, MESSAGE_ID="<x@y>")
    raw = raw.replace(sent.email.encode(), b"other@example.org")
    row = ingest(engine, inbound_settings, raw)
    assert row.status == "unmatched" and row.reason.startswith("bad_token")
    assert response_of(engine, sent.request_id) is None


def test_second_answer_to_a_locked_survey_is_quarantined(engine, inbound_settings, make_sent):
    sent = make_sent("thumbs")
    first = ingest(engine, inbound_settings, sent.fill(eml("reply_plus_token_thumbs_up.eml")))
    second = ingest(engine, inbound_settings, sent.fill(eml("reply_plus_token_thumbs_up.eml")))
    assert first.status == "parsed"
    assert (second.status, second.request_id) == ("quarantined", sent.request_id)
    assert second.reason.startswith("already_answered")
    assert response_of(engine, sent.request_id).inbound_message_id == first.id


def test_expired_request_is_quarantined(engine, inbound_settings, make_sent):
    sent = make_sent("csat", expires_in_days=-1)
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_plus_token_csat_5.eml")))
    assert (row.status, row.reason.split(":")[0]) == ("quarantined", "expired")


def test_unknown_survey_is_retried_after_a_config_change(
    config_file, engine, inbound_settings, make_sent
):
    sent = make_sent("retired")
    row = ingest(engine, inbound_settings, sent.fill(eml("reply_plus_token_csat_5.eml")))
    assert (row.status, row.reason.split(":")[0]) == ("quarantined", "unknown_survey")

    text = config_file.read_text().replace('key = "csat"', 'key = "retired"', 1)
    config_file.write_text(text)
    fixed = load_settings(config_file).model_copy(
        update={"database_url": inbound_settings.database_url}
    )
    outcome = retry(fixed, engine, row.id)

    assert outcome.status == "parsed" and response_of(engine, sent.request_id).score == 5
    with pytest.raises(RetryRefused):
        retry(fixed, engine, row.id)


def test_one_bad_message_does_not_stop_the_batch(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    garbage = store_raw(engine, b"\x00\xff\x00 not mail at all", via="smtp")
    hostile = store_raw(
        engine,
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain'
        b"; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n",
        via="smtp",
    )
    good = store_raw(engine, sent.fill(eml("reply_plus_token_csat_5.eml")), via="smtp")

    assert drain(inbound_settings, engine, limit=10) == 3

    with Session(engine) as session:
        statuses = {r.id: r.status for r in session.exec(select(InboundMessage)).all()}
    assert statuses[good.id] == "parsed"
    assert statuses[garbage.id] in ("quarantined", "unmatched")
    assert statuses[hostile.id] in ("quarantined", "unmatched")
    assert drain(inbound_settings, engine, limit=10) == 0


def test_two_workers_process_each_message_exactly_once(any_engine, any_db_settings, make_sent_any):
    import threading

    sent = [make_sent_any("csat") for _ in range(12)]
    for one in sent:
        store_raw(any_engine, one.fill(eml("reply_plus_token_csat_5.eml")), via="smtp")
    counts: list[int] = []

    def work() -> None:
        counts.append(run_until_empty(any_db_settings, any_engine, batch=5))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(counts) == 12
    with Session(any_engine) as session:
        statuses = [r.status for r in session.exec(select(InboundMessage)).all()]
        responses = session.exec(select(Response)).all()
    assert statuses == ["parsed"] * 12
    assert sorted(r.request_id for r in responses) == sorted(s.request_id for s in sent)


def test_reply_without_a_score_is_quarantined_no_score(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    template = eml("reply_plus_token_csat_5.eml").replace(
        "5 - very quick, thank you!", "Thank you for the call yesterday."
    )
    row = ingest(engine, inbound_settings, sent.fill(template))
    assert (row.status, row.request_id) == ("quarantined", sent.request_id)
    assert row.reason.startswith("no_score")


def test_russian_reply_in_windows_1251(engine, inbound_settings, make_sent):
    sent = make_sent("csat")
    raw = (
        f"From: Иван <{sent.email}>\r\nTo: survey+{sent.reply_token}@reply.localhost\r\n"
        "Subject: Re: Оцените нашу работу\r\nMessage-ID: <ru-1@mail.example.ru>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1251\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Оценка 4, всё починили быстро.\r\n\r\n-- \r\nИван Петров\r\n"
    ).encode("cp1251")
    row = ingest(engine, inbound_settings, raw)
    assert row.status == "parsed", row.reason
    response = response_of(engine, sent.request_id)
    assert response.score == 4 and "Иван Петров" not in (response.comment or "")
