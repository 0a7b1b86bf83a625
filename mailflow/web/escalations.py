"""Admin pages for escalations: open and resolved, who, when, what was answered; resolving
takes a note that becomes a comment on the subtask (mailflow.escalation.resolve does the work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from mailflow.escalation.resolve import (
    STATUSES,
    AlreadyResolved,
    EmptyNote,
    EscalationNotFound,
    EscalationView,
    get_escalation,
    list_escalations,
    resolve,
)
from mailflow.facts import gather
from mailflow.notice_words import words
from mailflow.settings import Settings
from mailflow.web.auth import admin_page, require_csrf, require_user
from mailflow.web.context import web
from mailflow.web.limits import DbId
from storage.models import Escalation, SurveyRequest, User
from storage.states import EscalationStatus

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Detail:
    """One escalation with its analytics row in the reader's language."""

    view: EscalationView
    rows: list[tuple[str, str]]
    ticket_url: str | None


def _summary(view: EscalationView) -> str:
    response = view.response
    answers = ", ".join(f"{k}: {v}" for k, v in response.answers.items() if k != "score")
    parts = [f"{response.survey_key}:"]
    if response.score is not None:
        parts.append(str(response.score))
    if answers:
        parts.append(answers)
    return " ".join(parts)


def _detail(session: Session, settings: Settings, escalation_id: int, locale: str) -> Detail:
    view = get_escalation(session, escalation_id)
    request = session.get(SurveyRequest, view.response.request_id)
    try:
        survey = settings.survey(view.response.survey_key)
    except KeyError:  # the survey was removed from the configuration: show the raw answer
        rows = [(k, str(v)) for k, v in view.response.answers.items()]
        rows.append((words(locale)["comment"], view.response.comment or "—"))
        return Detail(view, rows, None)
    facts = gather(session, settings, survey, request, view.response, rule=view.escalation.rule)
    return Detail(view, facts.rows(locale), facts.ticket_url)


def _locale(request: Request, user: User) -> str:
    settings = web(request).settings
    return user.locale if user.locale in settings.locales else settings.default_locale


@router.get("/admin/escalations", response_class=HTMLResponse)
async def escalation_list(
    request: Request, status: str | None = None, user: User = Depends(require_user)
) -> HTMLResponse:
    """Open escalations by default; ?status=resolved or ?status= for all."""
    chosen = EscalationStatus.OPEN if status is None else (status if status in STATUSES else None)
    views = await web(request).run_db(lambda s: list_escalations(s, status=chosen))
    return admin_page(
        request,
        user,
        "escalations/list.html",
        w=words(_locale(request, user)),
        views=views,
        summary=_summary,
        status=chosen or "",
    )


@router.get("/admin/escalations/response/{response_id}")
async def by_response(
    response_id: DbId, request: Request, user: User = Depends(require_user)
) -> Response:
    """The link in the manager's email and the subtask: the escalation of a response."""
    found = await web(request).run_db(
        lambda s: s.exec(select(Escalation.id).where(Escalation.response_id == response_id)).first()
    )
    if found is None:
        return _not_found(request, user)
    return RedirectResponse(f"/admin/escalations/{found}", status_code=303)


def _not_found(request: Request, user: User) -> HTMLResponse:
    w = words(_locale(request, user))
    return admin_page(
        request,
        user,
        "escalations/list.html",
        w=w,
        views=[],
        summary=_summary,
        status="",
        status_code=404,
    )


async def _detail_page(
    request: Request, user: User, escalation_id: int, **context: Any
) -> HTMLResponse:
    ctx = web(request)
    locale = _locale(request, user)
    try:
        detail = await ctx.run_db(lambda s: _detail(s, ctx.settings, escalation_id, locale))
    except EscalationNotFound:
        return _not_found(request, user)
    return admin_page(
        request, user, "escalations/detail.html", w=words(locale), detail=detail, **context
    )


@router.get("/admin/escalations/{escalation_id}", response_class=HTMLResponse)
async def escalation_detail(
    escalation_id: DbId, request: Request, done: int = 0, user: User = Depends(require_user)
) -> HTMLResponse:
    """Who, when, what was answered, and the resolve form while it is open."""
    return await _detail_page(request, user, escalation_id, done=bool(done), error=None)


@router.post("/admin/escalations/{escalation_id}/resolve")
async def escalation_resolve(
    escalation_id: DbId, request: Request, user: User = Depends(require_csrf)
) -> Response:
    """Resolve with a note (a comment on the subtask); refusals re-show the page with why."""
    form = await request.form()
    note = form.get("note")
    w = words(_locale(request, user))
    try:
        await web(request).run_db(
            lambda s: resolve(
                s, escalation_id, note if isinstance(note, str) else "", by=user.username
            )
        )
    except EmptyNote:
        return await _detail_page(
            request,
            user,
            escalation_id,
            done=False,
            error=w["page_note_required"],
            status_code=400,
        )
    except AlreadyResolved:
        return await _detail_page(
            request,
            user,
            escalation_id,
            done=False,
            error=w["page_already_resolved"],
            status_code=409,
        )
    except EscalationNotFound:
        return _not_found(request, user)
    return RedirectResponse(f"/admin/escalations/{quote(str(escalation_id))}?done=1", 303)
