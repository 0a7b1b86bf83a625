"""/admin/users (admins only): invite, list, change role, disable, delete, reset a password;
and /admin/password/<token>, where an invited user chooses their password (no login needed).

Invites and resets are e-mailed through the notifications queue (mailflow.web.invites); the
admin also sees the one-time link, for when mail is not set up yet. Errors are shown next to
their field; nothing typed is lost.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from mailflow.auth import (
    ROLES,
    AuthError,
    DuplicateName,
    check_password,
    create_user,
    delete_user,
    disable_user,
    end_sessions,
    hash_password,
    list_users,
    open_session,
    set_role,
    unusable,
)
from mailflow.i18n import t
from mailflow.web.auth import admin_page, start_session
from mailflow.web.context import web
from mailflow.web.csrf import check_form_field, form_field
from mailflow.web.errors import CsrfFailed, NotFound
from mailflow.web.guards import require_role, require_role_csrf
from mailflow.web.invites import LINK_HOURS, invite_link, queue_invite, user_of_token
from mailflow.web.limits import DbId
from storage.models import Employee, User

router = APIRouter(include_in_schema=False)
USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
admin_only = require_role("admin")
admin_post = require_role_csrf("admin")


@dataclass
class InviteForm:
    """What the invite form holds, and the error key of each field that is wrong."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _employees(session: Session) -> list[Employee]:
    return list(session.exec(select(Employee).order_by(col(Employee.name))))


async def _page(
    request: Request,
    user: User,
    *,
    form: InviteForm | None = None,
    notice: str | None = None,
    link: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    def load(session: Session) -> dict[str, Any]:
        employees = _employees(session)
        return {
            "users": list_users(session),
            "employees": employees,
            "employee_names": {e.id: e.name for e in employees},
        }

    data = await web(request).run_db(load)
    return admin_page(
        request,
        user,
        "users/list.html",
        form=form or InviteForm({"role": "agent", "locale": user.locale}),
        roles=ROLES,
        locales=web(request).settings.locales,
        notice=notice,
        link=link,
        status_code=status,
        **data,
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request, user: User = Depends(admin_only)) -> HTMLResponse:
    """Every staff user with their role and state, and the invite form."""
    return await _page(request, user)


def _check_invite(fields: dict[str, str], locales: list[str], employees: set[int]) -> InviteForm:
    form = InviteForm(
        {k: fields.get(k, "").strip() for k in ("username", "email", "role", "employee", "locale")}
    )
    v, errors = form.values, form.errors
    if not USERNAME_RE.match(v["username"]):
        errors["username"] = "users_err_username"
    try:
        v["email"] = validate_email(v["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        errors["email"] = "users_err_email"
    if v["role"] not in ROLES:
        errors["role"] = "users_err_role"
    if v["role"] == "agent" and not (v["employee"].isdigit() and int(v["employee"]) in employees):
        errors["employee"] = "users_err_employee"
    if v["locale"] not in locales:
        errors["locale"] = "users_err_locale"
    return form


@router.post("/admin/users/invite", response_class=HTMLResponse)
async def invite(request: Request, user: User = Depends(admin_post)) -> HTMLResponse:
    """Create the user without a password and e-mail them a one-time set-password link."""
    ctx = web(request)
    raw = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    employees = await ctx.run_db(lambda s: {e.id for e in _employees(s) if e.id is not None})
    form = _check_invite(raw, ctx.settings.locales, employees)
    if form.errors:
        return await _page(request, user, form=form, status=400)
    v = form.values

    def work(session: Session) -> str:
        created = create_user(
            session,
            v["username"],
            None,
            v["locale"],
            role=v["role"],
            employee_id=int(v["employee"]) if v["role"] == "agent" else None,
            email=v["email"],
        )
        session.flush()
        return queue_invite(session, ctx.settings, created)

    try:
        link = await ctx.run_db(work)
    except DuplicateName:
        form.errors["username"] = "users_err_taken"
        return await _page(request, user, form=form, status=400)
    notice = ("users_invited", {"name": v["username"], "email": v["email"], "hours": LINK_HOURS})
    return await _page(request, user, notice=_say(user, notice), link=link)


def _say(user: User, notice: tuple[str, dict[str, Any]]) -> str:
    return t(user.locale, notice[0], **notice[1])


def _target(session: Session, user_id: int) -> User:
    target = session.get(User, user_id)
    if target is None:
        raise NotFound()
    return target


@router.post("/admin/users/{user_id}/{action}", response_class=HTMLResponse)
async def act(
    user_id: DbId, action: str, request: Request, user: User = Depends(admin_post)
) -> HTMLResponse:
    """disable | enable | delete | reset | role, on one user (never on oneself, but role)."""
    ctx = web(request)
    if action not in ("disable", "enable", "delete", "reset", "role"):
        raise NotFound()
    if user_id == user.id and action != "role":
        return await _page(request, user, notice=_say(user, ("users_not_self", {})), status=400)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def work(session: Session) -> tuple[str, dict[str, Any], str | None]:
        target = _target(session, user_id)
        name = target.username
        if action == "disable":
            disable_user(session, name, True)
            return "users_disabled", {"name": name}, None
        if action == "enable":
            disable_user(session, name, False)
            return "users_enabled", {"name": name}, None
        if action == "delete":
            delete_user(session, name)
            return "users_deleted", {"name": name}, None
        if action == "role":
            if target.id == user.id:
                return "users_not_self", {}, None
            employee = form.get("employee", "")
            set_role(
                session, name, form.get("role", ""), int(employee) if employee.isdigit() else None
            )
            return "users_role_saved", {"name": name}, None
        target.password_hash = unusable()
        session.add(target)
        end_sessions(session, target)
        session.flush()
        link = queue_invite(session, ctx.settings, target) if target.email else None
        if link is None:
            link = invite_link(ctx.settings, target)
        return "users_reset_done", {"name": name, "email": target.email or "—"}, link

    try:
        key, values, link = await ctx.run_db(work)
    except AuthError as exc:
        message = _say(user, ("users_err_employee", {})) if "employee" in str(exc) else str(exc)
        return await _page(request, user, notice=message, status=400)
    return await _page(request, user, notice=_say(user, (key, values)), link=link)


# --- choosing a password through the link --------------------------------------------------------
def _password_page(
    request: Request, token: str, locale: str, *, error: str | None, status: int
) -> HTMLResponse:
    ctx = web(request)
    return ctx.pages.render(
        "users/password.html",
        locale=locale,
        status_code=status,
        token=token,
        error=error,
        form_csrf=form_field(ctx.settings, token, "password"),
    )


@router.get("/admin/password/{token}", response_class=HTMLResponse)
async def password_page(token: str, request: Request) -> HTMLResponse:
    """The form an invited (or reset) user chooses their password on; dead links 404."""
    ctx = web(request)
    found = await ctx.run_db(lambda s: user_of_token(s, ctx.settings, token))
    if found is None:
        raise NotFound(ctx.locale_for(request))
    return _password_page(request, token, found.locale, error=None, status=200)


@router.post("/admin/password/{token}")
async def choose_password(token: str, request: Request) -> Response:
    """Set the password (the link dies with the old hash) and sign the user in."""
    ctx = web(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not check_form_field(ctx.settings, token, "password", form.get("csrf")):
        raise CsrfFailed()
    password, again = form.get("password", ""), form.get("again", "")

    def work(session: Session) -> tuple[str | None, str | None, str]:
        found = user_of_token(session, ctx.settings, token)
        if found is None:
            return None, "dead", ctx.locale_for(request)
        if not secrets.compare_digest(password.encode(), again.encode()):
            return None, "password_mismatch", found.locale
        try:
            check_password(password, found.username)
        except AuthError:
            return None, "password_weak", found.locale
        found.password_hash = hash_password(password, found.username)
        session.add(found)
        end_sessions(session, found)
        return open_session(session, found, ctx.settings.web.session_hours), None, found.locale

    session_token, error, locale = await ctx.run_db(work)
    if error == "dead":
        raise NotFound(locale)
    if session_token is None:
        return _password_page(request, token, locale, error=error, status=400)
    response = RedirectResponse("/admin", status_code=303)
    start_session(request, response, session_token)
    return response
