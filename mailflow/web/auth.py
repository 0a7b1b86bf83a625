"""Admin sign-in: login/logout pages, the signed session cookie, and CSRF for admin forms.

How to build an admin page on this (reports, dashboard, escalations):

    from fastapi import APIRouter, Depends, Request
    from mailflow.web.auth import admin_page, require_csrf, require_user
    from storage.models import User

    router = APIRouter(include_in_schema=False)

    @router.get("/admin/escalations")
    async def escalations(request: Request, user: User = Depends(require_user)):
        rows = await web(request).run_db(lambda session: ...)
        return admin_page(request, user, "escalations.html", rows=rows)

    @router.post("/admin/escalations/{id}/resolve")
    async def resolve(id: int, request: Request, user: User = Depends(require_csrf)):
        ...  # the form carried <input type="hidden" name="csrf" value="{{ csrf }}">

`admin_page` renders a template extending base.html in the user's locale with `user` and
`csrf` set (base.html then shows the admin navigation and the sign-out button). Someone not
signed in is redirected to /admin/login and comes back afterwards.

The session cookie (HttpOnly, SameSite=Lax, Secure on https) is `user.expires.nonce.mac`, the
MAC (HMAC-SHA256 with the secret key) covering the user id, the expiry, the nonce and the user's
password hash, so changing a password ends every session of that user. The CSRF token is
HMAC("csrf", nonce): bound to the session, so another site can neither read nor forge it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mailflow.auth import authenticate
from mailflow.web.context import web
from mailflow.web.csrf import check_value, sign_value
from mailflow.web.errors import CsrfFailed
from mailflow.web.guards import limit_posts
from storage.engine import session_scope
from storage.models import User

SESSION_COOKIE = "mf_session"
LOGIN_COOKIE = "mf_login"
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""

    def __init__(self, next_path: str):
        super().__init__("login required")
        self.next_path = next_path


def _mac(request: Request, user: User, expires: str, nonce: str) -> str:
    return sign_value(
        web(request).settings, "session", str(user.id), expires, nonce, user.password_hash
    )


def _secure(request: Request) -> bool:
    return web(request).settings.web.base_url.startswith("https://")


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def start_session(request: Request, response: Response, user: User) -> None:
    """Sign `user` in on `response`."""
    seconds = int(web(request).settings.web.session_hours * 3600)
    expires, nonce = str(int(time.time()) + seconds), secrets.token_urlsafe(16)
    value = f"{user.id}.{expires}.{nonce}.{_mac(request, user, expires, nonce)}"
    _set_cookie(request, response, SESSION_COOKIE, value, seconds)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


async def require_user(request: Request) -> User:
    """The signed-in staff user; redirects to the login page otherwise."""
    ctx = web(request)
    parts = (request.cookies.get(SESSION_COOKIE) or "").split(".")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        raise LoginRequired(path)
    user_id, expires, nonce, mac = parts
    if int(expires) < time.time():
        raise LoginRequired(path)
    user = await ctx.run_db(lambda session: session.get(User, int(user_id)))
    if user is None or not check_value(
        ctx.settings, mac, "session", str(user.id), expires, nonce, user.password_hash
    ):
        raise LoginRequired(path)
    request.state.csrf = sign_value(ctx.settings, "csrf", nonce)
    return user


async def require_csrf(request: Request, user: User = Depends(require_user)) -> User:
    """require_user plus a form field `csrf` matching the session (for admin POSTs)."""
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, request.state.csrf):
        raise CsrfFailed(user.locale)
    return user


def admin_page(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    """An admin page in the user's locale, with `user` and `csrf` for base.html and forms."""
    ctx = web(request)
    locale = user.locale if user.locale in ctx.settings.locales else ctx.settings.default_locale
    context.setdefault("status_code", 200)
    return ctx.pages.render(template, locale=locale, user=user, csrf=request.state.csrf, **context)


def _login_page(
    request: Request, nonce: str, *, error: bool, next_path: str, status: int
) -> HTMLResponse:
    ctx = web(request)
    response = ctx.pages.render(
        "login.html",
        locale=ctx.locale_for(request),
        status_code=status,
        error=error,
        next_path=next_path,
        login_csrf=sign_value(ctx.settings, "login", nonce),
    )
    _set_cookie(request, response, LOGIN_COOKIE, nonce, 3600)
    return response


@router.get("/admin/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form; sets a short-lived cookie the form's CSRF field is bound to."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    return _login_page(request, nonce, error=False, next_path=_safe_next(next), status=200)


@router.post("/admin/login", dependencies=[Depends(limit_posts)])
async def login(request: Request) -> Response:
    """Check the password (argon2, in a worker thread) and start a session."""
    ctx = web(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not check_value(ctx.settings, fields.get("csrf"), "login", nonce):
        raise CsrfFailed()
    next_path = _safe_next(fields.get("next"))

    def check() -> User | None:
        with session_scope(ctx.engine) as session:
            return authenticate(session, fields.get("username", ""), fields.get("password", ""))

    user = await run_in_threadpool(check)
    if user is None:
        return _login_page(request, nonce, error=True, next_path=next_path, status=401)
    response = RedirectResponse(next_path, status_code=303)
    start_session(request, response, user)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/admin/logout")
async def logout(request: Request, user: User = Depends(require_csrf)) -> Response:
    """End the session."""
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def install_auth(app: FastAPI) -> None:
    """The login routes and the redirect of LoginRequired to the login page."""
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/admin/login?next={quote(exc.next_path)}", status_code=303)
