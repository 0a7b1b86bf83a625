"""Sessions live on the server: signing out, a new password, disabling or deleting the user
ends them, and an old cookie opens nothing. Sign-in is limited per address and per account."""

from __future__ import annotations

import re

import httpx
import pytest

from mailflow.auth import create_user, delete_user, disable_user, set_password
from storage.engine import session_scope

from .conftest import served_site, serving

PASSWORD = "correct horse battery"


def sign_in(client, username="maria", password=PASSWORD, headers=None):
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/admin/login",
        data={"csrf": csrf, "username": username, "password": password, "next": "/admin"},
        headers=headers or {},
    )


def with_cookie(site, value):
    """A different browser that only has a copy of the session cookie."""
    return httpx.Client(
        base_url=site.settings.web.base_url, cookies={"mf_session": value}, timeout=10
    )


@pytest.fixture
def staff(site):
    with session_scope(site.engine) as session:
        create_user(session, "maria", PASSWORD)


def signed_in_cookie(client):
    assert sign_in(client).status_code == 303
    assert client.get("/admin").status_code == 200
    return client.cookies["mf_session"]


def test_sign_out_ends_the_session_for_a_copied_cookie(client, site, staff):
    cookie = signed_in_cookie(client)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin").text).group(1)
    assert client.post("/admin/logout", data={"csrf": csrf}).status_code == 303
    with with_cookie(site, cookie) as copy:
        reply = copy.get("/admin")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize(
    "end",
    [
        lambda session: set_password(session, "maria", "a brand new passphrase"),
        lambda session: disable_user(session, "maria"),
        lambda session: delete_user(session, "maria"),
    ],
    ids=["passwd", "disable", "delete"],
)
def test_password_change_disable_and_delete_end_sessions(client, site, staff, end):
    cookie = signed_in_cookie(client)
    with session_scope(site.engine) as session:
        end(session)
    with with_cookie(site, cookie) as copy:
        assert copy.get("/admin").status_code == 303


def test_a_disabled_user_cannot_sign_in(site, staff):
    with session_scope(site.engine) as session:
        disable_user(session, "maria")
    with httpx.Client(base_url=site.settings.web.base_url, timeout=10) as client:
        assert sign_in(client).status_code == 401


def test_a_failed_sign_in_makes_the_account_wait(site, staff):
    with httpx.Client(base_url=site.settings.web.base_url, timeout=10) as client:
        assert sign_in(client, password="not the password").status_code == 401
        waiting = sign_in(client)  # the right password, but straight after a failure
    assert waiting.status_code == 429 and int(waiting.headers["retry-after"]) >= 1
    assert "mf_session" not in client.cookies


def test_rotating_x_forwarded_for_does_not_dodge_the_address_limit(tmp_path, monkeypatch):
    site = served_site(
        tmp_path, monkeypatch, WEB__LOGIN_ATTEMPTS_PER_MINUTE="3", WEB__LOGIN_BACKOFF_SECONDS="0"
    )
    with serving(site), httpx.Client(base_url=site.settings.web.base_url, timeout=10) as client:
        codes = [
            sign_in(client, f"user{n}", "wrong password", {"X-Forwarded-For": f"10.0.0.{n}"})
            .status_code
            for n in range(5)
        ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_a_trusted_proxy_is_believed_but_the_account_still_waits(tmp_path, monkeypatch):
    site = served_site(
        tmp_path,
        monkeypatch,
        WEB__TRUSTED_PROXIES='["127.0.0.1"]',
        WEB__LOGIN_ATTEMPTS_PER_MINUTE="3",
    )
    with session_scope(site.engine) as session:
        create_user(session, "maria", PASSWORD)
    with serving(site), httpx.Client(base_url=site.settings.web.base_url, timeout=10) as client:
        others = [
            sign_in(client, f"user{n}", "wrong password", {"X-Forwarded-For": f"10.0.0.{n}"})
            .status_code
            for n in range(5)
        ]
        first = sign_in(client, "maria", "wrong password", {"X-Forwarded-For": "10.0.1.1"})
        second = sign_in(client, "maria", PASSWORD, {"X-Forwarded-For": "10.0.1.2"})
    assert others == [401] * 5  # five addresses behind the proxy, each with its own limit
    assert first.status_code == 401 and second.status_code == 429  # one account, any address


def test_answer_clicks_do_not_use_up_sign_in_attempts(tmp_path, monkeypatch):
    site = served_site(tmp_path, monkeypatch, WEB__RATE_LIMIT_PER_MINUTE="2")
    with session_scope(site.engine) as session:
        create_user(session, "maria", PASSWORD)
    token = site.token(site.request("csat"))
    with serving(site), httpx.Client(base_url=site.settings.web.base_url, timeout=10) as client:
        codes = [client.post(f"/r/{token}", data={"a": "5"}).status_code for _ in range(3)]
        assert codes[-1] == 429
        assert sign_in(client).status_code == 303
