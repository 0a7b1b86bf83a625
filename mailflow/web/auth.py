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

The session cookie (HttpOnly, SameSite=Lax, Secure on https) is a random token whose SHA-256
is a WebSession row (mailflow.auth): signing out deletes the row, and a password change,
disabling or deleting the user (`mailflow user passwd|disable|delete`) deletes all of that
user's rows, so an old cookie opens nothing. The CSRF token is HMAC("csrf", the row's hash):
bound to the session, so another site can neither read nor forge it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mailflow.auth import authenticate, close_session, open_session, session_key, session_user
from mailflow.web.context import client_address, web
from mailflow.web.csrf import check_value, sign_value
from mailflow.web.errors import CsrfFailed, Forbidden, RateLimited, retry_after
from mailflow.web.navigation import allowed
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


def start_session(request: Request, response: Response, token: str) -> None:
    """Set the cookie of a session opened with mailflow.auth.open_session on `response`."""
    seconds = int(web(request).settings.web.session_hours * 3600)
    _set_cookie(request, response, SESSION_COOKIE, token, seconds)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


async def require_user(request: Request) -> User:
    """The signed-in staff user; redirects to the login page otherwise."""
    ctx = web(request)
    token = request.cookies.get(SESSION_COOKIE) or ""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    user = await ctx.run_db(lambda session: session_user(session, token)) if token else None
    if user is None:
        raise LoginRequired(path)
    request.state.csrf = sign_value(ctx.settings, "csrf", session_key(token))
    request.state.user = user
    if not allowed(user.role, request.url.path):
        raise Forbidden(user.locale)
    return user


async def require_csrf(request: Request, user: User = Depends(require_user)) -> User:
    """require_user plus a form field `csrf` matching the session (for admin POSTs)."""
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, request.state.csrf):
        raise CsrfFailed(user.locale)
    return user


async def console_guard(request: Request) -> User:
    """The console pages' one guard: the signed-in user (their role checked against the
    navigation table by require_user), and on a POST the session's CSRF field."""
    user = await require_user(request)
    if request.method == "POST":
        await require_csrf(request, user)
    return user


def user_locale(request: Request, user: User) -> str:
    """The signed-in user's interface language, or the site's default when it is not offered."""
    settings = web(request).settings
    return user.locale if user.locale in settings.locales else settings.default_locale


def admin_page(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    """An admin page in the user's locale, with `user` and `csrf` for base.html and forms."""
    ctx = web(request)
    locale = user_locale(request, user)
    context.setdefault("status_code", 200)
    context.setdefault("current", request.url.path)
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


@router.post("/admin/login")
async def login(request: Request) -> Response:
    """Check the password (argon2, in a worker thread) and start a session; attempts are
    limited per client address and per username, with growing delays after failures."""
    ctx = web(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not check_value(ctx.settings, fields.get("csrf"), "login", nonce):
        raise CsrfFailed()
    next_path = _safe_next(fields.get("next"))
    hours = ctx.settings.web.session_hours
    address, username = client_address(request), fields.get("username", "")
    wait = ctx.login.check(address, username)
    if wait is not None:
        raise RateLimited(headers=retry_after(wait))

    def check() -> str | None:
        with session_scope(ctx.engine) as session:
            user = authenticate(session, fields.get("username", ""), fields.get("password", ""))
            return open_session(session, user, hours) if user is not None else None

    token = await run_in_threadpool(check)
    if token is None:
        ctx.login.failed(address, username)
        return _login_page(request, nonce, error=True, next_path=next_path, status=401)
    ctx.login.succeeded(address, username)
    response = RedirectResponse(next_path, status_code=303)
    start_session(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/admin/logout")
async def logout(request: Request, user: User = Depends(require_csrf)) -> Response:
    """End the session on the server (the cookie opens nothing afterwards)."""
    token = request.cookies.get(SESSION_COOKIE) or ""
    await web(request).run_db(lambda session: close_session(session, token))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def install_auth(app: FastAPI) -> None:
    """The login routes and the redirect of LoginRequired to the login page."""
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/admin/login?next={quote(exc.next_path)}", status_code=303)
