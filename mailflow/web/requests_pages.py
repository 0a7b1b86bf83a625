"""/admin/requests: survey requests with search and filters (state, survey, contact, ticket),
the reason for suppressed, failed and bounced ones in plain words, and resend, cancel,
reschedule, and retry of failed ones in bulk (mailflow.outbox: the CLI's functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from mailflow.console_words import console_words, request_reason
from mailflow.outbox.resend import ResendRefused, resend_request
from mailflow.outbox.retry import retry_requests
from mailflow.outbox.staff import RequestActionRefused, cancel_request, reschedule_request
from mailflow.outbox.transports import SendError
from mailflow.web.auth import admin_page, console_guard, user_locale
from mailflow.web.context import web
from mailflow.web.limits import DbId
from mailflow.web.listing import ListSpec, Page, paginate
from storage.engine import session_scope
from storage.models import REQUEST_STATES, Contact, SurveyRequest, Task, User
from storage.states import RequestState

router = APIRouter(include_in_schema=False)
BASE = "/admin/requests"
SPEC = ListSpec(
    sorts={
        "id": SurveyRequest.id,
        "due": SurveyRequest.due_at,
        "sent": SurveyRequest.sent_at,
        "state": SurveyRequest.state,
        "survey": SurveyRequest.survey_key,
        "contact": Contact.email,
    },
    default_sort="-id",
    filters=("state", "survey", "q", "ticket"),
)
MAX_BULK = 500


guard = console_guard  # the one place for these pages' checks


_locale = user_locale


@dataclass(frozen=True)
class Row:
    """One request in the list."""

    request: SurveyRequest
    contact: Contact
    ticket: Task | None
    why: str


def filtered(filters: dict[str, str]) -> Any:
    """The requests the filters select, with contact and ticket."""
    query = (
        select(SurveyRequest, Contact, Task)
        .join(Contact, col(Contact.id) == SurveyRequest.contact_id)
        .outerjoin(Task, col(Task.id) == SurveyRequest.ticket_id)
    )
    if filters.get("state") in REQUEST_STATES:
        query = query.where(col(SurveyRequest.state) == filters["state"])
    if filters.get("survey"):
        query = query.where(col(SurveyRequest.survey_key) == filters["survey"])
    if filters.get("q"):
        needle = f"%{filters['q'].lower()}%"
        query = query.where(
            or_(func.lower(Contact.email).like(needle), func.lower(Contact.name).like(needle))
        )
    if filters.get("ticket"):
        query = query.where(col(Task.external_ref) == filters["ticket"])
    return query


def list_page(session: Session, params: Any, locale: str) -> Page:
    """One page of requests for the query string `params`."""
    wanted = SPEC.read(params)
    page = paginate(session, filtered(wanted.filters), wanted, SPEC)
    rows = [
        Row(r, c, t, request_reason(locale, r.state, r.reason, r.last_error))
        for r, c, t in page.rows
    ]
    return Page(rows, page.total, page.wanted)


@router.get(BASE, response_class=HTMLResponse)
async def requests_list(request: Request, user: User = Depends(guard)) -> HTMLResponse:
    """The list; filters, sort and page live in the query string."""
    ctx = web(request)
    locale = _locale(request, user)
    page = await ctx.run_db(lambda s: list_page(s, request.query_params, locale))
    done = request.query_params.get("done", "")
    return admin_page(
        request,
        user,
        "requests/list.html",
        c=console_words(locale),
        page=page,
        states=REQUEST_STATES,
        surveys=[s.key for s in ctx.settings.surveys],
        done=done if done.isdigit() or done == "ok" else "",
        refused=request.query_params.get("refused", "")[:300],
        back=str(request.url.query),
    )


def _back(form: Any) -> str:
    back = form.get("back")
    if not isinstance(back, str) or "\n" in back or "\r" in back:
        return ""
    return "&".join(p for p in back.split("&") if p and not p.startswith(("done=", "refused=")))


@router.post(BASE + "/retry")
async def requests_retry(request: Request, user: User = Depends(guard)) -> Response:
    """Retry failed requests: the selected ones, or every failed one the filters show."""
    ctx = web(request)
    form = await request.form()
    back = _back(form)
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()][:MAX_BULK]
    if form.get("scope") != "selected":
        filters = SPEC.read(dict(parse_qsl(back))).filters

        def failed_ids() -> list[int]:
            with session_scope(ctx.engine) as session:
                query = filtered({**filters, "state": RequestState.FAILED})
                return [int(r.id) for r, _, _ in session.exec(query) if r.id is not None]

        ids = await run_in_threadpool(failed_ids)
    count = await run_in_threadpool(lambda: retry_requests(ctx.engine, ids=ids) if ids else 0)
    return RedirectResponse(f"{BASE}?{back}&done={count}", status_code=303)


def _parse_time(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@router.post(BASE + "/{request_id}/{action}")
async def request_action(
    request_id: DbId, action: str, request: Request, user: User = Depends(guard)
) -> Response:
    """resend | cancel | reschedule (with `due`) one request."""
    ctx = web(request)
    form = await request.form()
    back = _back(form)
    c = console_words(_locale(request, user))
    why: str | None = None
    if action == "resend":
        try:
            await run_in_threadpool(
                lambda: resend_request(ctx.settings, ctx.engine, request_id, force=True)
            )
        except (ResendRefused, SendError) as exc:
            why = str(exc)
    elif action == "cancel":
        try:
            await ctx.run_db(lambda s: cancel_request(s, request_id, by=user.username))
        except RequestActionRefused as exc:
            why = str(exc)
    elif action == "reschedule":
        due_text = form.get("due")
        due = _parse_time(due_text) if isinstance(due_text, str) else None
        if due is None:
            why = c["con_rq_bad_time"]
        else:
            try:
                await ctx.run_db(lambda s: reschedule_request(s, request_id, due))
            except RequestActionRefused as exc:
                why = str(exc)
    else:
        return RedirectResponse(f"{BASE}?{back}", status_code=303)
    target = f"{BASE}?{back}&done=ok" if why is None else f"{BASE}?{back}&refused={quote(why)}"
    return RedirectResponse(target + f"#request-{request_id}", status_code=303)
