"""Poison isolation: one request that cannot be made fails alone, with its reason, and every
other one is sent; a component that crashes is restarted while the web keeps answering."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update
from sqlmodel import select

from mailflow import webhooks
from mailflow.health import Health
from mailflow.outbox.claim import claim
from mailflow.outbox.pipeline import deliver
from mailflow.outbox.worker import Outbox, prepare
from mailflow.service import named, run_components, run_until_empty, web_component, worker_component
from mailflow.settings import WebhookSettings
from storage.engine import session_scope
from storage.models import Contact, SurveyRequest, WebhookDelivery
from tests.escalation.receiver import WebhookReceiver
from tests.support.policy import free_port

from .seed import seed_due_requests


def poison_one(engine, request_id: int) -> None:
    """One contact row written before addresses were checked at the edge."""
    with engine.begin() as conn:
        contact_id = conn.execute(
            select(SurveyRequest.contact_id).where(SurveyRequest.id == request_id)
        ).scalar_one()
        conn.execute(
            update(Contact).where(Contact.id == contact_id).values(email="broken@@example")
        )


def outcome(engine) -> dict[int, tuple[str, str | None]]:
    with session_scope(engine) as session:
        rows = session.exec(select(SurveyRequest.id, SurveyRequest.state, SurveyRequest.last_error))
        return {i: (state, error) for i, state, error in rows}


def test_one_request_that_cannot_be_rendered_fails_alone(engine, settings, memory):
    ids = seed_due_requests(engine, 20)
    poison_one(engine, ids[7])
    run_until_empty(settings, engine, transport=memory)
    rows = outcome(engine)
    state, error = rows.pop(ids[7])
    assert state == "failed" and "cannot be sent to" in error and "broken@@example" in error
    assert {state for state, _ in rows.values()} == {"sent"}
    assert len(memory.sent) == 19


def test_a_crashing_component_is_restarted_and_the_web_and_worker_go_on(engine, settings, memory):
    ids = seed_due_requests(engine, 10)
    poison_one(engine, ids[3])
    health = Health()
    listen = f"127.0.0.1:{free_port('127.0.0.1')}"
    crashes: list[int] = []

    async def flaky(stop: asyncio.Event) -> None:
        crashes.append(1)
        raise RuntimeError("boom")

    async def scenario() -> dict:
        stop = asyncio.Event()
        parts = [
            web_component(settings, engine, listen, health=health),
            named(
                "worker",
                worker_component(
                    settings,
                    engine,
                    asyncio.Event(),
                    transport=memory,
                    idle_seconds=0.05,
                    health=health,
                ),
            ),
            named("flaky", flaky),
        ]
        service = asyncio.create_task(run_components(parts, health=health, stop=stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://{listen}", timeout=5) as client:
                for _ in range(500):  # up to ~10 s: the worker sends, flaky restarts
                    await asyncio.sleep(0.02)
                    try:
                        body = (await client.get("/healthz")).json()
                    except httpx.TransportError:
                        continue  # the web is still starting
                    if len(memory.sent) == 9 and len(crashes) >= 2:
                        return body
                raise AssertionError(f"sent {len(memory.sent)}, crashes {len(crashes)}")
        finally:
            stop.set()
            await asyncio.wait_for(service, 15)

    body = asyncio.run(scenario())
    assert body["database"] == {"ok": True}
    assert body["components"]["flaky"]["restarts"] >= 1
    assert "boom" in body["components"]["flaky"]["last_error"]
    assert body["components"]["worker"]["state"] == "running"
    assert body["status"] == "degraded"
    assert outcome(engine)[ids[3]][0] == "failed"


def test_a_webhook_that_cannot_be_sent_fails_alone(engine, settings):
    receiver = WebhookReceiver("whsec-good")
    receiver.start()
    try:
        hooks = [
            WebhookSettings(
                url="http://[::1/broken", secret="whsec-bad", events=["request.bounced"]
            ),
            WebhookSettings(url=receiver.url, secret="whsec-good", events=["request.bounced"]),
        ]
        config = settings.model_copy(update={"webhooks": hooks})
        with session_scope(engine) as session:
            webhooks.emit(session, config, "request.bounced", "1", {"request_id": 1})
        assert webhooks.drain(config, engine, limit=10) == 2
    finally:
        receiver.stop()
    with session_scope(engine) as session:
        rows = {d.url: (d.state, d.last_error) for d in session.exec(select(WebhookDelivery))}
    state, error = rows["http://[::1/broken"]
    assert state == "failed" and "InvalidURL" in error
    assert rows[receiver.url] == ("delivered", None)


def test_a_failure_injected_into_rendering_one_request_fails_it_alone(engine, settings, memory):
    ids = seed_due_requests(engine, 5)
    outbox = Outbox.open(settings, engine, memory)
    owner = outbox.lease_owner()
    claimed = claim(engine, SurveyRequest, owner=owner, limit=5, lease_seconds=60)
    jobs = prepare(outbox, claimed, owner)

    def broken_template() -> bytes:
        raise RuntimeError("template bug: 'texts.title' is undefined")

    jobs[2].build = broken_template
    asyncio.run(deliver(memory, outbox.recorder(SurveyRequest, owner), jobs))
    rows = outcome(engine)
    state, error = rows.pop(ids[2])
    assert state == "failed" and "cannot make the message: RuntimeError: template bug" in error
    assert {state for state, _ in rows.values()} == {"sent"} and len(memory.sent) == 4
