"""/healthz checks the database and names each component; /metrics speaks Prometheus."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailflow.health import Health
from mailflow.service import run_until_empty
from mailflow.web.app import create_app
from storage.engine import make_engine

from .conftest import ticket_event
from .served import served


def test_healthz_and_metrics_on_a_working_database(post, engine, settings, memory):
    post(ticket_event(ticket="1"))
    post(ticket_event(ticket="2", email="ola@example.com"))
    run_until_empty(settings, engine, transport=memory)
    post(ticket_event(ticket="3", email="ivan@example.com"))  # due, not sent yet
    health = Health()
    health.set_component("worker", "running")
    with served(create_app(settings, engine, health=health)) as base:
        healthz = httpx.get(f"{base}/healthz", timeout=10)
        metrics = httpx.get(f"{base}/metrics", timeout=10)
    assert healthz.status_code == 200
    body = healthz.json()
    assert body["status"] == "ok" and body["database"] == {"ok": True}
    assert body["components"]["worker"]["state"] == "running"
    assert body["relay"]["state"] == "unknown"
    assert metrics.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.text)
        for s in family.samples
    }
    queue = "mailflow_queue_rows"
    assert samples[(queue, (("queue", "survey_requests"), ("state", "sent")))] == 2
    assert samples[(queue, (("queue", "survey_requests"), ("state", "scheduled")))] == 1
    assert samples[("mailflow_relay_up", ())] == 1


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(settings, tmp_path):
    away = make_engine("postgresql+psycopg://mailflow@127.0.0.1:9/none?connect_timeout=2")
    try:
        with served(create_app(settings, away)) as base:
            reply = httpx.get(f"{base}/healthz", timeout=10)
    finally:
        away.dispose()
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "down" and body["database"]["ok"] is False
    assert "OperationalError" in body["database"]["error"]


def test_an_answer_by_link_is_timed_from_arrival_to_recorded(engine, settings):
    from mailflow.web.csrf import form_field
    from tests.web.conftest import Site

    site = Site(settings, engine)
    token = site.token(site.request())
    health = Health()
    with served(create_app(settings, engine, health=health)) as base:
        assert httpx.get(f"{base}/r/{token}", timeout=10).status_code == 200  # reading: no
        data = {"csrf": form_field(settings, token, "link"), "a": "5"}
        assert httpx.post(f"{base}/r/{token}", data=data, timeout=10).status_code == 200
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
    }
    latency = "mailflow_answer_latency_seconds"
    assert samples[(f"{latency}_count", (("channel", "link"),))] == 1
    assert 0 < samples[(f"{latency}_sum", (("channel", "link"),))] < 10
