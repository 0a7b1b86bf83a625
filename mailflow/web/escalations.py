"""The escalation workspace at /admin/escalations: one list (open / mine / unassigned /
overdue / resolved / all, search, sort, pages), and one escalation's page with its answer,
the client's history, the rated ticket's comments, the timeline and the actions (assign,
internal comment, reply to the client by email, resolve with a note, reopen).

Reads are mailflow.web.escalation_queries, actions mailflow.escalation.workspace; every page
here is guarded by `guard` (the lead swaps in role checks there)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from mailflow.console_words import console_words
from mailflow.escalation import workspace as ws
from mailflow.escalation.resolve import EscalationNotFound, EscalationRefused
from mailflow.notice_words import words
from mailflow.web import escalation_queries as eq
from mailflow.web.auth import admin_page, console_guard, user_locale
from mailflow.web.context import web
from mailflow.web.limits import DbId
from storage.models import Escalation, User

router = APIRouter(include_in_schema=False)
BASE = "/admin/escalations"


guard = console_guard  # the one place for these pages' checks


_locale = user_locale


def _page(request: Request, user: User, template: str, **context: Any) -> HTMLResponse:
    locale = _locale(request, user)
    return admin_page(request, user, template, w=words(locale), c=console_words(locale), **context)


@router.get(BASE, response_class=HTMLResponse)
async def escalation_list(
    request: Request, status: str | None = None, user: User = Depends(guard)
) -> HTMLResponse:
    """The list; filters, sort and page live in the query string."""
    ctx = web(request)
    wanted = eq.read_wanted(request.query_params, status)
    page = await ctx.run_db(
        lambda s: eq.list_page(s, ctx.settings, wanted, user_id=user.id or 0, now=ws.now())
    )
    surveys = [s.key for s in ctx.settings.surveys]
    return _page(request, user, "escalations/list.html", page=page, views=eq.VIEWS, surveys=surveys)


@router.get(BASE + "/response/{response_id}")
async def by_response(response_id: DbId, request: Request, user: User = Depends(guard)) -> Response:
    """The link in the manager's email and the subtask: the escalation of a response."""
    found = await web(request).run_db(
        lambda s: s.exec(select(Escalation.id).where(Escalation.response_id == response_id)).first()
    )
    if found is None:
        return _not_found(request, user)
    return RedirectResponse(f"{BASE}/{found}", status_code=303)


def _not_found(request: Request, user: User) -> HTMLResponse:
    return _page(request, user, "escalations/missing.html", status_code=404)


async def _detail_page(
    request: Request, user: User, escalation_id: int, **context: Any
) -> HTMLResponse:
    ctx = web(request)
    locale = _locale(request, user)
    try:
        found = await ctx.run_db(
            lambda s: eq.detail(s, ctx.settings, escalation_id, locale, ws.now())
        )
    except EscalationNotFound:
        return _not_found(request, user)
    context.setdefault("done", "")
    context.setdefault("error", None)
    return _page(request, user, "escalations/detail.html", detail=found, **context)


@router.get(BASE + "/{escalation_id}", response_class=HTMLResponse)
async def escalation_detail(
    escalation_id: DbId, request: Request, done: str = "", user: User = Depends(guard)
) -> HTMLResponse:
    """The escalation's page; `done` names the action just done (a notice)."""
    return await _detail_page(request, user, escalation_id, done=done[:20])


def _refusal_text(locale: str, exc: EscalationRefused) -> tuple[str, int]:
    """A refusal in the reader's words and its status code."""
    w, c = words(locale), console_words(locale)
    table: dict[type, tuple[str, int]] = {
        ws.AlreadyResolved: (w["page_already_resolved"], 409),
        ws.NotOpen: (c["con_not_open"], 409),
        ws.AlreadyOpen: (c["con_already_open"], 409),
        ws.UnknownUser: (c["con_unknown_user"], 400),
        ws.NoClientEmail: (c["con_no_client_email"], 409),
    }
    return table.get(type(exc), (c["con_empty_text"], 400))


async def _act(request: Request, user: User, escalation_id: int, action: str) -> Response:
    """Run one action in a transaction; refusals re-show the page with the reason."""
    ctx = web(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    by = user.username

    def run(session: Session) -> None:
        settings = ctx.settings
        if action == "assign":
            try:
                assignee = int(fields.get("assignee", ""))
            except ValueError:
                raise ws.UnknownUser("assignee: not a number") from None
            ws.assign(session, settings, escalation_id, assignee, by=by)
        elif action == "comment":
            ws.comment(session, settings, escalation_id, fields.get("text", ""), by=by)
        elif action == "reply":
            signature = ws.staff_name(session, user)
            ws.reply_to_client(
                session,
                settings,
                escalation_id,
                fields.get("text", ""),
                by=by,
                signature=f"{signature}, {settings.brand.company}",
            )
        elif action == "resolve":
            ws.resolve_with_note(session, settings, escalation_id, fields.get("note", ""), by=by)
        elif action == "reopen":
            ws.reopen(session, settings, escalation_id, by=by)

    try:
        await ctx.run_db(run)
    except EscalationNotFound:
        return _not_found(request, user)
    except EscalationRefused as exc:
        locale = _locale(request, user)
        if action == "resolve" and isinstance(exc, ws.EmptyNote):
            text, code = words(locale)["page_note_required"], 400
        else:
            text, code = _refusal_text(locale, exc)
        return await _detail_page(
            request, user, escalation_id, error=text, status_code=code, draft=fields, failed=action
        )
    return RedirectResponse(f"{BASE}/{escalation_id}?done={action}#timeline", status_code=303)


@router.post(BASE + "/{escalation_id}/{action}")
async def escalation_action(
    escalation_id: DbId, action: str, request: Request, user: User = Depends(guard)
) -> Response:
    """assign | comment | reply | resolve | reopen (an unknown action is a 404)."""
    if action not in ("assign", "comment", "reply", "resolve", "reopen"):
        return _not_found(request, user)
    return await _act(request, user, escalation_id, action)
