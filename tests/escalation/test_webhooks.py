"""Webhooks out: rows in an outbox, signed POSTs to a real receiver, retries, visible failures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from mailflow import webhooks
from mailflow.cli import app
from mailflow.settings import Settings
from storage.clock import as_utc, utcnow
from storage.engine import session_scope
from storage.models import SurveyRequest, WebhookDelivery
from tests.escalation.conftest import WEBHOOK_SECRET, make_request


def _emit(engine, settings: Settings, key: str = "1", event: str = "response.created") -> None:
    with session_scope(engine) as session:
        webhooks.emit(session, settings, event, key, {"response_id": int(key), "score": 2})


def _rows(engine) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_delivery_is_signed_and_verifiable_by_the_receiver(engine, settings, receiver):
    _emit(engine, settings)
    assert webhooks.drain(settings, engine, limit=10) == 1
    [got] = receiver.accepted()
    assert got.signature_ok
    assert got.headers["Mailflow-Event"] == "response.created"
    assert got.json["event"] == "response.created"
    assert got.json["data"] == {"response_id": 1, "score": 2}
    assert got.json["id"] == "response.created:1"
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 1, 200)
    # Our own verify() agrees with the independent check, and refuses a changed body.
    header = got.headers["Mailflow-Signature"]
    now = int(utcnow().timestamp())
    assert webhooks.verify(WEBHOOK_SECRET, header, got.body, now=now)
    assert not webhooks.verify(WEBHOOK_SECRET, header, got.body + b" ", now=now)
    assert not webhooks.verify("another-secret", header, got.body, now=now)


def test_receiver_failing_twice_gets_it_on_the_third_attempt_with_backoff(
    engine, settings, receiver
):
    receiver.script.extend([500, 503])
    _emit(engine, settings)
    start = utcnow()
    assert webhooks.drain(settings, engine, limit=10, now=start) == 1
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    assert "HTTP 500" in row.last_error
    first_wait = as_utc(row.next_attempt_at) - start
    assert first_wait == timedelta(seconds=10)
    # Not due yet: nothing is sent before the backoff is over.
    assert webhooks.drain(settings, engine, limit=10, now=start + timedelta(seconds=5)) == 0
    second = start + timedelta(seconds=11)
    assert webhooks.drain(settings, engine, limit=10, now=second) == 1
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("pending", 2, 503)
    assert as_utc(row.next_attempt_at) - second == timedelta(seconds=20)  # exponential
    assert webhooks.drain(settings, engine, limit=10, now=second + timedelta(seconds=21)) == 1
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 3, None)
    assert [r.status for r in receiver.received] == [500, 503, 200]
    assert all(r.signature_ok for r in receiver.received)
    # The same body each time, so the receiver can deduplicate by its id.
    assert len({r.body for r in receiver.received}) == 1


def test_timeouts_are_retried_and_after_max_attempts_the_failure_is_visible(
    engine, settings, receiver
):
    receiver.script.extend(["stall", 502, 502, 502])
    _emit(engine, settings)
    now = utcnow()
    for _ in range(4):  # max_attempts = 4
        assert webhooks.drain(settings, engine, limit=10, now=now) == 1
        now += timedelta(hours=7)
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("failed", 4, 502)
    assert "HTTP 502" in row.last_error
    assert webhooks.drain(settings, engine, limit=10, now=now + timedelta(days=1)) == 0
    with Session(engine) as session:
        failed = webhooks.deliveries(session, state="failed")
    assert [d.id for d in failed] == [row.id]


def test_first_timeout_records_the_reason(engine, settings, receiver):
    receiver.script.append("stall")
    _emit(engine, settings)
    webhooks.drain(settings, engine, limit=10)
    [row] = _rows(engine)
    assert row.state == "pending" and row.last_error.startswith("timeout")


def test_client_errors_fail_at_once(engine, settings, receiver):
    receiver.script.append(410)
    _emit(engine, settings)
    webhooks.drain(settings, engine, limit=10)
    [row] = _rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("failed", 1, 410)


def test_emitting_twice_queues_one_delivery_and_unwanted_events_none(engine, settings, tmp_path):
    _emit(engine, settings, key="7")
    _emit(engine, settings, key="7")
    assert len(_rows(engine)) == 1
    only_escalations = settings.model_copy(
        update={
            "webhooks": [settings.webhooks[0].model_copy(update={"events": ["escalation.created"]})]
        }
    )
    _emit(engine, only_escalations, key="8")
    assert len(_rows(engine)) == 1
    with pytest.raises(webhooks.UnknownEvent):
        _emit(engine, settings, event="response.deleted")


def test_request_bounced_event(engine, settings, receiver):
    made = make_request(engine, "csat", tag="bounce")
    with session_scope(engine) as session:
        request = session.get(SurveyRequest, made.request_id)
        assert webhooks.request_bounced(session, settings, request, "550 no such user") == 1
    webhooks.drain(settings, engine, limit=10)
    [got] = receiver.accepted()
    assert got.json["event"] == "request.bounced"
    assert got.json["data"]["reason"] == "550 no such user"


def test_removed_subscription_fails_the_delivery(engine, settings):
    _emit(engine, settings)
    webhooks.drain(settings.model_copy(update={"webhooks": []}), engine, limit=10)
    [row] = _rows(engine)
    assert (row.state, row.last_error) == ("failed", "subscription removed")


def test_cli_lists_deliveries_with_their_errors(engine, settings, receiver, tmp_path, monkeypatch):
    receiver.script.append(410)
    _emit(engine, settings)
    webhooks.drain(settings, engine, limit=10)
    config = tmp_path / "mailflow.toml"
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", str(engine.url.render_as_string(False)))
    result = CliRunner().invoke(app, ["--config", str(config), "webhooks", "--json"])
    assert result.exit_code == 0, result.output
    [item] = [json.loads(line) for line in result.output.splitlines()]
    assert item["state"] == "failed" and item["last_status"] == 410
    assert "HTTP 410" in item["last_error"]
