"""Limits before work: the API key before the body, body caps (413), numbers that do not fit
the database (404/422, never 500), key scopes, and no-store on data answers."""

from __future__ import annotations

import re

import pytest

from mailflow.auth import create_api_key, create_user
from mailflow.web.csrf import form_field
from storage.engine import session_scope

from .test_api import EVENT, bearer

PASSWORD = "correct horse battery"
HUGE = "9" * 30


def api_key(site, *scopes):
    with session_scope(site.engine) as session:
        return create_api_key(session, f"key{len(scopes)}{'-'.join(scopes)}", list(scopes))


@pytest.fixture
def admin(client, site):
    with session_scope(site.engine) as session:
        create_user(session, "maria", PASSWORD)
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    data = {"csrf": csrf, "username": "maria", "password": PASSWORD, "next": "/admin"}
    assert client.post("/admin/login", data=data).status_code == 303
    return client


def test_the_key_is_checked_before_the_body(client):
    garbage = b"{" * 200_000  # not JSON, and no key: refused for the key, never parsed
    reply = client.post(
        "/api/events", content=garbage, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 401 and reply.headers["cache-control"] == "no-store"


def test_bodies_over_the_cap_get_413(client, site):
    key = api_key(site, "events:write")
    big = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    reply = client.post(
        "/api/events", content=big, headers={**bearer(key), "content-type": "application/json"}
    )
    assert reply.status_code == 413 and reply.json()["error"]

    def chunks():  # no Content-Length: the cap holds while the body arrives
        for _ in range(40):
            yield b"x" * 32_768

    reply = client.post(
        "/api/events", content=chunks(), headers={**bearer(key), "content-type": "application/json"}
    )
    assert reply.status_code == 413
    token = site.token(site.request("csat"))
    form = {"a": "5", "csrf": form_field(site.settings, token, "link"), "comment": "x" * 100_000}
    page = client.post(f"/r/{token}", data=form)
    assert page.status_code == 413 and "The request is too large." in page.text
    assert client.post(f"/r/{token}", data={**form, "comment": "fine"}).status_code == 200


def test_huge_numbers_in_admin_paths_and_pages_are_not_500(admin):
    for path in (
        f"/admin/dashboard/tickets/{HUGE}",
        "/admin/dashboard/tickets/9223372036854775808",
        f"/admin/escalations/{HUGE}",
        f"/admin/escalations/response/{HUGE}",
    ):
        assert admin.get(path).status_code in (404, 422), path
    assert admin.get("/admin/dashboard/tickets/9223372036854775807").status_code == 404
    assert admin.get(f"/admin/dashboard/tickets?page={HUGE}").status_code == 200
    assert admin.get("/admin/dashboard/tickets?page=-3").status_code == 200
    assert admin.get(f"/admin/dashboard?employee={HUGE}").status_code == 400  # says why


def test_api_keys_do_only_what_their_scopes_say(client, site):
    events_only = api_key(site)  # the default: events:write
    reports = api_key(site, "reports:read")
    denied = client.get("/api/reports/figures", headers=bearer(events_only))
    assert denied.status_code == 403 and "reports:read" in denied.json()["error"]
    allowed = client.get(f"/api/reports/tickets?page={HUGE}", headers=bearer(reports))
    assert allowed.status_code == 422
    employee = client.get(f"/api/reports/figures?employee={HUGE}", headers=bearer(reports))
    assert employee.status_code == 400 and employee.json()["field"] == "employee"
    figures = client.get("/api/reports/figures", headers=bearer(reports))
    assert figures.status_code == 200 and figures.headers["cache-control"] == "no-store"
    assert client.post("/api/events", json=EVENT, headers=bearer(reports)).status_code == 403


def test_exports_are_never_cached(admin):
    export = admin.get("/admin/dashboard/export.csv")
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
