"""/admin/account (everyone signed in): one's language and password; and POST /admin/locale,
the language buttons of the top bar, which store the language on the user so every page (and
every later session) speaks it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from mailflow.auth import AuthError, hash_password, open_session, verify_password
from mailflow.auth import end_sessions as end_all_sessions
from mailflow.i18n import t
from mailflow.web.auth import _safe_next, admin_page, require_csrf, require_user, start_session
from mailflow.web.context import web
from storage.models import Employee, User

router = APIRouter(include_in_schema=False)


def _save_locale(user_id: int, locale: str):
    def work(session: Session) -> None:
        row = session.get(User, user_id)
        if row is not None:
            row.locale = locale
            session.add(row)

    return work


@router.post("/admin/locale")
async def choose_locale(request: Request, user: User = Depends(require_csrf)) -> Response:
    """Keep the chosen language on the user and go back to the page the button was on."""
    ctx = web(request)
    form = await request.form()
    locale, back = form.get("locale"), form.get("next")
    if isinstance(locale, str) and locale in ctx.settings.locales and user.id is not None:
        await ctx.run_db(_save_locale(user.id, locale))
    return RedirectResponse(_safe_next(back if isinstance(back, str) else None), status_code=303)


async def _page(
    request: Request,
    user: User,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = web(request)
    employee = None
    if user.employee_id is not None:
        employee = await ctx.run_db(lambda s: s.get(Employee, user.employee_id))
    return admin_page(
        request,
        user,
        "account.html",
        locales=ctx.settings.locales,
        employee=employee,
        notice=notice,
        error=error,
        status_code=status,
    )


@router.get("/admin/account", response_class=HTMLResponse)
async def account(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """One's role, language and the password form."""
    saved = request.query_params.get("saved") == "password"
    return await _page(
        request, user, notice=t(user.locale, "account_password_saved") if saved else None
    )


@router.post("/admin/account/language", response_class=HTMLResponse)
async def account_language(request: Request, user: User = Depends(require_csrf)) -> HTMLResponse:
    ctx = web(request)
    locale = (await request.form()).get("locale")
    if not isinstance(locale, str) or locale not in ctx.settings.locales or user.id is None:
        return await _page(request, user, error=t(user.locale, "users_err_locale"), status=400)
    await ctx.run_db(_save_locale(user.id, locale))
    user.locale = locale
    return await _page(request, user, notice=t(locale, "account_language_saved"))


@router.post("/admin/account/password", response_class=HTMLResponse)
async def account_password(request: Request, user: User = Depends(require_csrf)) -> Response:
    """A new password (the current one needed); every session ends, this one starts anew."""
    ctx = web(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    current, new, again = form.get("current", ""), form.get("password", ""), form.get("again", "")

    def work(session: Session) -> tuple[str | None, str | None]:
        row = session.get(User, user.id)
        if row is None or not verify_password(row.password_hash, current):
            return None, "account_wrong_current"
        if new != again:
            return None, "password_mismatch"
        try:
            row.password_hash = hash_password(new, row.username)
        except AuthError:
            return None, "password_weak"
        session.add(row)
        end_all_sessions(session, row)
        return open_session(session, row, ctx.settings.web.session_hours), None

    token, error = await ctx.run_db(work)
    if token is None:
        return await _page(request, user, error=t(user.locale, error or ""), status=400)
    response = RedirectResponse("/admin/account?saved=password", status_code=303)
    start_session(request, response, token)  # the old cookie (and its CSRF field) are dead
    return response
