"""POST /api/events with bearer API keys: 401 without one, 422 naming the field, 202 with one."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mailflow.auth import create_api_key, revoke_api_key
from storage.engine import session_scope
from storage.models import ApiKey, SurveyRequest

EVENT = {
    "type": "ticket.closed",
    "ticket": {"id": "T-100", "title": "Printer does not print", "status": "Closed"},
    "contact": {"email": "anna@example.com", "name": "Anna", "locale": "pl"},
    "employee": {"name": "Piotr", "email": "piotr@example.com"},
}


@pytest.fixture
def api_key(site):
    with session_scope(site.engine) as session:
        return create_api_key(session, "helpdesk")


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_without_or_with_a_bad_key_401(client, site, api_key):
    assert client.post("/api/events", json=EVENT).status_code == 401
    bad = api_key[:-2] + ("xx" if not api_key.endswith("xx") else "yy")
    for key in (bad, "mf_nope", "Basic abc", "mf_abcdefgh_" + "a" * 32):
        reply = client.post("/api/events", json=EVENT, headers=bearer(key))
        assert reply.status_code == 401, key
        assert reply.json()["error"]
    assert reply.headers["www-authenticate"] == "Bearer"
    with session_scope(site.engine) as session:
        revoke_api_key(session, "helpdesk")
    assert client.post("/api/events", json=EVENT, headers=bearer(api_key)).status_code == 401


def test_key_is_stored_only_as_a_hash(site, api_key):
    with session_scope(site.engine) as session:
        [row] = session.exec(select(ApiKey)).all()
    assert api_key.startswith(f"mf_{row.prefix}_")
    assert api_key not in row.key_hash and row.key_hash != api_key


def test_bad_json_is_422_naming_the_field(client, api_key):
    missing = {k: v for k, v in EVENT.items()}
    missing["contact"] = {"name": "Anna"}
    reply = client.post("/api/events", json=missing, headers=bearer(api_key))
    assert reply.status_code == 422
    body = reply.json()
    assert body["field"] == "contact.email"
    assert body["error"].startswith("contact.email: ")
    wrong_type = {**EVENT, "type": "ticket.exploded"}
    reply = client.post("/api/events", json=wrong_type, headers=bearer(api_key))
    assert reply.status_code == 422 and reply.json()["field"] == "type"
    syntax = client.post(
        "/api/events",
        content=b"{not json",
        headers={**bearer(api_key), "content-type": "application/json"},
    )
    assert syntax.status_code == 422 and "error" in syntax.json()


def test_valid_event_with_a_key_is_accepted(client, site, api_key):
    pytest.importorskip("mailflow.events")
    reply = client.post("/api/events", json=EVENT, headers=bearer(api_key))
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["status"] == "accepted"
    with session_scope(site.engine) as session:
        requests = session.exec(select(SurveyRequest)).all()
    assert [r.survey_key for r in requests] == ["csat"]  # the example survey on ticket.closed
    assert body["created"] == [requests[0].id]


def test_openapi_documents_the_events_route_without_a_cdn_page(client):
    assert client.get("/api/docs").status_code == 404  # Swagger UI would load from a CDN
    spec = client.get("/api/openapi.json").json()
    assert "/api/events" in spec["paths"]
    body = spec["paths"]["/api/events"]["post"]["requestBody"]["content"]["application/json"]
    assert "email" in body["schema"]["properties"]["contact"]["properties"]
    assert "/r/{token}" not in spec["paths"]  # pages are not API
