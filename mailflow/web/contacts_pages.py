"""/admin/contacts: search and filter contacts, export them as CSV, and one contact's page:
history of requests and answers, VIP flag, language, unsubscribe and bounce status with undo
(and when and why they were set), merging another contact into it. The record work is
mailflow.contacts (shared with `mailflow contacts show|unbounce|merge`)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from mailflow.console_words import console_words, request_reason
from mailflow.contacts import (
    ContactNotFound,
    MergeRefused,
    merge_contacts,
    resubscribe,
    unbounce,
    unsubscribe,
)
from mailflow.web.auth import admin_page, console_guard, user_locale
from mailflow.web.context import web
from mailflow.web.limits import DbId
from mailflow.web.listing import ListSpec, Page, paginate
from storage.clock import as_utc
from storage.models import Contact, SurveyRequest, User
from storage.models import Response as Answer

router = APIRouter(include_in_schema=False)
BASE = "/admin/contacts"
STATUSES = ("vip", "unsubscribed", "bounced")
SPEC = ListSpec(
    sorts={
        "id": Contact.id,
        "email": Contact.email,
        "name": Contact.name,
        "created": Contact.created_at,
    },
    default_sort="email",
    filters=("q", "status"),
)
EXPORT_MAX = 100_000
HISTORY = 200


guard = console_guard  # the one place for these pages' checks


_locale = user_locale


def filtered(filters: dict[str, str]) -> Any:
    """The contacts the filters select."""
    query = select(Contact)
    if filters.get("q"):
        needle = f"%{filters['q'].lower()}%"
        query = query.where(
            or_(
                func.lower(Contact.email).like(needle),
                func.lower(Contact.name).like(needle),
                col(Contact.external_id) == filters["q"],
            )
        )
    status = filters.get("status")
    if status == "vip":
        query = query.where(col(Contact.vip).is_(True))
    elif status == "unsubscribed":
        query = query.where(col(Contact.unsubscribed_at).is_not(None))
    elif status == "bounced":
        query = query.where(col(Contact.bounced_at).is_not(None))
    return query


@router.get(BASE, response_class=HTMLResponse)
async def contacts_list(request: Request, user: User = Depends(guard)) -> HTMLResponse:
    """The list; search, status, sort and page live in the query string."""
    locale = _locale(request, user)
    wanted = SPEC.read(request.query_params)
    page: Page = await web(request).run_db(
        lambda s: paginate(s, filtered(wanted.filters), wanted, SPEC)
    )
    return admin_page(
        request,
        user,
        "contacts/list.html",
        c=console_words(locale),
        page=page,
        statuses=STATUSES,
        export=f"{BASE}/export.csv{page.url(page=None)}",
    )


@router.get(BASE + "/export.csv")
async def contacts_export(request: Request, user: User = Depends(guard)) -> Response:
    """The filtered contacts as CSV (UTF-8 with BOM, for spreadsheets)."""
    wanted = SPEC.read(request.query_params)

    def rows(session: Session) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["id", "email", "name", "locale", "vip", "external_id", "team",
             "unsubscribed_at", "bounced_at", "bounce_reason", "created_at"]
        )  # fmt: skip
        query = filtered(wanted.filters).order_by(col(Contact.id)).limit(EXPORT_MAX)
        for c in session.exec(query):
            writer.writerow(
                [
                    c.id, _cell(c.email), _cell(c.name), c.locale or "", "yes" if c.vip else "no",
                    _cell(c.external_id), _cell(c.team),
                    _when(c.unsubscribed_at), _when(c.bounced_at), _cell(c.bounce_reason),
                    _when(c.created_at),
                ]
            )  # fmt: skip
        return "\ufeff" + out.getvalue()

    body = await web(request).run_db(rows)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="contacts.csv"',
            "Cache-Control": "no-store",
        },
    )


def _cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(value: Any) -> str:
    return as_utc(value).isoformat() if value else ""


@dataclass(frozen=True)
class Detail:
    """One contact with its history."""

    contact: Contact
    requests: list[tuple[SurveyRequest, str]]
    answers: list[Answer]


def _detail(session: Session, contact_id: int, locale: str) -> Detail | None:
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    requests = session.exec(
        select(SurveyRequest)
        .where(SurveyRequest.contact_id == contact_id)
        .order_by(col(SurveyRequest.id).desc())
        .limit(HISTORY)
    ).all()
    answers = session.exec(
        select(Answer)
        .join(SurveyRequest, col(SurveyRequest.id) == Answer.request_id)
        .where(SurveyRequest.contact_id == contact_id)
        .order_by(col(Answer.created_at).desc())
        .limit(HISTORY)
    ).all()
    return Detail(
        contact,
        [(r, request_reason(locale, r.state, r.reason, r.last_error)) for r in requests],
        list(answers),
    )


@router.get(BASE + "/{contact_id}", response_class=HTMLResponse)
async def contact_detail(
    contact_id: DbId, request: Request, user: User = Depends(guard)
) -> HTMLResponse:
    """One contact: status with undo, VIP and language, history, merge."""
    ctx = web(request)
    locale = _locale(request, user)
    found = await ctx.run_db(lambda s: _detail(s, contact_id, locale))
    c = console_words(locale)
    if found is None:
        return admin_page(request, user, "contacts/missing.html", c=c, status_code=404)
    return admin_page(
        request,
        user,
        "contacts/detail.html",
        c=c,
        d=found,
        locales=ctx.settings.locales,
        done=request.query_params.get("done", "")[:20],
        refused=request.query_params.get("refused", "")[:300],
    )


ACTIONS = ("save", "unsubscribe", "resubscribe", "unbounce", "merge")


@router.post(BASE + "/{contact_id}/{action}")
async def contact_action(
    contact_id: DbId, action: str, request: Request, user: User = Depends(guard)
) -> Response:
    """save (vip, locale) | unsubscribe | resubscribe | unbounce | merge (with `other`)."""
    ctx = web(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if action not in ACTIONS:
        return RedirectResponse(f"{BASE}/{contact_id}", status_code=303)

    def run(session: Session) -> str | None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return "no such contact"
        if action == "save":
            locale = fields.get("locale", "")
            if locale and locale not in ctx.settings.locales:
                return f"locale: one of {', '.join(ctx.settings.locales)}"  # nothing changed
            contact.vip = fields.get("vip") == "on"
            contact.locale = locale or None
            session.add(contact)
        elif action == "unsubscribe":
            unsubscribe(session, contact)
        elif action == "resubscribe":
            resubscribe(session, contact)
        elif action == "unbounce":
            unbounce(session, contact)
        else:
            try:
                merge_contacts(session, str(contact_id), fields.get("other", "").strip())
            except (ContactNotFound, MergeRefused) as exc:
                return str(exc)
        return None

    why = await ctx.run_db(run)
    target = f"{BASE}/{contact_id}?done={action}"
    if why:
        target += f"&refused={quote(why[:300])}"
    return RedirectResponse(target, status_code=303)
