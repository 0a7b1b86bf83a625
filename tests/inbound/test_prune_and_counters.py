"""Raw inbound mail pruned after inbound.keep_raw_days (what it became is kept), and the
inbound counters and the email answer latency in /metrics."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest
from sqlalchemy import update
from sqlmodel import Session, select

from mailflow.health import Health
from mailflow.inbound.prune import prune_raw
from mailflow.inbound.store import store_raw
from mailflow.inbound.worker import drain
from storage.clock import utcnow
from storage.models import InboundMessage, Response
from tests.inbound.conftest import eml
from tests.inbound.test_cli import mailflow


def store(engine, raw: bytes) -> int:
    stored = store_raw(engine, raw, via="smtp", envelope_to=["survey@reply.localhost"])
    assert stored.created
    return stored.id


def age(engine, inbound_id: int, days: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .values(received_at=utcnow() - timedelta(days=days))
        )


def test_old_raw_mail_is_pruned_and_what_it_became_is_kept(
    any_engine, any_db_settings, make_sent_any
):
    sent = make_sent_any("csat")
    old = store(any_engine, sent.fill(eml("reply_plus_token_csat_5.eml")))
    drain(any_db_settings, any_engine)
    recent = store(any_engine, make_sent_any("csat").fill(eml("reply_plus_token_csat_5.eml")))
    drain(any_db_settings, any_engine)
    waiting = store(any_engine, make_sent_any("csat").fill(eml("reply_plus_token_csat_5.eml")))
    for inbound_id in (old, waiting):
        age(any_engine, inbound_id, 91)

    assert prune_raw(any_db_settings, any_engine) == 1
    assert prune_raw(any_db_settings, any_engine) == 0  # once
    with Session(any_engine) as session:
        pruned, kept, unprocessed = (session.get(InboundMessage, i) for i in (old, recent, waiting))
        response = session.exec(
            select(Response).where(Response.request_id == sent.request_id)
        ).one()
    assert pruned.raw is None and pruned.raw_pruned_at is not None
    assert (pruned.status, pruned.kind, pruned.request_id) == ("parsed", "reply", sent.request_id)
    assert pruned.sender == sent.email and pruned.subject
    assert response.score == 5 and response.inbound_message_id == old  # the answer stays
    assert kept.raw and kept.raw_pruned_at is None  # younger than keep_raw_days
    assert unprocessed.raw and unprocessed.status == "received"  # never before processing

    forever = any_db_settings.model_copy(
        update={"inbound": any_db_settings.inbound.model_copy(update={"keep_raw_days": 0})}
    )
    age(any_engine, recent, 400)
    assert prune_raw(forever, any_engine) == 0


def test_the_cli_shows_raw_pruned_and_refuses_to_retry(
    engine, inbound_settings, make_sent, tmp_path
):
    sent = make_sent("csat")
    inbound_id = store(engine, sent.fill(eml("reply_plus_token_csat_5.eml")))
    drain(inbound_settings, engine)
    age(engine, inbound_id, 100)
    pruned = mailflow("inbound", "prune", cwd=tmp_path)
    assert pruned.returncode == 0 and "1 message(s)" in pruned.stdout, pruned.stderr
    listed = mailflow("inbound", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [line] = [x for x in listed.stdout.splitlines() if x.strip().startswith(str(inbound_id))]
    assert "[raw pruned]" in line and sent.email in line
    retried = mailflow("inbound", "retry", str(inbound_id), cwd=tmp_path)
    assert retried.returncode == 2 and "Traceback" not in retried.stderr
    # a parsed answer is refused first for being an answer; a quarantined one for the prune:
    with engine.begin() as conn:
        conn.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .values(status="quarantined", reason="unverified_sender: test")
        )
    accepted = mailflow("inbound", "accept", str(inbound_id), cwd=tmp_path)
    assert accepted.returncode == 2 and "raw pruned on" in accepted.stderr


def test_inbound_outcomes_and_email_answer_latency_are_counted(engine, inbound_settings, make_sent):
    health = Health()
    store(engine, make_sent("csat").fill(eml("reply_plus_token_csat_5.eml")))
    store(engine, make_sent("csat").fill(eml("reply_sender_only_forged_auth_results.eml")))
    store(engine, make_sent("csat").fill(eml("auto_reply_out_of_office.eml")))
    assert drain(inbound_settings, engine, health=health) == 3
    with Session(engine) as session:
        statuses = sorted(session.exec(select(InboundMessage.status)).all())
    text = generate_latest(health.registry).decode()
    assert 'mailflow_inbound_accepted_total{kind="reply"} 1.0' in text
    for status in set(statuses):
        assert (
            f'mailflow_inbound_filed_total{{status="{status}"}} {statuses.count(status)}.0' in text
        )
    if "quarantined" in statuses:
        assert 'mailflow_inbound_quarantined_total{reason="' in text
    assert 'mailflow_answer_latency_seconds_count{channel="email"} 1.0' in text
