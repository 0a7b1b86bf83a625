"""Unsubscribe: GET /u/{token} shows a page with a button; POST /u/{token} unsubscribes.

A POST whose body is `List-Unsubscribe=One-Click` (RFC 8058, sent by mail providers from the
List-Unsubscribe header) unsubscribes without a page and needs no form field; it is not rate
limited, since providers post from few addresses. The page's own button posts a form with the
per-token anti-forgery field. Repeats are no-ops: the first unsubscribed_at stays. Unsubscribe
tokens keep working after the survey expires.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlmodel import Session

from mailflow.contacts import unsubscribe as unsubscribe_and_suppress
from mailflow.tokens import Purpose, TokenError
from mailflow.web.context import WebContext, web
from mailflow.web.csrf import check_form_field, form_field
from mailflow.web.errors import CsrfFailed, NotFound, PreviewOnly
from mailflow.web.guards import limit_unsubscribes
from storage.models import Contact, SurveyRequest

router = APIRouter(include_in_schema=False)
FORM_PURPOSE = "unsubscribe"


def _contact(session: Session, ctx: WebContext, token: str) -> tuple[Contact, str]:
    """The contact a token names and the locale to talk to them in, or NotFound."""
    try:
        request_id = ctx.signer.verify(token, Purpose.UNSUBSCRIBE)
    except TokenError:
        if ctx.signer.is_preview(token):
            raise PreviewOnly() from None
        raise NotFound() from None
    request = session.get(SurveyRequest, request_id)
    contact = session.get(Contact, request.contact_id) if request else None
    if request is None or contact is None:
        raise NotFound()
    settings = ctx.settings
    locale = request.locale if request.locale in settings.locales else settings.default_locale
    return contact, locale


def unsubscribe_contact(session: Session, contact: Contact) -> bool:
    """Mark the contact unsubscribed (and their unsent surveys suppressed); False when it
    already was (the first time is kept)."""
    return unsubscribe_and_suppress(session, contact)


def _page(ctx: WebContext, token: str, locale: str, done: bool) -> HTMLResponse:
    return ctx.pages.render(
        "unsubscribe.html",
        locale=locale,
        done=done,
        action=f"/u/{token}",
        form_csrf=form_field(ctx.settings, token, FORM_PURPOSE),
    )


@router.get("/u/{token}", response_class=HTMLResponse)
async def unsubscribe_page(token: str, request: Request) -> HTMLResponse:
    """The page with the button (or 'you are unsubscribed' when already done)."""
    ctx = web(request)
    contact, locale = await ctx.run_db(lambda session: _contact(session, ctx, token))
    return _page(ctx, token, locale, done=contact.unsubscribed_at is not None)


@router.post("/u/{token}")
async def unsubscribe(token: str, request: Request) -> Response:
    """RFC 8058 one-click (plain 200), or the page's button (the confirmation page)."""
    ctx = web(request)
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        await limit_unsubscribes(request)
        csrf = form.get("csrf")
        if not check_form_field(
            ctx.settings, token, FORM_PURPOSE, csrf if isinstance(csrf, str) else None
        ):
            raise CsrfFailed()

    def work(session: Session) -> str:
        contact, locale = _contact(session, ctx, token)
        unsubscribe_contact(session, contact)
        return locale

    locale = await ctx.write(work)
    if one_click:
        return PlainTextResponse("unsubscribed\n")
    return _page(ctx, token, locale, done=True)
