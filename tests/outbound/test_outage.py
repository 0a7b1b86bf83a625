"""Outages heal without a human: while the relay cannot be reached, sending pauses and no row
spends its attempts (however long it lasts, here many times the retry budget); when it returns
everything due is sent. The outage shows in /healthz and /metrics. Failed rows from before can
be re-queued in bulk with `mailflow requests retry`."""

from __future__ import annotations

import asyncio
import collections
import email
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from mailflow.cli import app
from mailflow.health import Health
from mailflow.service import named, run_components, web_component, worker_component
from storage.clock import utcnow
from storage.models import SurveyRequest
from tests.support.policy import free_port

from .conftest import with_outbound
from .seed import seed_due_requests
from .sinks import Relay

ROWS = 200


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SurveyRequest.state, func.count()).group_by(SurveyRequest.state)
        ).all()
    return dict(rows)


def max_attempts(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(SurveyRequest.attempts))).scalar() or 0)


def test_an_outage_longer_than_the_retry_budget_loses_nothing(migrated_engine, settings):
    engine = migrated_engine  # SQLite and PostgreSQL
    url = engine.url.render_as_string(hide_password=False)
    relay = Relay()  # its port is known, nothing listens on it yet: the relay is down
    config = with_outbound(
        settings.model_copy(update={"database_url": url}),
        transport="smtp",
        smtp_host=relay.host,
        smtp_port=relay.port,
        smtp_security="none",
        smtp_timeout=2,
        cap_days=0,
        max_attempts=2,  # the retry budget: two tries per row
        retry_base_seconds=0,
        relay_pause_base_seconds=0.02,
        relay_pause_max_seconds=0.1,
    )
    seed_due_requests(engine, ROWS)
    health = Health()
    listen = f"127.0.0.1:{free_port('127.0.0.1')}"

    async def scenario() -> tuple[dict, str, dict, str]:
        stop = asyncio.Event()
        parts = [
            web_component(config, engine, listen, health=health),
            named(
                "worker",
                worker_component(config, engine, asyncio.Event(), idle_seconds=0.02, health=health),
            ),
        ]
        service = asyncio.create_task(run_components(parts, health=health, stop=stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://{listen}", timeout=5) as client:
                for _ in range(1000):  # the outage: many pauses, far past the retry budget
                    await asyncio.sleep(0.02)
                    if health.relay.failures >= 10:
                        break
                else:
                    raise AssertionError("the worker never tried the relay ten times")
                during = (await client.get("/healthz")).json()
                metrics = (await client.get("/metrics")).text
                relay.start()  # the relay is back
                for _ in range(1500):
                    await asyncio.sleep(0.02)
                    if len(relay.messages) >= ROWS and counts(engine).get("sent") == ROWS:
                        break
                after = (await client.get("/healthz")).json()
                after_metrics = (await client.get("/metrics")).text
        finally:
            stop.set()
            await asyncio.wait_for(service, 15)
        return during, metrics, after, after_metrics

    try:
        during, metrics, after, after_metrics = asyncio.run(scenario())
    finally:
        relay.stop()
    assert during["status"] == "degraded" and during["relay"]["state"] == "down"
    assert "ConnectionRefused" in during["relay"]["error"] or "connect" in during["relay"]["error"]
    assert "mailflow_relay_up 0.0" in metrics
    assert 'mailflow_queue_rows{queue="survey_requests",state="scheduled"}' in metrics
    assert counts(engine) == {"sent": ROWS}
    assert max_attempts(engine) == 1  # the outage spent no attempt
    seen = collections.Counter(
        email.message_from_bytes(m.data)["Message-ID"] for m in relay.messages
    )
    assert len(seen) == ROWS and max(seen.values()) == 1
    assert after["status"] == "ok" and after["relay"]["state"] == "up"
    assert f'mailflow_outbox_sent_total{{queue="survey_requests"}} {float(ROWS)}' in after_metrics
    assert "mailflow_relay_pauses_total 1.0" in after_metrics  # one outage, one pause


def test_failed_requests_are_requeued_in_bulk(engine, settings, config_file, monkeypatch):
    ids = seed_due_requests(engine, 30)
    old = utcnow() - timedelta(days=10)
    with engine.begin() as conn:
        conn.execute(
            update(SurveyRequest)
            .where(SurveyRequest.id.in_(ids[:20]))
            .values(state="failed", attempts=6, last_error="gave up after 6 attempts: 421")
        )
        conn.execute(update(SurveyRequest).where(SurveyRequest.id.in_(ids[:5])).values(due_at=old))
    monkeypatch.setenv("MAILFLOW_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
    args = ["--config", str(config_file), "requests", "retry", "--state", "failed"]
    recent = runner.invoke(app, [*args, "--since", since])
    assert recent.exit_code == 0, recent.output
    assert "15 requests re-queued" in recent.output
    assert counts(engine) == {"failed": 5, "scheduled": 25}
    everything = runner.invoke(app, args)
    assert "5 requests re-queued" in everything.output
    assert counts(engine) == {"scheduled": 30} and max_attempts(engine) == 0
    refused = runner.invoke(app, [*args[:-1], "sent"])
    assert refused.exit_code == 2 and "cannot be retried" in refused.output
