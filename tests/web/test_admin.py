"""Admin sign-in: argon2 passwords, HttpOnly session cookie, CSRF on every form."""

from __future__ import annotations

import re

import httpx
import pytest

from mailflow.auth import authenticate, create_user, hash_password, verify_password
from mailflow.web.csrf import form_field
from storage.engine import session_scope

PASSWORD = "correct horse battery"


@pytest.fixture
def staff(site):
    with session_scope(site.engine) as session:
        create_user(session, "maria", PASSWORD, locale="ru")


def login_form(client, next_path="/admin"):
    page = client.get(f"/admin/login?next={next_path}")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client, password=PASSWORD):
    csrf = login_form(client)
    return client.post(
        "/admin/login",
        data={"csrf": csrf, "username": "maria", "password": password, "next": "/admin"},
    )


def test_passwords_are_argon2_and_checked(site):
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD) and not verify_password(hashed, "wrong password")
    with session_scope(site.engine) as session:
        create_user(session, "ola", PASSWORD)
        assert authenticate(session, "ola", PASSWORD) is not None
        assert authenticate(session, "ola", "nope-nope") is None
        assert authenticate(session, "nobody", PASSWORD) is None


def test_admin_requires_a_session(client):
    reply = client.get("/admin")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/admin/login?next=/admin"


def test_login_needs_the_forms_csrf_field(client, staff):
    login_form(client)
    reply = client.post("/admin/login", data={"username": "maria", "password": PASSWORD})
    assert reply.status_code == 403
    cookieless = httpx.Client(base_url=str(client.base_url))
    csrf = login_form(client)
    forged = cookieless.post(
        "/admin/login", data={"csrf": csrf, "username": "maria", "password": PASSWORD}
    )
    assert forged.status_code == 403  # the field is bound to the browser's login cookie
    cookieless.close()


def test_wrong_password_is_refused(client, staff):
    reply = sign_in(client, "not the password")
    assert reply.status_code == 401 and "Wrong username or password." in reply.text
    assert "mf_session" not in client.cookies


def test_login_sets_an_httponly_lax_cookie_and_shows_recent_answers(client, site, staff):
    token = site.token(site.request("csat"))
    client.post(
        f"/r/{token}",
        data={"a": "2", "comment": "<b>slow</b>", "csrf": form_field(site.settings, token, "link")},
    )
    reply = sign_in(client)
    assert reply.status_code == 303 and reply.headers["location"] == "/admin"
    cookie = reply.headers["set-cookie"]
    assert "mf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/admin")
    assert page.status_code == 200
    assert "Последние ответы" in page.text  # the user's locale
    assert "&lt;b&gt;slow&lt;/b&gt;" in page.text and "<b>slow</b>" not in page.text
    assert 'action="/admin/logout"' in page.text


def test_tampered_session_cookie_is_refused(client, staff):
    sign_in(client)
    value = client.cookies["mf_session"]
    flipped = ("B" if value[0] == "A" else "A") + value[1:]
    client.cookies.set("mf_session", flipped)
    assert client.get("/admin").status_code == 303


def test_logout_needs_csrf_and_ends_the_session(client, staff):
    sign_in(client)
    page = client.get("/admin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/admin/logout", data={}).status_code == 403
    assert client.post("/admin/logout", data={"csrf": "x" * 32}).status_code == 403
    out = client.post("/admin/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert "mf_session" not in client.cookies
    assert client.get("/admin").status_code == 303


def test_next_cannot_leave_the_site(client, staff):
    csrf = login_form(client)
    reply = client.post(
        "/admin/login",
        data={"csrf": csrf, "username": "maria", "password": PASSWORD, "next": "//evil.example"},
    )
    assert reply.headers["location"] == "/admin"
